"""ConfigMaps a build pod owned (CA bundle, system config): the destination's builds make their own (§4.35, §4.36)."""
from __future__ import annotations

from ..constants import BUILD_NAME, SKIP_BUILDCONFIG_CONFIGMAP_RESTORE
from ..context import BackupContext, RestoreContext
from ..objects import annotation, annotations, dig, has_annotation, name_of, namespace_of, owner_references
from .base import ActionResult, keep, skip

_TRUE = ("1", "t", "T", "TRUE", "true", "True")


def _owned_by_build_pod(item: dict, lookup) -> bool:
    for ref in owner_references(item):
        if ref.get("kind") != "Pod":
            continue
        pod = lookup.get("v1", "Pod", str(ref.get("name") or ""), namespace_of(item))
        if pod is not None and annotation(pod, BUILD_NAME):
            return True
    return False


def mark_build_configmap(item: dict, ctx: BackupContext) -> ActionResult:
    name = name_of(item)
    if not (name.endswith("ca") or name.endswith("sys-config")) or not owner_references(item):
        return keep(item)
    if not _owned_by_build_pod(item, ctx.cluster.lookup):
        return keep(item)
    if not has_annotation(item, SKIP_BUILDCONFIG_CONFIGMAP_RESTORE):
        annotations(item)[SKIP_BUILDCONFIG_CONFIGMAP_RESTORE] = "true"
    return ActionResult(item)


def skip_build_configmap(item: dict, ctx: RestoreContext) -> ActionResult:
    value = dig(item, "metadata", "annotations", SKIP_BUILDCONFIG_CONFIGMAP_RESTORE)
    return skip(item) if value in _TRUE else keep(item)
