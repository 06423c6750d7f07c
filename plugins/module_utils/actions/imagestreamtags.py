"""ImageStreamTags: record the tag a reference tag points at, restore only what image import won't (§4.9, §4.10)."""
from __future__ import annotations

import copy

from ..constants import BACKUP_REGISTRY_HOSTNAME, RELATED_ISTAG, RELATED_ISTAG_NS
from ..context import BackupContext, RestoreContext
from ..images import has_image_ref_prefix
from ..objects import annotation, annotations, dig, drop_annotation, name_of, namespace_of
from .base import ActionResult, resource_id, skip

ISTAG_API = "image.openshift.io/v1"


def _related_tag(tag_from: dict, namespace: str, lookup) -> str | None:
    kind = tag_from.get("kind")
    name = str(tag_from.get("name") or "")
    if kind == "ImageStreamTag":
        return name if lookup.get(ISTAG_API, "ImageStreamTag", name, namespace) is not None else None
    if kind == "ImageStreamImage":
        parts = name.split("@")
        if len(parts) != 2 or not parts[1]:
            return None
        for istag in lookup.list(ISTAG_API, "ImageStreamTag", namespace):
            tag = istag.get("tag")
            tracks_image = tag is None or dig(tag, "from", "kind") == "DockerImage"
            if dig(istag, "image", "metadata", "name") == parts[1] and tracks_image:
                return name_of(istag)
    return None


def record_related_tag(item: dict, ctx: BackupContext) -> ActionResult:
    drop_annotation(item, RELATED_ISTAG)
    drop_annotation(item, RELATED_ISTAG_NS)
    tag_from = dig(item, "tag", "from")
    if isinstance(tag_from, dict):
        tag_namespace = tag_from.get("namespace") or namespace_of(item)
        related = _related_tag(tag_from, tag_namespace, ctx.cluster.lookup)
        if related:
            notes = annotations(item)
            notes[RELATED_ISTAG_NS] = tag_namespace
            notes[RELATED_ISTAG] = related
    return ActionResult(item)


def restore_reference_tag(item: dict, ctx: RestoreContext) -> ActionResult:
    backup_registry = annotation(item, BACKUP_REGISTRY_HOSTNAME)
    reference = str(dig(item, "image", "dockerImageReference", default="") or "")
    local_image = bool(backup_registry) and has_image_ref_prefix(reference, backup_registry)
    related, related_ns = annotation(item, RELATED_ISTAG), annotation(item, RELATED_ISTAG_NS)
    additional = [resource_id("image.openshift.io", "imagestreamtags", related_ns, related)] if related and related_ns else []

    updated = copy.deepcopy(item)
    tag_from = dig(updated, "tag", "from")
    reference_tag = isinstance(tag_from, dict)
    if reference_tag:
        updated["tag"]["annotations"] = None
        kind, from_ns = tag_from.get("kind"), tag_from.get("namespace") or ""
        if kind == "ImageStreamImage" and from_ns in ("", namespace_of(item)):
            reference_tag = False
        if kind in ("ImageStreamTag", "ImageStreamImage") and from_ns and ctx.mapping.get(from_ns):
            tag_from["namespace"] = ctx.mapping[from_ns]
    if reference_tag or not local_image:
        return ActionResult(updated, additional_items=additional, wait_for_additional_items=True)
    # A plain local tag comes back when its image is pushed to the destination registry.
    return skip(item)
