"""Image references: the internal-registry prefix swap the restore actions apply (plugin-spec §3.5)."""
from __future__ import annotations

from .errors import ImageReferenceError


def registry_of(reference: str) -> str:
    """Registry part of a docker reference: the first component when it looks like a host."""
    first, slash, _rest = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return ""


def has_image_ref_prefix(reference: str, prefix: str) -> bool:
    host, slash, _rest = reference.partition("/")
    return bool(slash) and host == prefix


def swap_registry(reference: str, old: str, new: str, mapping: dict[str, str] | None = None) -> str:
    """Move an image from registry ``old`` to ``new``, mapping its namespace.

    Images of the shared ``openshift`` namespace lose their digest: the destination cluster
    holds its own builds of them, so they are pulled by name there.
    """
    host, slash, rest = reference.partition("/")
    if not slash or host != old:
        raise ImageReferenceError(f"image reference [{reference}] does not have prefix [{old}]")
    if not rest:
        raise ImageReferenceError(f"image reference [{reference}] names no repository")
    result = rest
    namespace, slash, remainder = rest.partition("/")
    if slash and (mapping or {}).get(namespace):
        result = f"{mapping[namespace]}/{remainder}"
    if slash and namespace == "openshift":
        result = rest.partition("@")[0]
    return f"{new}/{result}"


def swap_container_images(pod_spec: dict | None, old: str, new: str, mapping: dict[str, str] | None) -> None:
    """Rewrite containers and initContainers whose image lives in ``old``; others stay as they are."""
    if not old or not new or not isinstance(pod_spec, dict):
        return
    for field in ("containers", "initContainers"):
        for container in pod_spec.get(field) or []:
            image = container.get("image") if isinstance(container, dict) else None
            if not isinstance(image, str):
                continue
            try:
                container["image"] = swap_registry(image, old, new, mapping)
            except ImageReferenceError:
                continue
