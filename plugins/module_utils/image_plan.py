"""Which images of an ImageStream to copy, from where to where (plugin-spec §5.3, §5.5).

Pure functions: the copy engine (image_copy.py) runs the plan, the ImageStream backup and
restore steps and the imagestream_copy module build it.

Backup copies every internal image of a stream from the source cluster's internal registry to
the migration registry, under ``<stream namespace>/<stream name>``; restore copies them from
there to the destination cluster's internal registry, under the mapped namespace. A restore
reads the repository the backup wrote (``<stream namespace>/<stream name>@<digest>``), not the
repository named by ``dockerImageReference``: an image that the stream pulled through from
another repository exists in the migration registry only under this stream's name.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

TRANSPORT = "docker://"
MODES = ("backup", "restore")


@dataclass(frozen=True)
class ImageCopy:
    src: str  # "docker://host/ns/name@sha256:..."
    dest: str  # "docker://host/destns/isname:tag", or without ":tag" for a by-digest-only copy
    tag: str  # status.tags[tag_index].tag
    tag_index: int
    item_index: int  # index in status.tags[tag_index].items
    image: str  # digest the stream records (items[item_index].image)
    by_digest_only: bool


class ImageCopyError(Exception):
    """The plan cannot be made; the message names the stream and the fix."""


def _registry_part(registry: str) -> str:
    """Host[:port][/path] of a registry option, tolerating a docker:// prefix or trailing '/'."""
    return registry.removeprefix(TRANSPORT).rstrip("/")


def _copies_to_tag(imagestream: dict, tag: str) -> bool:
    """A tag keeps its name at the destination unless its spec makes it track something else.

    Tags that follow another ImageStreamTag, a DockerImage or an ImageStreamImage of another
    namespace are recreated at restore time from their spec; only their images are copied.
    """
    namespace = imagestream.get("metadata", {}).get("namespace") or ""
    for spec_tag in (imagestream.get("spec") or {}).get("tags") or []:
        if spec_tag.get("name") != tag:
            continue
        source = spec_tag.get("from")
        if source is None:
            return True
        return source.get("kind") == "ImageStreamImage" and (
            source.get("namespace") or "") in ("", namespace)
    return True


def _stream_label(imagestream: dict) -> str:
    metadata = imagestream.get("metadata") or {}
    return f"ImageStream {metadata.get('namespace') or '?'}/{metadata.get('name') or '?'}"


def plan_imagestream_copies(imagestream: dict, *, mode: str, internal_registry: str,
                            src_registry: str, dest_registry: str,
                            dest_namespace: str) -> list[ImageCopy]:
    """The copies that move a stream's internal images, in the order they must run.

    Items of a tag are listed oldest first so that the newest image is pushed last and ends up
    on the tag. Images whose reference does not start with ``internal_registry`` (external
    images) are left out: their tags come back from the stream's spec.
    """
    if mode not in MODES:
        raise ImageCopyError(f"unknown copy mode {mode!r}: use one of {', '.join(MODES)}")
    label = _stream_label(imagestream)
    metadata = imagestream.get("metadata") or {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not name or not namespace:
        raise ImageCopyError(f"{label} has no metadata.name or metadata.namespace: pass the "
                             "ImageStream object as stored in the backup")
    source, destination = _registry_part(src_registry), _registry_part(dest_registry)
    copies: list[ImageCopy] = []
    for tag_index, status_tag in enumerate((imagestream.get("status") or {}).get("tags") or []):
        tag = status_tag.get("tag") or ""
        to_tag = _copies_to_tag(imagestream, tag)
        items = status_tag.get("items") or []
        for item_index in reversed(range(len(items))):
            item = items[item_index]
            reference = item.get("dockerImageReference") or ""
            if not internal_registry or not reference.startswith(internal_registry):
                continue
            if not source:
                raise ImageCopyError(f"{label} has internal images but no copy source registry "
                                     "is set: give src_registry")
            if not destination:
                raise ImageCopyError(f"{label} has internal images but no copy destination "
                                     "registry is set: give dest_registry")
            digest = item.get("image") or ""
            if mode == "backup":
                src = TRANSPORT + source + reference[len(internal_registry):]
            elif not digest.startswith("sha256:"):
                raise ImageCopyError(f"{label} tag {tag!r} item {item_index} records no image "
                                     "digest: restore needs the stream as written by the backup")
            else:
                src = f"{TRANSPORT}{source}/{namespace}/{name}@{digest}"
            dest = f"{TRANSPORT}{destination}/{dest_namespace}/{name}"
            copies.append(ImageCopy(src=src, dest=dest + (f":{tag}" if to_tag else ""), tag=tag,
                                    tag_index=tag_index, item_index=item_index, image=digest,
                                    by_digest_only=not to_tag))
    return copies


def record_digests(imagestream: dict, digests: dict[tuple[int, int], str]) -> dict:
    """A copy of the stream recording the digests the copies wrote (backup, plugin-spec §5.5).

    ``digests`` maps (tag_index, item_index) to the digest now stored in the migration registry.
    Digests change when the copy converts a manifest (schema 1 to schema 2, or a manifest list
    to the image of one platform); the restore must then pull the new one.
    """
    updated = copy.deepcopy(imagestream)
    status_tags = (updated.get("status") or {}).get("tags") or []
    for (tag_index, item_index), digest in digests.items():
        if not digest:
            continue
        item = status_tags[tag_index]["items"][item_index]
        if item.get("image") == digest:
            continue
        item["image"] = digest
        reference = item.get("dockerImageReference") or ""
        if reference.count("@") == 1:
            item["dockerImageReference"] = reference.split("@", 1)[0] + "@" + digest
    return updated
