"""Build Velero backup archives and locations for the backup_transform tests.

Archives are written with Python's tarfile, independently of the product's writer, the way
Velero lays them out: ``metadata/version`` first, every item twice (plain folder and
``<version>-preferredversion``), mode 0755, no directory entries.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import tarfile

OLD_REG = "docker-registry.default.svc:5000"
NEW_REG = "image-registry.openshift-image-registry.svc:5000"
SOURCE_FACTS = {"server_version": "3.11", "registry_hostname": OLD_REG}
DESTINATION_FACTS = {"server_version": "4.14", "registry_hostname": NEW_REG}


def item_bytes(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def folder_of(obj: dict) -> str:
    """The archive folder Velero uses for an object: resource[.group]."""
    plurals = {"Pod": "pods", "Service": "services", "Secret": "secrets", "ConfigMap": "configmaps",
               "ServiceAccount": "serviceaccounts", "PersistentVolume": "persistentvolumes",
               "Namespace": "namespaces", "Deployment": "deployments", "Route": "routes",
               "Build": "builds", "ImageStream": "imagestreams", "Endpoints": "endpoints",
               "ClusterRoleBinding": "clusterrolebindings", "PersistentVolumeClaim": "persistentvolumeclaims",
               "SecurityContextConstraints": "securitycontextconstraints"}
    group = obj["apiVersion"].rpartition("/")[0]
    resource = plurals[obj["kind"]]
    return f"{resource}.{group}" if group else resource


def item_paths(obj: dict) -> list[str]:
    meta = obj["metadata"]
    scope = f"namespaces/{meta['namespace']}" if meta.get("namespace") else "cluster"
    version = obj["apiVersion"].rpartition("/")[2]
    folder = folder_of(obj)
    return [f"resources/{folder}/{scope}/{meta['name']}.json",
            f"resources/{folder}/{version}-preferredversion/{scope}/{meta['name']}.json"]


def tar_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def archive_entries(objects: list[dict], version: bytes | None = b"1.1.0\n") -> list[tuple[str, bytes]]:
    entries = [("metadata/version", version)] if version is not None else []
    for obj in objects:
        for path in item_paths(obj):
            entries.append((path, item_bytes(obj)))
    return entries


def build_archive(path: str, objects: list[dict], version: bytes | None = b"1.1.0\n",
                  extra: list[tuple[str, bytes]] = ()) -> str:
    with open(path, "wb") as out:
        out.write(gzip.compress(tar_bytes(archive_entries(objects, version) + list(extra))))
    return path


def read_archive(path: str) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {member.name: tar.extractfile(member).read() for member in tar if member.isreg()}


def obj(api_version, kind, name, namespace=None, annotations=None, labels=None, **fields):
    meta = {"name": name, "uid": f"uid-{name}"}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(annotations)
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **fields}


def sample_objects() -> list[dict]:
    """Namespaced and cluster-scoped items of many kinds, some of which the actions change or skip."""
    return [
        obj("v1", "Namespace", "app"),
        obj("v1", "ServiceAccount", "builder", "app",
            secrets=[{"name": "builder-token-x"}, {"name": "builder-dockercfg-abc"}],
            imagePullSecrets=[{"name": "builder-dockercfg-abc"}]),
        obj("v1", "ConfigMap", "settings", "app", data={"a": "1"}),
        obj("v1", "Secret", "creds", "app", type="Opaque", data={"password": "c2VjcmV0"}),
        obj("v1", "Endpoints", "web", "app", subsets=[]),
        obj("v1", "Service", "web", "app", spec={"type": "ClusterIP", "ports": [{"port": 80}]}),
        obj("v1", "Pod", "web-1", "app", spec={"containers": [{"name": "web", "image": f"{OLD_REG}/app/web:1"}]}),
        obj("apps/v1", "Deployment", "web", "app", spec={"template": {"spec": {"containers": [
            {"name": "web", "image": f"{OLD_REG}/app/web:1"}]}}}),
        obj("route.openshift.io/v1", "Route", "web", "app",
            annotations={"openshift.io/host.generated": "true"}, spec={"host": "web-app.apps.old.example.com"}),
        obj("build.openshift.io/v1", "Build", "web-1", "app", spec={}),
        obj("v1", "PersistentVolume", "pv-1", spec={"capacity": {"storage": "1Gi"}}),
        obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "app-view", subjects=[]),
    ]


def source_scc() -> dict:
    return obj("security.openshift.io/v1", "SecurityContextConstraints", "app-anyuid",
               users=["system:serviceaccount:app:builder"])


def velero_backup(name: str) -> dict:
    return {"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero", "uid": "1234", "resourceVersion": "77",
                         "creationTimestamp": "2026-01-01T00:00:00Z",
                         "labels": {"velero.io/storage-location": "default"}},
            "spec": {"includedNamespaces": ["app"], "storageLocation": "default", "ttl": "720h0m0s"},
            "status": {"phase": "Completed", "formatVersion": "1.1.0", "version": 1,
                       "expiration": "2099-01-01T00:00:00Z"}}


def pod_volume_backups(name: str) -> list[dict]:
    return [{"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
             "metadata": {"name": f"{name}-x7k2p", "namespace": "velero", "uid": "pvb-uid",
                          "labels": {"velero.io/backup-name": name, "velero.io/backup-uid": "1234"},
                          "annotations": {"velero.io/pvc-name": "data"},
                          "ownerReferences": [{"apiVersion": "velero.io/v1", "kind": "Backup",
                                               "name": name, "uid": "1234"}]},
             "spec": {"pod": {"namespace": "app", "name": "web-1"}, "volume": "data",
                      "snapshotID": "snap1", "uploaderType": "kopia", "repoIdentifier": "s3:x"}}]


def write_backup_folder(folder: str, name: str, objects: list[dict]) -> str:
    """backups/<name>/ as Velero writes it: metadata, archive and the gzip'd side files."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "velero-backup.json"), "w") as out:
        json.dump(velero_backup(name), out)
    build_archive(os.path.join(folder, f"{name}.tar.gz"), objects)
    side = {
        "podvolumebackups.json.gz": pod_volume_backups(name),
        "volumesnapshots.json.gz": [{"spec": {"backupName": name, "persistentVolumeName": "pv-1"}}],
        "resource-list.json.gz": {"v1/Pod": ["app/web-1"]},
        "results.gz": {"errors": {}, "warnings": {}},
        "volumeinfo.json.gz": [{"pvcName": "data", "backupMethod": "PodVolumeBackup"}],
    }
    for suffix, value in side.items():
        with open(os.path.join(folder, f"{name}-{suffix}"), "wb") as out:
            out.write(gzip.compress(json.dumps(value).encode()))
    with open(os.path.join(folder, f"{name}-logs.gz"), "wb") as out:
        out.write(gzip.compress(b"time=now level=info msg=done\n"))
    return folder
