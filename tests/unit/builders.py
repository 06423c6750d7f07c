"""Small factories for items, Velero CRs and contexts shared by the unit tests."""

from dataclasses import dataclass
from typing import Any

from ansible_collections.openshift_migration.velero.plugins.module_utils.context import (
    BackupContext,
    ClusterFacts,
    RestoreContext,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.lookups import (
    SnapshotLookup,
)

OLD_REG = "docker-registry.default.svc:5000"
NEW_REG = "image-registry.openshift-image-registry.svc:5000"
MIG_REG = "migreg.example.com"

BACKUP_REGISTRY = "openshift.io/backup-registry-hostname"
RESTORE_REGISTRY = "openshift.io/restore-registry-hostname"
BACKUP_VERSION = "openshift.io/backup-server-version"
RESTORE_VERSION = "openshift.io/restore-server-version"
MIGRATION_REGISTRY = "openshift.io/migration-registry"
PART_OF = "app.kubernetes.io/part-of"
MIGRATION_LABELS = {PART_OF: "openshift-migration"}
DM_FIX = "oadp.openshift.io/includes-dm-dc-fix"


def obj(api_version, kind, name, namespace=None, annotations=None, labels=None, **fields):
    """A Kubernetes object; extra keyword arguments become top-level fields."""
    meta = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if annotations is not None:
        meta["annotations"] = dict(annotations)
    if labels is not None:
        meta["labels"] = dict(labels)
    out = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    out.update(fields)
    return out


def ann(item):
    return item["metadata"].get("annotations") or {}


def labels(item):
    return item["metadata"].get("labels") or {}


def container(name="c", image="nginx", **fields):
    return dict({"name": name, "image": image}, **fields)


def pod_spec(images=("nginx",), init_images=(), **fields):
    spec = {"containers": [container(f"c{i}", img) for i, img in enumerate(images)]}
    if init_images:
        spec["initContainers"] = [container(f"i{i}", img) for i, img in enumerate(init_images)]
    spec.update(fields)
    return spec


def pod(name="web-1", namespace="app", images=("nginx",), annotations=None, labels=None, **spec):
    return obj("v1", "Pod", name, namespace, annotations, labels, spec=pod_spec(images, **spec))


def workload(api_version, kind, name="web", namespace="app", images=("nginx",), annotations=None, **spec):
    """A controller whose pod template sits at spec.template.spec."""
    body = {"template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(images)}}
    body.update(spec)
    return obj(api_version, kind, name, namespace, annotations, spec=body)


def registry_annotations(backup=OLD_REG, restore=NEW_REG):
    return {BACKUP_REGISTRY: backup, RESTORE_REGISTRY: restore}


def owner(kind, name, api_version="v1"):
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": "uid-" + name}


def with_owner(item, kind, name, api_version="v1"):
    item["metadata"]["ownerReferences"] = [owner(kind, name, api_version)]
    return item


def backup_cr(name="b1", labels=None, annotations=None, **spec):
    return obj("velero.io/v1", "Backup", name, "velero", annotations, labels, spec=dict(spec))


def restore_cr(name="r1", mapping=None, labels=None, annotations=None, **spec):
    spec = dict(spec)
    spec.setdefault("backupName", "b1")
    if mapping is not None:
        spec["namespaceMapping"] = dict(mapping)
    out = obj("velero.io/v1", "Restore", name, "velero", annotations, labels, spec=spec)
    out["metadata"]["uid"] = "restore-uid-" + name
    return out


def migration_backup(**kw):
    return backup_cr(labels=MIGRATION_LABELS, annotations={MIGRATION_REGISTRY: MIG_REG}, **kw)


def migration_restore(mapping=None, annotations=None, labels=None, **kw):
    anns = {MIGRATION_REGISTRY: MIG_REG}
    anns.update(annotations or {})
    lbls = dict(MIGRATION_LABELS)
    lbls.update(labels or {})
    return restore_cr(mapping=mapping, labels=lbls, annotations=anns, **kw)


def cluster(registry=OLD_REG, version="1.27", objects=(), version_info=None):
    return ClusterFacts(version, registry, SnapshotLookup(list(objects), version_info))


def backup_ctx(backup=None, objects=(), registry=OLD_REG, version="1.27", **kw):
    return BackupContext(backup if backup is not None else backup_cr(), cluster(registry, version, objects), **kw)


def restore_ctx(restore=None, objects=(), registry=NEW_REG, version="1.29", **kw):
    restore = restore if restore is not None else restore_cr()
    return RestoreContext(restore, cluster(registry, version, objects), **kw)


def backup(item, ctx=None, **kw):
    from ansible_collections.openshift_migration.velero.plugins.module_utils.runner import (
        run_backup_item,
    )

    return run_backup_item(item, ctx if ctx is not None else backup_ctx(), **kw)


def restore(item, ctx=None, **kw):
    from ansible_collections.openshift_migration.velero.plugins.module_utils.runner import (
        run_restore_item,
    )

    return run_restore_item(item, ctx if ctx is not None else restore_ctx(), **kw)


@dataclass
class FakeCopyResult:
    copy: Any
    digest: str | None
    status: str
    error: str | None = None


class FakeCopier:
    """Records every batch of copies; answers each copy with `status` and a digest."""

    def __init__(self, status="copied", digest=None):
        self.calls = []
        self.status = status
        self.digest = digest

    def __call__(self, copies):
        copies = list(copies)
        self.calls.append(copies)
        error = "copy failed" if self.status == "failed" else None
        return [FakeCopyResult(c, self.digest or c.image, self.status, error) for c in copies]

    @property
    def copies(self):
        return [c for batch in self.calls for c in batch]
