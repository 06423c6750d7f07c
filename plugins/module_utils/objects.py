"""Small accessors for Kubernetes objects held as dicts."""
from __future__ import annotations

from typing import Any


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Follow keys/indexes through nested dicts and lists; ``default`` when any step is missing."""
    for step in path:
        if isinstance(obj, dict):
            obj = obj.get(step)
        elif isinstance(obj, list) and isinstance(step, int) and -len(obj) <= step < len(obj):
            obj = obj[step]
        else:
            return default
        if obj is None:
            return default
    return obj


def metadata(item: dict) -> dict:
    meta = item.get("metadata")
    if not isinstance(meta, dict):
        meta = item["metadata"] = {}
    return meta


def annotations(item: dict) -> dict:
    """The item's annotations, created when absent so callers can write to them."""
    meta = metadata(item)
    if not isinstance(meta.get("annotations"), dict):
        meta["annotations"] = {}
    return meta["annotations"]


def labels(item: dict) -> dict:
    meta = metadata(item)
    if not isinstance(meta.get("labels"), dict):
        meta["labels"] = {}
    return meta["labels"]


def annotation(item: dict | None, key: str) -> str:
    """Read-only annotation value; "" when absent (as the Go plugin reads maps)."""
    value = dig(item, "metadata", "annotations", key, default="")
    return value if isinstance(value, str) else str(value)


def label(item: dict | None, key: str) -> str:
    value = dig(item, "metadata", "labels", key, default="")
    return value if isinstance(value, str) else str(value)


def has_annotation(item: dict | None, key: str) -> bool:
    return key in (dig(item, "metadata", "annotations", default={}) or {})


def name_of(item: dict | None) -> str:
    return dig(item, "metadata", "name", default="") or ""


def namespace_of(item: dict | None) -> str:
    return dig(item, "metadata", "namespace", default="") or ""


def owner_references(item: dict | None) -> list[dict]:
    refs = dig(item, "metadata", "ownerReferences", default=[])
    return [ref for ref in refs if isinstance(ref, dict)] if isinstance(refs, list) else []


def describe(item: dict | None) -> str:
    """"Kind namespace/name" for messages."""
    kind = (item or {}).get("kind") or "object"
    ns = namespace_of(item)
    return f"{kind} {ns}/{name_of(item)}" if ns else f"{kind} {name_of(item)}"


def namespace_mapping(velero_object: dict | None) -> dict[str, str]:
    mapping = dig(velero_object, "spec", "namespaceMapping", default={})
    return mapping if isinstance(mapping, dict) else {}


def mapped_namespace(namespace: str, mapping: dict[str, str]) -> str:
    """The namespace an item lands in: its mapping when non-empty, else itself."""
    return mapping.get(namespace) or namespace


def drop_annotation(item: dict, key: str) -> None:
    notes = dig(item, "metadata", "annotations", default=None)
    if isinstance(notes, dict):
        notes.pop(key, None)
