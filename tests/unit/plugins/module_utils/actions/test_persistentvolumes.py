"""PV backup, PV restore and PVC restore (plugin-spec §4.6–§4.8; §7 #9, #10, #11)."""

import pytest

from tests.unit.builders import (
    MIGRATION_LABELS,
    ann,
    backup,
    backup_cr,
    backup_ctx,
    migration_backup,
    migration_restore,
    obj,
    restore,
    restore_cr,
    restore_ctx,
)

MIGRATE_TYPE = "openshift.io/migrate-type"
ORIG_POLICY = "migration.openshift.io/orig-reclaim-policy"
TARGET_CLASS = "openshift.io/target-storage-class"
TARGET_MODE = "openshift.io/target-access-mode"
COPY_METHOD = "migration.openshift.io/copy-method"
BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
STAGE = {"annotations": {"migration.openshift.io/migmigration-type": "stage"}, "labels": {"migration-stage-restore": "s1"}}


def _pv(annotations=None, policy="Delete", **spec):
    return obj("v1", "PersistentVolume", "pv1", None, annotations,
               spec=dict({"persistentVolumeReclaimPolicy": policy, "storageClassName": "old"}, **spec))


def _pvc(annotations=None, **spec):
    base = {"storageClassName": "old", "volumeName": "pv1", "accessModes": ["ReadWriteOnce"],
            "selector": {"matchLabels": {"a": "b"}}}
    return obj("v1", "PersistentVolumeClaim", "data", "app", annotations, spec=dict(base, **spec))


# --- §4.6 PV backup -------------------------------------------------------------------------

def test_pv_backup_outside_migration_leaves_item_and_live_pv_alone():
    """§4.6 gate: backup not labelled part-of=openshift-migration."""
    ctx = backup_ctx(backup_cr(), objects=[_pv({MIGRATE_TYPE: "move"})])
    result = backup(_pv({MIGRATE_TYPE: "move"}), ctx)
    assert result.item["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert ctx.cluster.lookup.updated == []


def test_pv_backup_move_retains_item_and_live_pv():
    """§4.6: live move + item policy != Retain -> Retain + orig-reclaim-policy on both."""
    ctx = backup_ctx(migration_backup(), objects=[_pv({MIGRATE_TYPE: "move"})])
    result = backup(_pv({MIGRATE_TYPE: "move"}), ctx)
    assert result.item["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert ann(result.item)[ORIG_POLICY] == "Delete"
    (live,) = ctx.cluster.lookup.updated
    assert live["metadata"]["name"] == "pv1"
    assert live["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert ann(live)[ORIG_POLICY] == "Delete"


def test_pv_backup_reads_migrate_type_from_the_live_pv():
    """§7 #9 (intended): the live PV's annotation decides when the look-up finds it."""
    ctx = backup_ctx(migration_backup(), objects=[_pv({MIGRATE_TYPE: "copy"})])
    result = backup(_pv({MIGRATE_TYPE: "move"}), ctx)
    assert result.item["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert ctx.cluster.lookup.updated == []


def test_pv_backup_falls_back_to_the_item_when_live_pv_is_missing():
    """§7 #9 (intended): look-up not found -> migrate-type from the item."""
    ctx = backup_ctx(migration_backup(), objects=[])
    result = backup(_pv({MIGRATE_TYPE: "move"}, policy="Recycle"), ctx)
    assert result.item["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert ann(result.item)[ORIG_POLICY] == "Recycle"
    assert ctx.cluster.lookup.updated == []


def test_pv_backup_handles_item_without_annotations():
    """§7 #9 (intended): item lacks annotations while the live PV says move -> no crash."""
    ctx = backup_ctx(migration_backup(), objects=[_pv({MIGRATE_TYPE: "move"})])
    result = backup(_pv(None), ctx)
    assert result.item["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert ann(result.item)[ORIG_POLICY] == "Delete"


def test_pv_backup_does_not_update_an_unchanged_live_pv():
    """§7 #9 (intended): live PV written back only when it changed."""
    ctx = backup_ctx(migration_backup(), objects=[_pv({MIGRATE_TYPE: "move"}, policy="Retain")])
    result = backup(_pv({MIGRATE_TYPE: "move"}, policy="Retain"), ctx)
    assert ORIG_POLICY not in ann(result.item)
    assert ctx.cluster.lookup.updated == []


# --- §4.7 PV restore ------------------------------------------------------------------------

def test_pv_restore_outside_migration_is_unchanged():
    """§4.7 gate / test-cases §10."""
    item = _pv({MIGRATE_TYPE: "copy", TARGET_CLASS: "gp3"})
    result = restore(item, restore_ctx(restore_cr()))
    assert result.item["spec"]["storageClassName"] == "old"
    assert result.skip is False


def test_pv_restore_copy_sets_target_storage_class():
    """§4.7 steps 2-3: storageClassName and non-empty beta annotation set to the target."""
    item = _pv({MIGRATE_TYPE: "copy", TARGET_CLASS: "gp3", BETA_CLASS: "old"})
    result = restore(item, restore_ctx(migration_restore()))
    assert result.item["spec"]["storageClassName"] == "gp3"
    assert ann(result.item)[BETA_CLASS] == "gp3"


def test_pv_restore_copy_without_target_class_keeps_storage_class():
    """§7 #10 (intended): storageClassName set only when the annotation is present."""
    result = restore(_pv({MIGRATE_TYPE: "copy"}), restore_ctx(migration_restore()))
    assert result.item["spec"]["storageClassName"] == "old"
    assert BETA_CLASS not in ann(result.item)


def test_pv_restore_move_is_unchanged():
    """§4.7: effect only for migrate-type copy."""
    result = restore(_pv({MIGRATE_TYPE: "move", TARGET_CLASS: "gp3"}), restore_ctx(migration_restore()))
    assert result.item["spec"]["storageClassName"] == "old"


def test_pv_restore_skips_stage_snapshot_copy():
    """§4.7 step 1: stage annotation + stage label + snapshot copy-method -> skip."""
    item = _pv({MIGRATE_TYPE: "copy", COPY_METHOD: "snapshot", TARGET_CLASS: "gp3"})
    result = restore(item, restore_ctx(migration_restore(**STAGE)))
    assert result.skip is True
    assert result.item["spec"]["storageClassName"] == "old"


@pytest.mark.parametrize("drop", ["annotation", "label", "method"])
def test_pv_restore_stage_skip_needs_all_three_conditions(drop):
    """§7 #11: annotation AND label AND snapshot."""
    anns = {} if drop == "annotation" else STAGE["annotations"]
    lbls = {} if drop == "label" else STAGE["labels"]
    method = "filesystem" if drop == "method" else "snapshot"
    item = _pv({MIGRATE_TYPE: "copy", COPY_METHOD: method})
    assert restore(item, restore_ctx(migration_restore(annotations=anns, labels=lbls))).skip is False


# --- §4.8 PVC restore -----------------------------------------------------------------------

def test_pvc_restore_outside_migration_keeps_selected_node():
    """§4.8 gate: unchanged, selected-node kept."""
    item = _pvc({MIGRATE_TYPE: "copy", SELECTED_NODE: "n1", TARGET_CLASS: "gp3"})
    result = restore(item, restore_ctx(restore_cr()))
    assert ann(result.item)[SELECTED_NODE] == "n1"
    assert result.item["spec"]["storageClassName"] == "old"
    assert result.item["spec"]["volumeName"] == "pv1"


def test_pvc_restore_copy_retargets_the_claim():
    """§4.8 / test-cases §10 / §7 #10: selector, volumeName, selected-node removed; class, access mode set."""
    item = _pvc({MIGRATE_TYPE: "copy", TARGET_CLASS: "gp3", TARGET_MODE: "ReadWriteMany",
                 SELECTED_NODE: "n1", BETA_CLASS: "old"})
    result = restore(item, restore_ctx(migration_restore()))
    spec = result.item["spec"]
    assert "selector" not in spec
    assert "volumeName" not in spec
    assert spec["storageClassName"] == "gp3"
    assert spec["accessModes"] == ["ReadWriteMany"]
    assert SELECTED_NODE not in ann(result.item)
    assert ann(result.item)[BETA_CLASS] == "gp3"
    assert result.item["metadata"]["namespace"] == "app"


def test_pvc_restore_copy_without_target_class_or_mode_keeps_them():
    """§7 #10 (intended) and §4.8 step 5: absent annotations leave the fields as is."""
    result = restore(_pvc({MIGRATE_TYPE: "copy"}), restore_ctx(migration_restore()))
    assert result.item["spec"]["storageClassName"] == "old"
    assert result.item["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_pvc_restore_move_only_drops_selected_node():
    """§4.8: every migration PVC loses selected-node; move claims keep selector/volumeName."""
    item = _pvc({MIGRATE_TYPE: "move", SELECTED_NODE: "n1", TARGET_CLASS: "gp3"})
    result = restore(item, restore_ctx(migration_restore()))
    assert SELECTED_NODE not in ann(result.item)
    assert result.item["spec"]["volumeName"] == "pv1"
    assert result.item["spec"]["selector"] == {"matchLabels": {"a": "b"}}
    assert result.item["spec"]["storageClassName"] == "old"


def test_pvc_restore_skips_stage_snapshot_copy():
    """§4.8 step 1 / test-cases §10: stage annotation + label + snapshot -> skip, item unchanged."""
    item = _pvc({MIGRATE_TYPE: "copy", COPY_METHOD: "snapshot", SELECTED_NODE: "n1"})
    result = restore(item, restore_ctx(migration_restore(**STAGE)))
    assert result.skip is True
    assert ann(result.item)[SELECTED_NODE] == "n1"


def test_pvc_restore_migration_label_is_the_gate():
    """§2.1: migration mode = Restore labelled app.kubernetes.io/part-of=openshift-migration."""
    item = _pvc({SELECTED_NODE: "n1"})
    result = restore(item, restore_ctx(restore_cr(labels=MIGRATION_LABELS)))
    assert SELECTED_NODE not in ann(result.item)
