"""Pod backup and restore (plugin-spec §4.13, §4.14; test-cases §10; §7 #4, #5, #21)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError
from tests.unit.builders import (
    DM_FIX,
    NEW_REG,
    OLD_REG,
    ann,
    backup,
    backup_cr,
    labels,
    obj,
    pod,
    registry_annotations,
    restore,
    restore_cr,
    restore_ctx,
    with_owner,
)

POD_BACKUP = "openshift.io/07-pod-backup-plugin"
POD_RESTORE = "openshift.io/07-pod-restore-plugin"
HOOK = "post.hook.restore.velero.io/command"
DISCONNECTED = "oadp.openshift.io/disconnected-from-dc"
DC_LABELS = {"deployment": "web-1", "deploymentconfig": "web", "app": "web"}
PVC = {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}
CM = {"name": "cfg", "configMap": {"name": "cfg"}}
SA_NAME = "openshift.io/internal-registry-auth-token.service-account"
PULL_REF = "openshift.io/internal-registry-pull-secret-ref"


def _pod(annotations=None, labels=None, volumes=(), owner=None, **spec):
    anns = registry_annotations()
    anns.update(annotations or {})
    item = pod("web-1-x", "app", images=(f"{OLD_REG}/app/web:1",), annotations=anns, labels=labels,
               volumes=list(volumes), **spec)
    return with_owner(item, owner, "web-1") if owner else item


def test_backup_marks_pod_as_backed_up_with_dc_fix():
    """§4.13: includes-dm-dc-fix = "true" (annotations created)."""
    result = backup(pod())
    assert ann(result.item)[DM_FIX] == "true"
    assert POD_BACKUP in result.actions


def test_restore_skips_build_pods():
    """§4.14 step 1 / test-cases §10: build.name on ItemFromBackup -> skip unchanged."""
    source = _pod({"openshift.io/build.name": "b-1"}, nodeSelector={"a": "b"})
    result = restore(_pod(nodeSelector={"a": "b"}), item_from_backup=source)
    assert result.skip is True
    assert result.item["spec"]["nodeSelector"] == {"a": "b"}
    assert POD_RESTORE in result.actions


def test_restore_skips_controller_owned_pod_without_volumes_or_hooks():
    """§4.14 step 7: ownerRefs (from ItemFromBackup) and no volumes/hooks -> skip."""
    source = _pod(owner="ReplicaSet", volumes=[CM])
    assert restore(_pod(volumes=[CM]), item_from_backup=source).skip is True


def test_restore_keeps_controller_owned_pod_with_volumes():
    """§4.14 step 7: volumes to back up -> restored (Velero restores their data)."""
    source = _pod(owner="ReplicaSet", volumes=[PVC])
    assert restore(_pod(volumes=[PVC]), item_from_backup=source).skip is False


def test_restore_keeps_owned_pod_with_hook_annotation_without_restore_hooks_spec():
    """§7 #4 (intended): hook annotations count even when restore.spec.hooks.resources is absent."""
    source = _pod({HOOK: "echo hi"}, owner="ReplicaSet")
    result = restore(_pod({HOOK: "echo hi"}), restore_ctx(restore_cr()), item_from_backup=source)
    assert result.skip is False


def test_restore_keeps_owned_pod_matched_by_restore_hook_spec():
    """§4.14 step 5 + §3.8: restore hook resources matching the pod."""
    hooks = {"resources": [{"name": "h", "includedNamespaces": ["app"], "postHooks": [{"exec": {"command": ["x"]}}]}]}
    source = _pod(owner="ReplicaSet")
    assert restore(_pod(), restore_ctx(restore_cr(hooks=hooks)), item_from_backup=source).skip is False


def test_restore_hook_spec_error_is_an_action_error():
    """§4.14 step 5: PodHasRestoreHooks error -> action error."""
    hook = {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, "postHooks": [{"exec": {}}]}
    with pytest.raises(ActionError, match="07-pod-restore-plugin"):
        restore(_pod(), restore_ctx(restore_cr(hooks={"resources": [hook]})))


def test_restore_removes_node_selector_and_swaps_images():
    """§4.14 steps 2 and 10: nodeSelector removed; containers + initContainers swapped with mapping."""
    item = _pod(nodeSelector={"zone": "a"}, init_images=(f"{OLD_REG}/app/init:1",))
    result = restore(item, restore_ctx(restore_cr(mapping={"app": "app2"})))
    spec = result.item["spec"]
    assert "nodeSelector" not in spec
    assert spec["containers"][0]["image"] == f"{NEW_REG}/app2/web:1"
    assert spec["initContainers"][0]["image"] == f"{NEW_REG}/app2/init:1"
    assert result.item["metadata"]["namespace"] == "app"


def test_restore_disconnects_dc_pod_with_volumes():
    """§4.14 steps 8-9: dm-fix pod with volumes -> DC labels removed, disconnected-from-dc = restore name."""
    item = _pod({DM_FIX: "true"}, labels=DC_LABELS, volumes=[PVC])
    result = restore(item, restore_ctx(restore_cr("my-restore")))
    assert labels(result.item) == {"app": "web", DISCONNECTED: "my-restore"}


def test_restore_disconnected_label_is_a_valid_label_value():
    """§4.14 step 9: validLabel(restore name) for names over 63 characters."""
    name = "r" * 70
    item = _pod({DM_FIX: "true"}, labels=DC_LABELS, volumes=[PVC])
    value = labels(restore(item, restore_ctx(restore_cr(name))).item)[DISCONNECTED]
    assert len(value) == 63 and value.startswith("r" * 57)


def test_restore_disconnects_dc_pod_with_restore_hooks():
    """§4.14 step 8: dm-fix pod with a hook annotation (no volumes) -> disconnected."""
    item = _pod({DM_FIX: "true", HOOK: "echo"}, labels=DC_LABELS, volumes=[CM])
    assert labels(restore(item, restore_ctx(restore_cr("r2"))).item) == {"app": "web", DISCONNECTED: "r2"}


def test_restore_keeps_dc_labels_of_dm_fix_pod_without_volumes_or_hooks():
    """§4.14 step 8: dm-fix pod -> disconnect = hooks or volumes."""
    result = restore(_pod({DM_FIX: "true"}, labels=DC_LABELS, volumes=[CM]), restore_ctx(restore_cr()))
    assert labels(result.item) == DC_LABELS


def test_restore_old_pod_disconnects_when_backup_defaults_to_fs_backup():
    """§4.14 step 4/8: pre-dm-fix pod -> disconnect iff the Backup defaults volumes to FS backup."""
    for flag in ("defaultVolumesToFsBackup", "defaultVolumesToRestic"):
        ctx = restore_ctx(restore_cr(), backup=backup_cr(**{flag: True}))
        assert labels(restore(_pod(labels=DC_LABELS), ctx).item) == {"app": "web", DISCONNECTED: "r1"}
    ctx = restore_ctx(restore_cr(), backup=backup_cr(defaultVolumesToFsBackup=False))
    assert labels(restore(_pod(labels=DC_LABELS), ctx).item) == DC_LABELS
    assert labels(restore(_pod(labels=DC_LABELS), restore_ctx(restore_cr())).item) == DC_LABELS


# --- pull secrets (§4.14 steps 11-13, §7 #21) ---------------------------------------------

def _openshift(version="4.14.3", capabilities=("ImageRegistry",), state="Managed"):
    cv = obj("config.openshift.io/v1", "ClusterVersion", "version",
             status={"desired": {"version": version}, "capabilities": {"enabledCapabilities": list(capabilities)}})
    config = obj("imageregistry.operator.openshift.io/v1", "Config", "cluster", spec={"managementState": state})
    return [cv, config]


def _destination(namespace="app2"):
    secret = obj("v1", "Secret", "default-dockercfg-new", namespace, {SA_NAME: "default"})
    account = obj("v1", "ServiceAccount", "default", namespace, {PULL_REF: "default-dockercfg-new"})
    return [obj("v1", "Namespace", namespace), secret, account]


PULL_SECRETS = [{"name": "default-dockercfg-old"}, {"name": "my-secret"}]


def _restore_pull(objects):
    ctx = restore_ctx(restore_cr(mapping={"app": "app2"}), objects=objects)
    return restore(_pod(imagePullSecrets=[dict(s) for s in PULL_SECRETS]), ctx).item["spec"]["imagePullSecrets"]


def test_restore_remaps_generated_pull_secrets_in_destination_namespace():
    """§4.14 step 13: default-dockercfg found in mapped destination namespace -> remapped."""
    assert _restore_pull(_openshift() + _destination()) == [{"name": "default-dockercfg-new"}, {"name": "my-secret"}]


def test_restore_leaves_pull_secrets_when_destination_secret_not_created_yet():
    """§7 #21 (intended): never waits; no default-dockercfg- yet -> unchanged, no error."""
    assert _restore_pull(_openshift()) == PULL_SECRETS


def test_restore_leaves_pull_secrets_on_plain_kubernetes():
    """§7 #21 (intended): no ClusterVersion -> no remap."""
    assert _restore_pull(_destination()) == PULL_SECRETS


def test_restore_leaves_pull_secrets_when_ocp_415_registry_is_disabled():
    """§3.12: OCP >= 4.15 without ImageRegistry capability (or registry Removed) -> no remap."""
    assert _restore_pull(_openshift("4.16.2", capabilities=()) + _destination()) == PULL_SECRETS
    assert _restore_pull(_openshift("4.15.0", state="Removed") + _destination()) == PULL_SECRETS


def test_restore_fails_when_a_generated_pull_secret_has_no_counterpart():
    """§4.14 notes: builder-/deployer- refs are remapped too and fail with 'secret not found'."""
    ctx = restore_ctx(restore_cr(mapping={"app": "app2"}), objects=_openshift() + _destination())
    with pytest.raises(ActionError, match="secret not found"):
        restore(_pod(imagePullSecrets=[{"name": "builder-dockercfg-old"}]), ctx)


def test_restore_remaps_on_ocp_414_even_without_registry_capability():
    """§3.12: older than 4.15 -> wait/remap regardless of the capability."""
    objects = _openshift("4.14.9", capabilities=()) + _destination()
    assert _restore_pull(objects)[0] == {"name": "default-dockercfg-new"}


# --- stage pods (§4.14 step 14, §7 #5) ----------------------------------------------------

def test_restore_turns_included_pod_into_stage_pod():
    """§4.14 step 14 + §7 #5: PVC volumes minus excluded kept; containers sleep; init mounts filtered."""
    volumes = [PVC, {"name": "b", "persistentVolumeClaim": {"claimName": "b"}}, {"name": "tmp", "emptyDir": {}}]
    mounts = [{"name": "data", "mountPath": "/d"}, {"name": "b", "mountPath": "/b"}, {"name": "tmp", "mountPath": "/t"}]
    item = _pod({"migration.openshift.io/exclude-pvcs": "b"}, labels={"migration-included-stage-backup": "x"},
                volumes=volumes, init_images=(f"{OLD_REG}/app/init:1",))
    item["spec"]["containers"][0]["volumeMounts"] = [dict(m) for m in mounts]
    item["spec"]["initContainers"][0]["volumeMounts"] = [dict(m) for m in mounts]
    ctx = restore_ctx(restore_cr(annotations={"migration.openshift.io/stage-pod-image": "stage:1"}))
    spec = restore(item, ctx).item["spec"]
    assert spec["volumes"] == [PVC]
    (main,) = spec["containers"]
    assert (main["image"], main["command"], main["args"]) == ("stage:1", ["sleep"], ["infinity"])
    assert main["volumeMounts"] == [{"name": "data", "mountPath": "/d"}]
    (init,) = spec["initContainers"]
    assert init["image"] == f"{NEW_REG}/app/init:1"
    assert init["volumeMounts"] == [{"name": "data", "mountPath": "/d"}]


def test_restore_needs_both_stage_label_and_stage_image():
    """§4.14 step 14: label non-empty AND restore stage-pod-image non-empty."""
    item = _pod(labels={"migration-included-stage-backup": "x"}, volumes=[PVC])
    assert restore(item, restore_ctx(restore_cr())).item["spec"]["containers"][0]["image"] == f"{NEW_REG}/app/web:1"
    ctx = restore_ctx(restore_cr(annotations={"migration.openshift.io/stage-pod-image": "stage:1"}))
    assert restore(_pod(volumes=[PVC]), ctx).item["spec"]["containers"][0]["image"] == f"{NEW_REG}/app/web:1"
