"""DeploymentConfig backup and restore (plugin-spec §4.15, §4.16; test-cases §10; §7 #3, #25)."""

import pytest

from tests.unit.builders import (
    DM_FIX,
    NEW_REG,
    OLD_REG,
    ann,
    backup,
    backup_cr,
    backup_ctx,
    labels,
    pod,
    registry_annotations,
    restore,
    restore_cr,
    restore_ctx,
    workload,
)

DC_BACKUP = "openshift.io/08-deploymentconfig-backup-plugin"
DC_RESTORE = "openshift.io/08-deploymentconfig-restore-plugin"
HAS_HOOKS = "oadp.openshift.io/has-pod-restore-hooks"
HAS_VOLUMES = "oadp.openshift.io/pods-have-volumes"
POD_LABELS = "oadp.openshift.io/pod-labels"
ORIG_REPLICAS = "oadp.openshift.io/original-replicas"
ORIG_PAUSED = "oadp.openshift.io/original-paused"
MODIFIED = "oadp.openshift.io/replicas-modified"
PVC = {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}


def _dc(annotations=None, selector=None, **spec):
    anns = registry_annotations()
    anns.update(annotations or {})
    return workload("apps.openshift.io/v1", "DeploymentConfig", "web", "app", images=(f"{OLD_REG}/app/web:1",),
                    annotations=anns, selector=selector if selector is not None else {"app": "web"}, **spec)


def _facts(result):
    return tuple(ann(result.item).get(key) for key in (DM_FIX, HAS_HOOKS, HAS_VOLUMES, POD_LABELS))


# --- §4.15 backup ---------------------------------------------------------------------------

def test_backup_records_facts_of_the_selected_pods():
    """§4.15: hooks / volumes of any selected pod; labels of the first pod with labels."""
    pods = [
        pod("web-1-a", labels={"app": "web", "deployment": "web-1"}, annotations={"post.hook.restore.velero.io/command": "x"}),
        pod("web-1-b", labels={"app": "web", "deployment": "web-1"}, volumes=[PVC]),
        pod("db-1", labels={"app": "db"}, volumes=[PVC]),
    ]
    result = backup(_dc(), backup_ctx(objects=pods))
    assert _facts(result) == ("true", "true", "true", "app=web,deployment=web-1")
    assert DC_BACKUP in result.actions


def test_backup_only_considers_pods_of_its_namespace_and_selector():
    """§4.15: LIST Pods in the DC namespace with the DC selector."""
    pods = [pod("other-ns", "prod", labels={"app": "web"}, volumes=[PVC]), pod("db", labels={"app": "db"}, volumes=[PVC])]
    assert _facts(backup(_dc(), backup_ctx(objects=pods))) == ("true", "false", "false", "")


def test_backup_with_empty_selector_lists_no_pods():
    """§7 #25 (intended): empty spec.selector -> "false"/"false"/""."""
    pods = [pod("a", labels={"app": "web"}, volumes=[PVC], annotations={"post.hook.restore.velero.io/command": ""})]
    assert _facts(backup(_dc(selector={}), backup_ctx(objects=pods))) == ("true", "false", "false", "")


# --- §4.16 restore --------------------------------------------------------------------------

def test_restore_swaps_template_images_with_mapping():
    """§4.16 step 1."""
    result = restore(_dc(), restore_ctx(restore_cr(mapping={"app": "app2"})))
    assert result.item["spec"]["template"]["spec"]["containers"][0]["image"] == f"{NEW_REG}/app2/web:1"
    assert result.actions[-1] == DC_RESTORE
    assert result.item["metadata"]["namespace"] == "app"


def test_restore_maps_image_change_trigger_by_its_own_namespace():
    """§7 #3 (intended): trigger from.namespace -> mapping[trigger namespace]; unmapped ones kept."""
    triggers = [
        {"type": "ImageChange", "imageChangeParams": {"from": {"kind": "ImageStreamTag", "name": "s:1", "namespace": "shared"}}},
        {"type": "ImageChange", "imageChangeParams": {"from": {"kind": "ImageStreamTag", "name": "o:1", "namespace": "other"}}},
        {"type": "ConfigChange"},
    ]
    result = restore(_dc(triggers=triggers), restore_ctx(restore_cr(mapping={"app": "app2", "shared": "shared2"})))
    out = result.item["spec"]["triggers"]
    assert out[0]["imageChangeParams"]["from"]["namespace"] == "shared2"
    assert out[1]["imageChangeParams"]["from"]["namespace"] == "other"
    assert out[2] == {"type": "ConfigChange"}


@pytest.mark.parametrize(
    "facts",
    [{HAS_VOLUMES: "true", HAS_HOOKS: "false"}, {HAS_VOLUMES: "false", HAS_HOOKS: "true"}],
)
def test_restore_scales_down_dc_whose_pods_need_restoring(facts):
    """§4.16 steps 3-4 / test-cases §10: replicas 0, originals recorded, label = restore name."""
    item = _dc(dict(facts, **{DM_FIX: "true"}), replicas=3, paused=False)
    result = restore(item, restore_ctx(restore_cr("r1")))
    assert (result.item["spec"]["replicas"], result.item["spec"]["paused"]) == (0, False)
    assert (ann(result.item)[ORIG_REPLICAS], ann(result.item)[ORIG_PAUSED]) == ("3", "false")
    assert labels(result.item)[MODIFIED] == "r1"


def test_restore_records_original_paused_true():
    """§4.16 step 4: original-paused from spec.paused; paused reset to false."""
    item = _dc({DM_FIX: "true", HAS_VOLUMES: "true"}, replicas=2, paused=True)
    result = restore(item)
    assert ann(result.item)[ORIG_PAUSED] == "true"
    assert result.item["spec"]["paused"] is False


def test_restore_uses_restore_hooks_matching_the_recorded_pod_labels():
    """§4.16 step 3: RestoreHasRestoreHooks(restore, dc ns, parse(pod-labels))."""
    hook = {"labelSelector": {"matchLabels": {"app": "web"}}, "postHooks": [{"exec": {"command": ["x"]}}]}
    item = _dc({DM_FIX: "true", HAS_VOLUMES: "false", HAS_HOOKS: "false", POD_LABELS: "app=web,tier=a"}, replicas=1)
    assert restore(item, restore_ctx(restore_cr(hooks={"resources": [hook]}))).item["spec"]["replicas"] == 0
    other = _dc({DM_FIX: "true", HAS_VOLUMES: "false", HAS_HOOKS: "false", POD_LABELS: "app=db"}, replicas=1)
    assert restore(other, restore_ctx(restore_cr(hooks={"resources": [hook]}))).item["spec"]["replicas"] == 1


def test_restore_matches_hooks_against_the_source_namespace():
    """§4.16 note: hook matching uses the DC's source namespace, not the mapped one."""
    hook = {"includedNamespaces": ["app"], "postHooks": [{"exec": {"command": ["x"]}}]}
    item = _dc({DM_FIX: "true", HAS_VOLUMES: "false", HAS_HOOKS: "false", POD_LABELS: "app=web"}, replicas=1)
    ctx = restore_ctx(restore_cr(mapping={"app": "app2"}, hooks={"resources": [hook]}))
    assert restore(item, ctx).item["spec"]["replicas"] == 0


def test_restore_leaves_dc_without_pod_needs_untouched():
    """§4.16 step 3: all facts false and no hooks -> no scale down."""
    item = _dc({DM_FIX: "true", HAS_VOLUMES: "false", HAS_HOOKS: "false", POD_LABELS: ""}, replicas=3)
    result = restore(item)
    assert result.item["spec"]["replicas"] == 3
    assert ORIG_REPLICAS not in ann(result.item)
    assert MODIFIED not in labels(result.item)


def test_restore_of_zero_replica_dc_is_not_modified():
    """§4.16 step 4: only when replicas > 0."""
    result = restore(_dc({DM_FIX: "true", HAS_VOLUMES: "true"}, replicas=0))
    assert ORIG_REPLICAS not in ann(result.item)


def test_restore_old_backup_uses_the_backup_fs_default():
    """§4.16 step 3 (old backups): disconnect iff Backup defaultVolumesToRestic/FsBackup."""
    ctx = restore_ctx(restore_cr(), backup=backup_cr(defaultVolumesToRestic=True))
    assert restore(_dc(replicas=2), ctx).item["spec"]["replicas"] == 0
    ctx = restore_ctx(restore_cr(), backup=backup_cr())
    assert restore(_dc(replicas=2), ctx).item["spec"]["replicas"] == 2


def test_restore_old_backup_finds_the_backup_through_the_lookup():
    """§3.3: Backup fetched by restore.spec.backupName in the restore's namespace."""
    ctx = restore_ctx(restore_cr(backupName="b1"), objects=[backup_cr("b1", defaultVolumesToFsBackup=True)])
    assert restore(_dc(replicas=2), ctx).item["spec"]["replicas"] == 0
