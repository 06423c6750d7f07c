"""ImageStreams: their internal images travel through the migration registry (plugin-spec §4.28, §4.29, §5).

Only migration backups and restores (labelled app.kubernetes.io/part-of=openshift-migration)
copy images. The copies go through the context's image copier; without one, the stream is left
as when copying is skipped and the copies it needs are listed in ``ctx.planned_copies``.
"""
from __future__ import annotations

import copy

from ..constants import (BACKUP_REGISTRY_HOSTNAME, DISABLE_IMAGE_COPY, MIGRATION_REGISTRY, RESTORE_REGISTRY_HOSTNAME,
                         SKIP_IMAGE_COPY)
from ..context import BackupContext, RestoreContext, address_of
from ..errors import MigrationError
from ..image_plan import plan_imagestream_copies, record_digests
from ..objects import annotation, annotations, describe, mapped_namespace, namespace_of
from .base import ActionResult, keep, skip
from .persistentvolumes import is_migration


def _migration_registry(item: dict) -> str:
    registry = annotation(item, MIGRATION_REGISTRY)
    if not registry:
        raise MigrationError(f"migration registry not found for annotation \"{MIGRATION_REGISTRY}\": "
                             "set it on the Backup/Restore to the migration registry's host")
    return registry


def _run_copies(copies: list, ctx, stream: dict) -> dict[tuple[int, int], str]:
    results = ctx.image_copier(copies)
    failed = [result for result in results if result.status == "failed"]
    if failed:
        details = "; ".join(f"{result.copy.src} -> {result.copy.dest}: {result.error}" for result in failed)
        raise MigrationError(f"{len(failed)} image copies of {describe(stream)} failed: {details}")
    return {(result.copy.tag_index, result.copy.item_index): result.digest for result in results}


def copy_images_to_migration_registry(item: dict, ctx: BackupContext) -> ActionResult:
    if not is_migration(ctx.backup):
        return keep(item)
    original = copy.deepcopy(item)
    notes = annotations(item)
    notes[MIGRATION_REGISTRY] = annotation(ctx.backup, MIGRATION_REGISTRY)
    if annotation(ctx.backup, DISABLE_IMAGE_COPY) == "true":
        notes[DISABLE_IMAGE_COPY] = "true"
        for part in ("spec", "status"):
            if isinstance(item.get(part), dict):
                item[part].pop("tags", None)
        return ActionResult(item)
    if notes.get(SKIP_IMAGE_COPY) == "true":
        return ActionResult(original)
    internal = notes.get(BACKUP_REGISTRY_HOSTNAME, "")
    migration = _migration_registry(item)
    copies = plan_imagestream_copies(
        item, mode="backup", internal_registry=internal, src_registry=address_of(ctx, internal),
        dest_registry=address_of(ctx, migration), dest_namespace=namespace_of(item))
    if ctx.image_copier is None:
        ctx.planned_copies.extend(copies)
        return ActionResult(original)
    return ActionResult(record_digests(item, _run_copies(copies, ctx, item)))


def copy_images_to_destination_registry(item: dict, ctx: RestoreContext) -> ActionResult:
    """The stream is not created by Velero: pushing its tags into the destination registry recreates it."""
    if not is_migration(ctx.restore):
        return keep(item)
    annotations(item)[MIGRATION_REGISTRY] = annotation(ctx.restore, MIGRATION_REGISTRY)
    if annotation(item, DISABLE_IMAGE_COPY) == "true" or annotation(item, SKIP_IMAGE_COPY) == "true":
        return keep(item)
    migration = _migration_registry(item)
    destination = annotation(item, RESTORE_REGISTRY_HOSTNAME)
    source_stream = ctx.item_from_backup or item
    copies = plan_imagestream_copies(
        source_stream, mode="restore", internal_registry=annotation(item, BACKUP_REGISTRY_HOSTNAME),
        src_registry=address_of(ctx, migration), dest_registry=address_of(ctx, destination),
        dest_namespace=mapped_namespace(namespace_of(source_stream), ctx.mapping))
    if ctx.image_copier is None:
        ctx.planned_copies.extend(copies)
        return keep(item)
    _run_copies(copies, ctx, item)
    return skip(item)
