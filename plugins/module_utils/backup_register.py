# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register a published backup on a cluster the way Velero's backup sync would import it.

Velero's backup sync looks at the bucket about once a minute, so a Restore of a freshly
published backup waits up to a minute for nothing. Creating the Backup (and its pod volume
backups) from the published velero-backup.json is what the sync itself does
(velero-and-anchors.md §A5): the sync then finds the backup known and leaves it alone.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .errors import MigrationError
from .labels import valid_label_value
from .objects import dig
from .velero import VELERO_API, cluster_of, create_object, explain_error, get_object, handled_errors

STORAGE_LOCATION_LABEL = "velero.io/storage-location"
BACKUP_UID_LABEL = "velero.io/backup-uid"
# Phases the sync leaves in the bucket until they end: Velero is still finishing such a backup.
_UNFINISHED_PREFIXES = ("WaitingForPluginOperations", "Finalizing")


class RegisterError(MigrationError):
    """The backup cannot be registered on the cluster as asked."""


@dataclass
class RegisterTarget:
    client: Any  # a kubernetes.core client of the cluster whose Velero restores the backup
    storage_location: str
    velero_namespace: str = "velero"


def _location_of(client: Any, target: RegisterTarget) -> dict:
    location = get_object(client, "BackupStorageLocation", target.storage_location, target.velero_namespace)
    if location is None:
        raise RegisterError(f"BackupStorageLocation {target.velero_namespace}/{target.storage_location} does not "
                            f"exist on {cluster_of(client)}: name the location that reads the bucket the backup "
                            "was published to")
    return location


def check_same_bucket(location: dict, bucket: str, prefix: str) -> None:
    """The location must read the bucket and prefix the backup went to, or Velero finds no data."""
    storage = dig(location, "spec", "objectStorage", default={}) or {}
    reads = (str(storage.get("bucket") or ""), str(storage.get("prefix") or "").strip("/"))
    if reads != (bucket, prefix.strip("/")):
        name = dig(location, "metadata", "name", default="")
        raise RegisterError(f"BackupStorageLocation {name} reads s3://{'/'.join(filter(None, reads))}, but the "
                            f"backup was published to s3://{'/'.join(filter(None, (bucket, prefix.strip('/'))))}: "
                            "give register.storage_location the location of that bucket and prefix")


def _for_this_cluster(published: dict, kind: str, target: RegisterTarget) -> tuple[dict, dict]:
    """(a copy of the object in this cluster's Velero namespace, without server-set fields; its metadata)."""
    obj = copy.deepcopy(published)
    obj.setdefault("apiVersion", VELERO_API)
    obj.setdefault("kind", kind)
    meta = obj.setdefault("metadata", {})
    meta["namespace"] = target.velero_namespace
    meta.pop("resourceVersion", None)
    meta.pop("uid", None)
    return obj, meta


def backup_object(published: dict, target: RegisterTarget) -> dict:
    """The Backup as the sync creates it: this cluster's namespace and location, no resourceVersion."""
    backup, meta = _for_this_cluster(published, "Backup", target)
    # The Schedule that made the backup lives on the other cluster; an owner reference to it would
    # let this cluster's garbage collector delete the Backup at once.
    owners = [owner for owner in meta.get("ownerReferences") or [] if owner.get("kind") != "Schedule"]
    if owners:
        meta["ownerReferences"] = owners
    else:
        meta.pop("ownerReferences", None)
    backup.setdefault("spec", {})["storageLocation"] = target.storage_location
    meta.setdefault("labels", {})[STORAGE_LOCATION_LABEL] = valid_label_value(target.storage_location)
    return backup


def pod_volume_backup_objects(entries: list[dict], backup: dict, target: RegisterTarget) -> list[dict]:
    """The backup's PodVolumeBackups as the sync creates them, pointing at the Backup just created."""
    name, uid = dig(backup, "metadata", "name"), dig(backup, "metadata", "uid")
    result = []
    for entry in entries:
        pvb, meta = _for_this_cluster(entry, "PodVolumeBackup", target)
        pvb.setdefault("spec", {})["backupStorageLocation"] = target.storage_location
        for owner in meta.get("ownerReferences") or []:
            if owner.get("kind") == "Backup" and owner.get("name") == name:
                owner["uid"] = uid
        if BACKUP_UID_LABEL in (meta.get("labels") or {}):
            meta["labels"][BACKUP_UID_LABEL] = uid
        result.append(pvb)
    return result


def _guarded(target: RegisterTarget, name: str, work):
    """Run ``work``; what the cluster answers becomes one RegisterError naming the backup."""
    try:
        return work()
    except MigrationError:
        raise
    except handled_errors() as error:
        raise RegisterError(f"registering backup {name}: {explain_error(error, cluster_of(target.client))}") from error


def check_target(target: RegisterTarget, name: str, bucket: str | None, prefix: str) -> None:
    """Before any work: RegisterError when ``name`` cannot be registered there.

    ``bucket`` (None for a local folder) and ``prefix`` are where the backup is published.
    """
    def check() -> None:
        location = _location_of(target.client, target)
        if bucket is not None:
            check_same_bucket(location, bucket, prefix)
        existing = get_object(target.client, "Backup", name, target.velero_namespace)
        if existing is not None:
            _require_same_location(target, existing)
    _guarded(target, name, check)


def _require_same_location(target: RegisterTarget, existing: dict) -> None:
    location = dig(existing, "spec", "storageLocation", default="")
    if location != target.storage_location:
        raise RegisterError(f"Backup {target.velero_namespace}/{dig(existing, 'metadata', 'name')} already exists on "
                            f"{cluster_of(target.client)} for storage location {location or '(none)'}: "
                            "choose another new_backup_name")


def register_backup(target: RegisterTarget, published: dict, pod_volume_backups: list[dict],
                    check_mode: bool) -> dict:
    """After the upload: create the Backup and its PodVolumeBackups unless the cluster knows it already.

    ``registered`` in the result says whether it was created now (or would be, in check mode).
    """
    name = dig(published, "metadata", "name", default="")
    result = {"cluster": cluster_of(target.client), "storage_location": target.storage_location,
              "namespace": target.velero_namespace, "registered": False, "pod_volume_backups": 0}
    phase = str(dig(published, "status", "phase", default="") or "")
    if phase.startswith(_UNFINISHED_PREFIXES):
        result["reason"] = f"phase {phase}: Velero's backup sync imports it once the backup is finished"
        return result
    return _guarded(target, name, lambda: _create(target, published, pod_volume_backups, check_mode, result))


def _create(target: RegisterTarget, published: dict, pod_volume_backups: list[dict], check_mode: bool,
            result: dict) -> dict:
    client, name = target.client, published["metadata"]["name"]
    existing = get_object(client, "Backup", name, target.velero_namespace)
    if existing is None and check_mode:
        result.update(registered=True, pod_volume_backups=len(pod_volume_backups))
        return result
    if existing is None:
        created = _create_unless_present(client, backup_object(published, target))
        if created is not None:
            pvbs = pod_volume_backup_objects(pod_volume_backups, created, target)
            result.update(registered=True, pod_volume_backups=_create_pod_volume_backups(client, pvbs))
            return result
        # The sync imported it between the upload and the create.
        existing = get_object(client, "Backup", name, target.velero_namespace) or {}
    _require_same_location(target, existing)
    result["reason"] = "the cluster knows the backup already"
    return result


def _create_unless_present(client: Any, obj: dict) -> dict | None:
    """The created object, or None when one of that name is there already (a 409)."""
    try:
        return create_object(client, obj)
    except Exception as error:  # kubernetes raises its own exception types; _guarded explains them
        if getattr(error, "status", None) == 409:
            return None
        raise


def _create_pod_volume_backups(client: Any, objects: list[dict]) -> int:
    # Created straight away: one the sync made meanwhile answers 409 and is left as it is.
    return sum(_create_unless_present(client, pvb) is not None for pvb in objects)
