"""The archive rewrite's migration steps: volume mappings as annotations, quiesced workloads resumed."""
from __future__ import annotations

import copy
import json

from ansible_collections.openshift_migration.velero.plugins.module_utils.archive import parse_item_path
from ansible_collections.openshift_migration.velero.plugins.module_utils.context import (
    RestoreContext,
    facts_from_dict,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.summary import migration_summary
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform import (
    RESUME_STEP,
    VOLUME_MAPPING_STEP,
    ItemTransformer,
    TransformSettings,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.volume_mapping import (
    VolumeMapping,
    map_volume,
)

from .backup_archives import DESTINATION_FACTS

MAPPING = VolumeMapping({"gluster": "ceph-rbd"}, {"ReadWriteMany": "ReadWriteOnce"})
MIGRATION_RESTORE = {"metadata": {"name": "r1", "labels": {"app.kubernetes.io/part-of": "openshift-migration"}},
                     "spec": {"backupName": "b1", "namespaceMapping": {"app": "app-new"}}}


def pvc(storage_class="gluster", modes=("ReadWriteMany",), annotations=None) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "app", "annotations": dict(annotations or {})},
            "spec": {"storageClassName": storage_class, "accessModes": list(modes), "volumeName": "pv-1",
                     "selector": {"matchLabels": {"disk": "1"}}}}


def pv(storage_class="gluster") -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
            "spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteMany"]}}


def deployment(replicas=0, recorded="3") -> dict:
    notes = {"migration.openshift.io/preQuiesceReplicas": recorded} if recorded is not None else {}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "app", "annotations": notes},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def test_mapped_claim_gets_the_copy_annotations():
    mapped = map_volume(pvc(), "persistentvolumeclaims", MAPPING)
    assert mapped["metadata"]["annotations"] == {
        "openshift.io/migrate-type": "copy", "openshift.io/target-storage-class": "ceph-rbd",
        "openshift.io/target-access-mode": "ReadWriteOnce"}


def test_mapping_leaves_the_input_alone():
    original = pvc()
    kept = copy.deepcopy(original)
    map_volume(original, "persistentvolumeclaims", MAPPING)
    assert original == kept


def test_access_mode_only_keeps_the_class_explicitly():
    mapped = map_volume(pvc(storage_class="standard"), "persistentvolumeclaims", MAPPING)
    assert mapped["metadata"]["annotations"]["openshift.io/target-storage-class"] == "standard"


def test_volume_outside_the_mapping_is_not_touched():
    assert map_volume(pvc("standard", ["ReadWriteOnce"]), "persistentvolumeclaims", MAPPING) is None
    assert map_volume(pvc(), "persistentvolumeclaims", VolumeMapping()) is None
    assert map_volume(pvc(), "configmaps", MAPPING) is None


def test_a_chosen_migrate_type_is_kept():
    moved = pvc(annotations={"openshift.io/migrate-type": "move"})
    assert map_volume(moved, "persistentvolumeclaims", MAPPING) is None


def test_persistent_volume_gets_the_class_but_no_access_mode():
    notes = map_volume(pv(), "persistentvolumes", MAPPING)["metadata"]["annotations"]
    assert notes == {"openshift.io/migrate-type": "copy", "openshift.io/target-storage-class": "ceph-rbd"}


def test_beta_storage_class_annotation_counts_as_the_class():
    claim = pvc(storage_class=None, annotations={"volume.beta.kubernetes.io/storage-class": "gluster"})
    notes = map_volume(claim, "persistentvolumeclaims", MAPPING)["metadata"]["annotations"]
    assert notes["openshift.io/target-storage-class"] == "ceph-rbd"


def restore_transformer(**extra) -> ItemTransformer:
    restore_ctx = RestoreContext(MIGRATION_RESTORE, facts_from_dict(DESTINATION_FACTS))
    return ItemTransformer(TransformSettings(None, restore_ctx, **extra))


def item_path(resource: str, namespace: str, name: str):
    where = f"namespaces/{namespace}" if namespace else "cluster"
    return parse_item_path(f"resources/{resource}/{where}/{name}.json")


def test_migration_restore_applies_the_mapped_class_and_access_mode():
    outcome = restore_transformer(volume_mapping=MAPPING).transform_object(
        item_path("persistentvolumeclaims", "app", "data"), pvc())
    restored = json.loads(outcome.data)
    assert VOLUME_MAPPING_STEP in outcome.actions
    assert restored["spec"]["storageClassName"] == "ceph-rbd"
    assert restored["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "selector" not in restored["spec"]


def test_quiesced_workload_is_restored_with_its_original_replicas():
    outcome = restore_transformer(resume_workloads=True).transform_object(
        item_path("deployments.apps", "app", "web"), deployment())
    restored = json.loads(outcome.data)
    assert RESUME_STEP in outcome.actions
    assert restored["spec"]["replicas"] == 3
    assert "migration.openshift.io/preQuiesceReplicas" not in (restored["metadata"].get("annotations") or {})


def test_resume_is_off_unless_asked_and_ignores_unquiesced_workloads():
    path = item_path("deployments.apps", "app", "web")
    assert RESUME_STEP not in restore_transformer().transform_object(path, deployment()).actions
    plain = restore_transformer(resume_workloads=True).transform_object(path, deployment(2, None))
    assert RESUME_STEP not in plain.actions


def test_summary_lists_namespaces_kinds_images_velero_and_the_report():
    kinds = {"deployments.apps": {"kept": 1, "changed": 2, "skipped": 0, "added": 0},
             "builds.build.openshift.io": {"kept": 0, "changed": 0, "skipped": 3, "added": 0}}
    transform = {"report": {"namespaces": {"app": kinds},
                            "planned_copies": [], "warnings": ["w1"]},
                 "image_copies": {"backup": {"copied": 2}, "restore": {"copied": 2, "present": 1}},
                 "report_files": ["/r/x.json", "/r/x.md"]}
    backup = {"backup": {"metadata": {"name": "m-stage"}}, "phase": "Completed", "warning_count": 0,
              "error_count": 0}
    restore = {"restore": {"metadata": {"name": "m-stage"}, "spec": {"backupName": "m-stage-migrated"}},
               "phase": "Completed", "warning_count": 1, "error_count": 0,
               "restore_results": {"warnings": {"namespaces": {"app-new": ["exists", "exists too"]}}}}
    lines = migration_summary(transform, backup, restore, ["app"], {"app": "app-new"})
    assert lines == [
        "namespace app -> app-new: 3 objects migrated (2 changed), 3 skipped",
        "  builds.build.openshift.io: 0 migrated, 0 changed, 3 skipped",
        "  deployments.apps: 3 migrated, 2 changed, 0 skipped",
        "images: 2 copied to the migration registry, 2 copied to the destination registry, 1 already present",
        "Velero backup m-stage: Completed, 0 warnings, 0 errors",
        "Velero restore m-stage of m-stage-migrated: Completed, 1 warnings, 0 errors",
        "  warning in app-new: exists (and 1 more)",
        "rewrite warning: w1",
        "report: /r/x.json, /r/x.md",
    ]


def test_summary_does_not_count_kinds_velero_never_restores():
    kinds = {"events": {"kept": 5}, "configmaps": {"kept": 2, "changed": 1}}
    transform = {"report": {"namespaces": {"app": kinds, "": {"nodes": {"kept": 1}, "persistentvolumes": {"kept": 1}}}}}
    lines = migration_summary(transform, {}, {}, ["app"], {})
    assert lines[:4] == ["namespace app -> app: 3 objects migrated (1 changed), 0 skipped",
                         "  configmaps: 3 migrated, 1 changed, 0 skipped",
                         "  events: 5 in the backup, not restored (Velero never restores them)",
                         "cluster-scoped: 1 objects migrated (persistentvolumes)"]


def test_summary_of_a_rerun_says_the_rewrite_was_made_before():
    lines = migration_summary({}, {"phase": "Completed"}, {"phase": "Completed"}, ["app"], {})
    assert lines[:2] == ["namespace app -> app",
                         "rewrite and image copies: made by an earlier run of this migration (see its report)"]
