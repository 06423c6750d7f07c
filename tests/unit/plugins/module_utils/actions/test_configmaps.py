"""ConfigMap backup and restore (plugin-spec §4.35, §4.36; test-cases §10)."""

import pytest

from tests.unit.builders import ann, backup, backup_ctx, obj, pod, restore, with_owner

SKIP_KEY = "oadp.openshift.io/skip-buildconfig-configmap-restore"
CM_BACKUP = "openshift.io/25-configmap-backup-plugin"
CM_RESTORE = "openshift.io/25-configmap-restore-plugin"


def _cm(name="web-1-ca", annotations=None, owner_kind="Pod", owner_name="web-1-build"):
    item = obj("v1", "ConfigMap", name, "app", annotations, data={"k": "v"})
    return with_owner(item, owner_kind, owner_name) if owner_kind else item


BUILD_POD = pod("web-1-build", annotations={"openshift.io/build.name": "web-1"})
PLAIN_POD = pod("web-1-build", annotations={"openshift.io/build.name": ""})


@pytest.mark.parametrize("name", ["web-1-ca", "web-1-sys-config", "mica"])
def test_build_pod_configmap_is_marked_skip_on_restore(name):
    """§4.35: name ends with ca / sys-config, owned by a build pod -> annotation "true"."""
    result = backup(_cm(name), backup_ctx(objects=[BUILD_POD]))
    assert ann(result.item)[SKIP_KEY] == "true"
    assert CM_BACKUP in result.actions


@pytest.mark.parametrize(
    "item, objects",
    [
        (_cm("web-1-config"), [BUILD_POD]),
        (_cm(owner_kind=None), [BUILD_POD]),
        (_cm(owner_kind="ReplicaSet"), [BUILD_POD]),
        (_cm(), [PLAIN_POD]),
        (_cm(), []),
    ],
    ids=["other name", "no owner", "owner not a pod", "pod not a build pod", "owner pod not found"],
)
def test_other_configmaps_are_not_marked(item, objects):
    """§4.35 steps 1-3: first failing condition -> unchanged."""
    assert SKIP_KEY not in ann(backup(item, backup_ctx(objects=objects)).item)


def test_existing_skip_annotation_value_is_kept():
    """§4.35 step 4: existing value (even "false") kept."""
    result = backup(_cm(annotations={SKIP_KEY: "false"}), backup_ctx(objects=[BUILD_POD]))
    assert ann(result.item)[SKIP_KEY] == "false"


@pytest.mark.parametrize("value", ["1", "t", "T", "TRUE", "true", "True"])
def test_restore_skips_when_annotation_is_a_true_boolean(value):
    """§4.36: Go ParseBool true values -> skip."""
    result = restore(_cm(annotations={SKIP_KEY: value}))
    assert result.skip is True
    assert CM_RESTORE in result.actions


@pytest.mark.parametrize("value", ["false", "0", "yes", "", "tRuE"])
def test_restore_keeps_configmap_otherwise(value):
    """§4.36 / test-cases §10: false / unparsable -> not skipped."""
    assert restore(_cm(annotations={SKIP_KEY: value})).skip is False


def test_restore_keeps_configmap_without_annotation():
    """§4.36: absent -> unchanged."""
    result = restore(_cm())
    assert result.skip is False
    assert result.item["data"] == {"k": "v"}
