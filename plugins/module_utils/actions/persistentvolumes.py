"""PersistentVolumes and claims in migrations: reclaim policy, storage class, access mode (plugin-spec §4.6–§4.8)."""
from __future__ import annotations

import copy

from ..constants import (BETA_STORAGE_CLASS, COPY_METHOD, MIGRATE_TYPE, MIGRATION_APP, MIGRATION_TYPE, PART_OF_LABEL,
                         PV_COPY, PV_MOVE, PV_ORIGINAL_RECLAIM_POLICY, PVC_SELECTED_NODE, SNAPSHOT_COPY_METHOD,
                         STAGE_MIGRATION, STAGE_RESTORE_LABEL, TARGET_ACCESS_MODE, TARGET_STORAGE_CLASS)
from ..context import BackupContext, RestoreContext
from ..objects import annotation, annotations, drop_annotation, label, name_of
from .base import ActionResult, keep, skip


def is_migration(velero_object: dict | None) -> bool:
    return label(velero_object, PART_OF_LABEL) == MIGRATION_APP


def retain_moved_volume(item: dict, ctx: BackupContext) -> ActionResult:
    """A moved volume must survive the source claim's deletion, so its policy becomes Retain."""
    if not is_migration(ctx.backup):
        return keep(item)
    live = ctx.cluster.lookup.get("v1", "PersistentVolume", name_of(item))
    source = live if live is not None else item
    policy = (item.get("spec") or {}).get("persistentVolumeReclaimPolicy") or ""
    if annotation(source, MIGRATE_TYPE) != PV_MOVE or policy == "Retain":
        return keep(item)
    for target in (item, copy.deepcopy(live) if live is not None else None):
        if target is None:
            continue
        target.setdefault("spec", {})["persistentVolumeReclaimPolicy"] = "Retain"
        annotations(target)[PV_ORIGINAL_RECLAIM_POLICY] = policy
        if target is not item:
            ctx.cluster.lookup.update(target)
    return ActionResult(item)


def _is_stage_snapshot(item: dict, restore: dict) -> bool:
    return (annotation(restore, MIGRATION_TYPE) == STAGE_MIGRATION
            and bool(label(restore, STAGE_RESTORE_LABEL))
            and annotation(item, COPY_METHOD) == SNAPSHOT_COPY_METHOD)


def _set_storage_class(item: dict) -> None:
    # Only a given target class is applied; an empty one would disable dynamic provisioning.
    notes = (item.get("metadata") or {}).get("annotations") or {}
    if TARGET_STORAGE_CLASS not in notes:
        return
    target = notes[TARGET_STORAGE_CLASS]
    item.setdefault("spec", {})["storageClassName"] = target
    if notes.get(BETA_STORAGE_CLASS):
        notes[BETA_STORAGE_CLASS] = target


def retarget_copied_volume(item: dict, ctx: RestoreContext) -> ActionResult:
    if not is_migration(ctx.restore) or annotation(item, MIGRATE_TYPE) != PV_COPY:
        return keep(item)
    if _is_stage_snapshot(item, ctx.restore):
        return skip(item)
    _set_storage_class(item)
    return ActionResult(item)


def retarget_copied_claim(item: dict, ctx: RestoreContext) -> ActionResult:
    if not is_migration(ctx.restore):
        return keep(item)
    if annotation(item, MIGRATE_TYPE) == PV_COPY:
        if _is_stage_snapshot(item, ctx.restore):
            return skip(item)
        spec = item.setdefault("spec", {})
        spec.pop("selector", None)
        # The copy gets a new volume on the destination; the source volume's name would not bind.
        spec.pop("volumeName", None)
        _set_storage_class(item)
        access_mode = annotation(item, TARGET_ACCESS_MODE)
        if access_mode:
            spec["accessModes"] = [access_mode]
    drop_annotation(item, PVC_SELECTED_NODE)
    return ActionResult(item)
