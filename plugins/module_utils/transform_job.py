# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One backup_transform run: read a backup, transform it, write a local archive and/or publish it.

Everything is computed into a private staging folder first; outputs are written only when not
in check mode, and only when their bytes differ from what is already there.
"""
from __future__ import annotations

import gzip
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .archive import ArchiveWriter
from .context import BackupContext, ClusterFacts, ImageCopier, RestoreContext
from .errors import MigrationError
from .item_index import ItemIndex
from .publish import (METADATA_FILE, PublishError, Staging, check_backup_name, existing_state, gzip_json,
                      rename_backup_object, resource_list, stage_side_files, upload)
from .report import TransformReport
from .storage import BackupStore, StorageError, read_bytes, stream_digest
from .tarstream import same_content
from .transform import ArchiveTransform, TransformSettings
from .volume_mapping import VolumeMapping

if TYPE_CHECKING:  # registration is loaded only by runs that register (it brings the cluster client's helpers)
    from .backup_register import RegisterTarget

PHASES = ("backup", "restore")


@dataclass
class JobSpec:
    phases: list[str] = field(default_factory=lambda: list(PHASES))
    src: str | None = None
    store: BackupStore | None = None
    backup_name: str | None = None
    dest: str | None = None
    new_backup_name: str | None = None
    backup: dict | None = None
    restore: dict | None = None
    source_cluster: ClusterFacts | None = None
    destination_cluster: ClusterFacts | None = None
    disabled_actions: list[str] = field(default_factory=list)
    backup_copier: ImageCopier | None = None
    restore_copier: ImageCopier | None = None
    registry_addresses: dict[str, str] | None = None
    report: str | None = None
    check_mode: bool = False
    max_diff_items: int = 200
    compresslevel: int = 3
    progress: Callable[[str], None] | None = None
    volume_mapping: VolumeMapping = field(default_factory=VolumeMapping)
    resume_workloads: bool = True
    register: RegisterTarget | None = None


def _validate(spec: JobSpec) -> None:
    if not spec.phases or any(phase not in PHASES for phase in spec.phases):
        raise MigrationError(f"phases must name backup and/or restore, not {spec.phases}")
    if bool(spec.src) == bool(spec.backup_name):
        raise MigrationError("give exactly one source: src (a local archive) or backup_name (in location)")
    if spec.backup_name and spec.store is None:
        raise MigrationError("backup_name needs a location to read the backup from")
    if not spec.dest and not spec.new_backup_name:
        raise MigrationError("give an output: dest (a local archive) and/or new_backup_name (in location)")
    if spec.new_backup_name:
        if spec.store is None:
            raise MigrationError("new_backup_name needs a location to publish the new backup to")
        check_backup_name(spec.new_backup_name)
        if spec.new_backup_name == spec.backup_name:
            raise PublishError("new_backup_name must differ from backup_name: the source backup is never modified")
    if spec.register is not None and not spec.new_backup_name:
        raise MigrationError("register needs new_backup_name: only a published backup can be registered")
    if spec.report and not spec.report.endswith(os.sep) and not os.path.isdir(spec.report):
        parent = os.path.dirname(os.path.abspath(spec.report))
        if not os.path.isdir(parent):
            raise MigrationError(f"report: folder {parent} does not exist")
    if "backup" in spec.phases and spec.source_cluster is None:
        raise MigrationError("the backup phase needs source_cluster (facts or connection options)")
    if "restore" in spec.phases and spec.destination_cluster is None:
        raise MigrationError("the restore phase needs destination_cluster (facts or connection options)")


def _source_backup(spec: JobSpec) -> dict | None:
    """The source backup's velero-backup.json, after checking that the backup exists."""
    if not spec.backup_name:
        return spec.backup
    files = spec.store.list_files(spec.backup_name)
    if METADATA_FILE not in files:
        known = spec.store.list_backups()
        hint = f"backups there: {', '.join(known[:20])}" if known else "the location holds no backups"
        raise StorageError(f"backup {spec.backup_name} was not found in {spec.store.label} ({hint})")
    if f"{spec.backup_name}.tar.gz" not in files:
        raise StorageError(f"backup {spec.backup_name} in {spec.store.label} has no {spec.backup_name}.tar.gz")
    try:
        return json.loads(read_bytes(spec.store, spec.backup_name, METADATA_FILE))
    except ValueError as exc:
        raise StorageError(f"backups/{spec.backup_name}/{METADATA_FILE} is not JSON: {exc}") from exc


def _copy_key(copy) -> tuple:
    return (copy.src, copy.dest)


def _planned(*contexts) -> list[dict]:
    seen, planned = set(), []
    for ctx in contexts:
        for item in getattr(ctx, "planned_copies", []):
            if _copy_key(item) not in seen:
                seen.add(_copy_key(item))
                planned.append({"src": item.src, "dest": item.dest, "tag": item.tag, "image": item.image})
    return planned


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return stream_digest(handle)


def _same_archive(first: str, second: str) -> bool:
    with open(first, "rb") as one, open(second, "rb") as other:
        return same_content(one, other)


def _write_dest(staged: str, dest: str, check_mode: bool) -> bool:
    """Put the archive at dest through a temporary file and a rename; False when already equal
    (the same bytes, or the same content compressed by another library)."""
    if os.path.exists(dest) and (_sha256(dest) == _sha256(staged) or _same_archive(dest, staged)):
        return False
    if not check_mode:
        folder = os.path.dirname(os.path.abspath(dest))
        handle, partial = tempfile.mkstemp(dir=folder, prefix=".backup-transform-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out, open(staged, "rb") as source:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    out.write(chunk)
            os.replace(partial, dest)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise
    return True


def report_paths(report: str, name: str) -> tuple[str, str]:
    """A folder gets <name>-transform.json/.md inside it; anything else is a path prefix."""
    if report.endswith(os.sep) or os.path.isdir(report):
        base = os.path.join(report, f"{name}-transform")
    else:
        base = report
    return base + ".json", base + ".md"


def run_job(spec: JobSpec) -> dict:
    _validate(spec)
    source_backup = _source_backup(spec)
    if spec.register is not None:  # a cluster that cannot take the backup is refused before any work
        from .backup_register import check_target
        check_target(spec.register, spec.new_backup_name, getattr(spec.store, "bucket", None),
                     getattr(spec.store, "prefix", ""))
    old_name = spec.backup_name or (source_backup or {}).get("metadata", {}).get("name") or "backup"
    new_backup = None
    if spec.new_backup_name:
        if source_backup is None:
            raise PublishError("publishing a local archive needs the Velero Backup object in backup")
        new_backup = rename_backup_object(source_backup, spec.new_backup_name)
    backup_obj = spec.backup or source_backup or {"metadata": {"name": old_name}}
    out_name = spec.new_backup_name or old_name
    restore_obj = spec.restore or {"metadata": {"name": f"{out_name}-restore"}, "spec": {"backupName": out_name}}
    backup_ctx = restore_ctx = None
    if "backup" in spec.phases:
        backup_ctx = BackupContext(backup_obj, spec.source_cluster, image_copier=spec.backup_copier,
                                   registry_addresses=spec.registry_addresses)
    if "restore" in spec.phases:
        restore_ctx = RestoreContext(restore_obj, spec.destination_cluster, backup=new_backup or backup_obj,
                                     image_copier=spec.restore_copier, registry_addresses=spec.registry_addresses)
    settings = TransformSettings(backup_ctx, restore_ctx, spec.disabled_actions, progress=spec.progress,
                                 volume_mapping=spec.volume_mapping, resume_workloads=spec.resume_workloads)
    report, index, staging = TransformReport(diffs_ahead=spec.max_diff_items), ItemIndex(), Staging()
    try:
        return _run(spec, settings, report, index, staging, old_name, new_backup)
    finally:
        report.close()
        index.close()
        staging.close()


def _run(spec, settings, report, index, staging, old_name, new_backup) -> dict:
    archive_name = f"{spec.new_backup_name or old_name}.tar.gz"
    fetch = None
    if settings.backup_ctx is not None:
        lookup = settings.backup_ctx.cluster.lookup

        def fetch(api_version: str, kind: str, name: str, namespace: str) -> dict | None:
            return lookup.get(api_version, kind, name, namespace or None)
    label = spec.src or f"backups/{spec.backup_name}/{spec.backup_name}.tar.gz in {spec.store.label}"
    source = open(spec.src, "rb") if spec.src else spec.store.open(spec.backup_name, f"{spec.backup_name}.tar.gz")
    with source, open(staging.path(archive_name), "wb") as out, ArchiveWriter(out, spec.compresslevel) as writer:
        stats = ArchiveTransform(settings, report, index).run(source, writer, label, fetch)
    if spec.progress:
        spec.progress(f"transformed {label} in {stats.seconds:.1f}s: {report.summary()}")
    report.planned_copies = _planned(settings.backup_ctx, settings.restore_ctx)
    report.info = {"source": label, "phases": ", ".join(spec.phases), "format_version": stats.format_version,
                   "entries_read": stats.entries_in, "entries_written": stats.entries_out}
    result = {"changed": False, "archive": {"entries_read": stats.entries_in, "entries_written": stats.entries_out,
                                            "format_version": stats.format_version,
                                            "seconds": round(stats.seconds, 3),
                                            "sha256": staging.digest(archive_name)}}
    if spec.dest:
        result["dest"] = spec.dest
        result["changed"] |= _write_dest(staging.files[archive_name], spec.dest, spec.check_mode)
    if spec.new_backup_name:
        result["new_backup"] = _publish(spec, staging, index, report, old_name, new_backup)
        result["changed"] |= result["new_backup"]["changed"]
    if spec.report:
        json_path, md_path = report_paths(spec.report, spec.new_backup_name or old_name)
        report.info["new_backup"] = spec.new_backup_name or ""
        if not spec.check_mode:
            os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
            report.write_files(json_path, md_path)
        result["report_files"] = [json_path, md_path]
    result["report"] = report.as_result(spec.max_diff_items)
    return result


def _publish(spec, staging, index, report, old_name, new_backup) -> dict:
    new = spec.new_backup_name
    staging.write(METADATA_FILE, json.dumps(new_backup, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    resources = resource_list(index.resource_list())
    if spec.backup_name:
        stage_side_files(spec.store, old_name, new, staging, resources)
    else:
        staging.write(f"{new}-resource-list.json.gz", gzip_json(resources))
    expiration = str((new_backup.get("status") or {}).get("expiration") or "")
    if expiration and expiration < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()):
        report.warn(f"the backup expired at {expiration}: Velero's garbage collection deletes {new} soon after "
                    "it syncs it; restore from it right away or extend status.expiration")
    state = existing_state(spec.store, new, staging)
    if state == "different":
        raise PublishError(f"backup {new} already exists in {spec.store.label} with different content; "
                           "choose another new_backup_name or delete backups/" + new + " first")
    if state == "partial":
        report.warn(f"backups/{new} held files without {METADATA_FILE} (an interrupted publish); they are replaced")
    changed = state != "identical"
    if changed and not spec.check_mode:
        upload(spec.store, new, staging)
    published = {"name": new, "location": spec.store.label, "changed": changed, "files": sorted(staging.files)}
    if spec.register is not None:
        from .backup_register import register_backup
        published["registration"] = register_backup(spec.register, new_backup, _pod_volume_backups(spec, staging),
                                                    spec.check_mode)
        published["changed"] |= published["registration"]["registered"]
    return published


def _pod_volume_backups(spec: JobSpec, staging: Staging) -> list[dict]:
    staged = staging.files.get(f"{spec.new_backup_name}-podvolumebackups.json.gz")
    if not staged:
        return []
    with open(staged, "rb") as handle:
        return json.loads(gzip.decompress(handle.read())) or []
