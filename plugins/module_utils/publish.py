# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish a transformed backup under a new name so that stock Velero syncs it as its own backup.

Every file of ``backups/<old>/`` is renamed to the new name and rewritten where it names the
backup (velero-backup.json, pod volume backups, snapshot and operation lists, resource list).
Files are staged locally first; data files are uploaded before ``velero-backup.json``, which
Velero's backup sync needs to see a backup at all, so a partial upload is never imported.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
from typing import Iterable

from .errors import MigrationError
from .storage import METADATA_FILE, BackupStore, StorageError, file_digest, read_bytes, stream_digest
from .tarstream import same_content

SOURCE_ANNOTATION = "openshift-migration.io/transformed-from-backup"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
# The backup name becomes the velero.io/backup-name label value, hence the label length limit.
_MAX_NAME = 63
_DROPPED_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


class PublishError(MigrationError):
    """The new backup cannot be published as asked."""


def check_backup_name(name: str) -> None:
    if len(name) > _MAX_NAME or not _NAME.match(name):
        raise PublishError(f"{name!r} is not a valid backup name: use at most {_MAX_NAME} lowercase letters, "
                           "digits, '-' and '.', starting and ending with a letter or digit")


def renamed(filename: str, old: str, new: str) -> str:
    """The file's name in the new backup: every ``<old>`` prefix becomes ``<new>``."""
    if filename.startswith(old + "-") or filename.startswith(old + "."):
        return new + filename[len(old):]
    return filename


def rename_backup_object(backup: dict, new: str) -> dict:
    """velero-backup.json for the new backup: the name changes, server-set fields go."""
    renamed_backup = json.loads(json.dumps(backup))
    meta = renamed_backup.setdefault("metadata", {})
    old = meta.get("name", "")
    for key in _DROPPED_METADATA:
        meta.pop(key, None)
    meta["name"] = new
    if old and old != new:
        meta.setdefault("annotations", {})[SOURCE_ANNOTATION] = old
    return renamed_backup


def rename_pod_volume_backups(entries: list, old: str, new: str) -> list:
    """New PVB names and backup-name references, so that sync creates them for the new backup."""
    result = []
    for entry in entries:
        entry = json.loads(json.dumps(entry))
        meta = entry.setdefault("metadata", {})
        name = str(meta.get("name", ""))
        meta["name"] = new + name[len(old):] if name.startswith(old + "-") else f"{new}-{name}"
        for key in ("uid", "resourceVersion", "creationTimestamp"):
            meta.pop(key, None)
        labels = meta.setdefault("labels", {})
        labels["velero.io/backup-name"] = new
        for owner in meta.get("ownerReferences") or []:
            if owner.get("kind") == "Backup":
                owner["name"] = new
        result.append(entry)
    return result


def rename_backup_refs(entries: list, new: str) -> list:
    """Snapshot and operation records name their backup in spec.backupName."""
    result = []
    for entry in entries:
        entry = json.loads(json.dumps(entry))
        if isinstance(entry.get("spec"), dict) and "backupName" in entry["spec"]:
            entry["spec"]["backupName"] = new
        result.append(entry)
    return result


def gzip_json(value) -> bytes:
    # Go's json.Encoder ends with a newline; mtime 0 keeps re-runs byte-identical.
    return gzip.compress(json.dumps(value, separators=(",", ":")).encode() + b"\n", mtime=0)


def resource_list(entries: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    listing: dict[str, list[str]] = {}
    for gvk, entry in entries:
        listing.setdefault(gvk, []).append(entry)
    return listing


class Staging:
    """A private folder holding the new backup's files until they are compared and uploaded."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="backup-transform-")
        self.files: dict[str, str] = {}

    def path(self, filename: str) -> str:
        self.files[filename] = os.path.join(self.folder, filename)
        return self.files[filename]

    def write(self, filename: str, data: bytes) -> None:
        with open(self.path(filename), "wb") as out:
            out.write(data)

    def copy_from(self, store: BackupStore, backup: str, source: str, filename: str) -> None:
        with store.open(backup, source) as handle, open(self.path(filename), "wb") as out:
            shutil.copyfileobj(handle, out, 1 << 20)

    def digest(self, filename: str) -> str:
        with open(self.files[filename], "rb") as handle:
            return stream_digest(handle)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def stage_side_files(store: BackupStore, old: str, new: str, staging: Staging, resources: dict) -> None:
    """Stage every file of backups/<old>/ except the archive and velero-backup.json, renamed."""
    for source in store.list_files(old):
        if source in (METADATA_FILE, f"{old}.tar.gz") or "/" in source:
            continue
        target = renamed(source, old, new)
        suffix = target[len(new):] if target.startswith(new) else ""
        if suffix == "-podvolumebackups.json.gz":
            staging.write(target, gzip_json(rename_pod_volume_backups(_read_json_gz(store, old, source), old, new)))
        elif suffix in ("-volumesnapshots.json.gz", "-itemoperations.json.gz"):
            staging.write(target, gzip_json(rename_backup_refs(_read_json_gz(store, old, source), new)))
        elif suffix == "-resource-list.json.gz":
            staging.write(target, gzip_json(resources))  # items were added or removed
        else:
            staging.copy_from(store, old, source, target)
    resource_file = f"{new}-resource-list.json.gz"
    if resource_file not in staging.files:
        staging.write(resource_file, gzip_json(resources))


def _read_json_gz(store: BackupStore, backup: str, filename: str):
    try:
        return json.loads(gzip.decompress(read_bytes(store, backup, filename))) or []
    except (OSError, EOFError, ValueError) as exc:
        raise PublishError(f"backups/{backup}/{filename} is not gzip'd JSON: {exc}") from exc


def existing_state(store: BackupStore, new: str, staging: Staging) -> str:
    """absent, identical, partial (files but no velero-backup.json: an interrupted publish) or different."""
    present = store.list_files(new)
    if not present:
        return "absent"
    if METADATA_FILE not in present:
        return "partial"
    if sorted(present) != sorted(staging.files):
        return "different"
    for filename in present:
        if file_digest(store, new, filename) == staging.digest(filename):
            continue
        if not _same_gzip(store, new, filename, staging):
            return "different"
    return "identical"


def _same_gzip(store: BackupStore, new: str, filename: str, staging: Staging) -> bool:
    """Whether a compressed file holds what the staged one holds, compressed by another library."""
    if not filename.endswith(".gz"):
        return False
    with store.open(new, filename) as stored, open(staging.files[filename], "rb") as staged:
        return same_content(stored, staged)


def upload(store: BackupStore, new: str, staging: Staging) -> list[str]:
    """Upload the staged files, velero-backup.json last; on failure remove what was uploaded."""
    order = sorted(name for name in staging.files if name != METADATA_FILE) + [METADATA_FILE]
    done: list[str] = []
    try:
        for filename in order:
            store.upload(new, filename, staging.files[filename])
            done.append(filename)
    except StorageError:
        for filename in done:
            try:
                store.delete(new, filename)
            except StorageError:
                pass
        raise
    return done
