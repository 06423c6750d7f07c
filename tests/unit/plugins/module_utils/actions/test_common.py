"""01-common backup/restore actions (plugin-spec §4.1, §4.2, §1.1 resource matching)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.context import ClusterFacts
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError
from ansible_collections.openshift_migration.velero.plugins.module_utils.lookups import SnapshotLookup
from ansible_collections.openshift_migration.velero.plugins.module_utils.context import BackupContext
from tests.unit.builders import (
    BACKUP_REGISTRY,
    BACKUP_VERSION,
    NEW_REG,
    OLD_REG,
    RESTORE_REGISTRY,
    RESTORE_VERSION,
    ann,
    backup,
    backup_cr,
    backup_ctx,
    obj,
    pod,
    restore,
    restore_ctx,
)

COMMON_BACKUP = "openshift.io/01-common-backup-plugin"
COMMON_RESTORE = "openshift.io/01-common-restore-plugin"

STAMPED = [
    ("v1", "Pod"),
    ("image.openshift.io/v1", "ImageStream"),
    ("image.openshift.io/v1", "ImageStreamTag"),
    ("apps/v1", "Deployment"),
    ("extensions/v1beta1", "Deployment"),
    ("apps.openshift.io/v1", "DeploymentConfig"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("extensions/v1beta1", "DaemonSet"),
    ("apps/v1", "ReplicaSet"),
    ("extensions/v1beta1", "ReplicaSet"),
    ("v1", "ReplicationController"),
    ("build.openshift.io/v1", "BuildConfig"),
]
NOT_STAMPED = [
    ("build.openshift.io/v1", "Build"),
    ("route.openshift.io/v1", "Route"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
]


def test_backup_stamps_server_version_and_registry_hostname():
    """§4.1: backup-server-version and backup-registry-hostname, annotations map created."""
    result = backup(pod(), backup_ctx(registry=OLD_REG, version="1.11"))
    assert ann(result.item)[BACKUP_VERSION] == "1.11"
    assert ann(result.item)[BACKUP_REGISTRY] == OLD_REG
    assert result.skip is False and result.additional_items == []
    assert result.actions[0] == COMMON_BACKUP


def test_restore_stamps_server_version_and_registry_hostname():
    """§4.2: restore-server-version and restore-registry-hostname on the item; never skips."""
    item = pod(annotations={"keep": "me"})
    result = restore(item, restore_ctx(registry=NEW_REG, version="1.29"))
    assert ann(result.item)[RESTORE_VERSION] == "1.29"
    assert ann(result.item)[RESTORE_REGISTRY] == NEW_REG
    assert ann(result.item)["keep"] == "me"
    assert result.skip is False
    assert result.actions[0] == COMMON_RESTORE


def test_empty_registry_hostname_is_stamped_as_empty_string():
    """§4.1: registry may be "" (cluster without internal registry)."""
    result = backup(pod(), backup_ctx(registry=""))
    assert ann(result.item)[BACKUP_REGISTRY] == ""


@pytest.mark.parametrize("api_version, kind", STAMPED)
def test_common_actions_apply_to_every_workload_kind(api_version, kind):
    """§4.1 AppliesTo incl. group aliases (extensions) and singular replicationcontroller."""
    result = backup(obj(api_version, kind, "x", "app", spec={}))
    assert COMMON_BACKUP in result.actions
    assert BACKUP_VERSION in ann(result.item)
    assert COMMON_RESTORE in restore(obj(api_version, kind, "x", "app", spec={})).actions


@pytest.mark.parametrize("api_version, kind", NOT_STAMPED)
def test_common_actions_skip_kinds_outside_their_list(api_version, kind):
    """§4.1: not builds, routes, services, secrets, configmaps."""
    result = backup(obj(api_version, kind, "x", "app", spec={}))
    assert COMMON_BACKUP not in result.actions
    assert BACKUP_VERSION not in ann(result.item)
    assert COMMON_RESTORE not in restore(obj(api_version, kind, "x", "app", spec={})).actions


def test_resource_argument_overrides_derived_group_resource():
    """§1.1 matching: resource= names the group-resource explicitly."""
    item = obj("example.com/v1", "Widget", "x", "app")
    assert COMMON_BACKUP in backup(item, resource="pods").actions
    assert COMMON_BACKUP not in backup(obj("v1", "Pod", "x", "app"), resource="widgets.example.com").actions


def test_facts_are_discovered_lazily_from_the_lookup():
    """§3.1/§3.2 via ClusterFacts(None, None, lookup)."""
    stream = obj("image.openshift.io/v1", "ImageStream", "cli", "openshift",
                 status={"dockerImageRepository": "reg.example.com:5000/openshift/cli"})
    facts = ClusterFacts(None, None, SnapshotLookup([stream], {"major": "1", "minor": "25+"}))
    result = backup(pod(), BackupContext(backup_cr(), facts))
    assert ann(result.item)[BACKUP_VERSION] == "1.25"
    assert ann(result.item)[BACKUP_REGISTRY] == "reg.example.com:5000"


def test_discovery_failure_is_an_action_error_naming_action_and_item():
    """§4.1 Errors: §3.1 failure -> action error; message names action and 'Kind ns/name'."""
    facts = ClusterFacts(None, "", SnapshotLookup([], None))
    with pytest.raises(ActionError) as err:
        backup(pod("web-1", "app"), BackupContext(backup_cr(), facts))
    assert "01-common-backup-plugin" in str(err.value)
    assert "Pod app/web-1" in str(err.value)


def test_disabled_common_action_does_not_run():
    """Runner: disabled actions (with or without the openshift.io/ prefix) don't run."""
    for name in (COMMON_BACKUP, "01-common-backup-plugin"):
        result = backup(pod(), disabled=(name,))
        assert COMMON_BACKUP not in result.actions
        assert BACKUP_VERSION not in ann(result.item)
