"""backup_item / restore_item filters (design.md §4.1)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_migration.velero.plugins.filter.migration import (
    FilterModule,
    backup_item,
    restore_item,
)
from tests.unit.builders import (
    BACKUP_REGISTRY,
    BACKUP_VERSION,
    NEW_REG,
    OLD_REG,
    RESTORE_REGISTRY,
    ann,
    backup_cr,
    obj,
    pod,
    registry_annotations,
    restore_cr,
    with_owner,
)

SOURCE = {"server_version": "1.11", "registry_hostname": OLD_REG}
DEST = {"server_version": "1.29", "registry_hostname": NEW_REG}
KEYS = {"item", "skip", "additional_items", "actions"}


def test_filters_are_registered_under_their_contract_names():
    """§4.1: openshift_migration.velero.backup_item / restore_item."""
    filters = FilterModule().filters()
    assert filters["backup_item"] is backup_item
    assert filters["restore_item"] is restore_item


def test_backup_item_returns_the_result_dict():
    """§4.1 Result: item, skip, additional_items, actions."""
    out = backup_item(pod(), backup=backup_cr(), cluster=SOURCE)
    assert set(out) == KEYS
    assert ann(out["item"])[BACKUP_REGISTRY] == OLD_REG
    assert ann(out["item"])[BACKUP_VERSION] == "1.11"
    assert out["actions"] == ["openshift.io/01-common-backup-plugin", "openshift.io/07-pod-backup-plugin"]
    assert (out["skip"], out["additional_items"]) == (False, [])


def test_backup_item_does_not_modify_its_input():
    """Filters are pure: the caller's item stays as it was."""
    item = pod()
    backup_item(item, cluster=SOURCE)
    assert item == pod()


def test_restore_item_maps_images_and_keeps_namespace():
    """§4.1: restore actions never change metadata.namespace; mapping used for references."""
    item = pod("web-1", "app", images=(f"{OLD_REG}/app/web:1",), annotations=registry_annotations(OLD_REG, ""))
    out = restore_item(item, restore=restore_cr(mapping={"app": "app2"}), cluster=DEST)
    assert set(out) == KEYS
    assert ann(out["item"])[RESTORE_REGISTRY] == NEW_REG
    assert out["item"]["spec"]["containers"][0]["image"] == f"{NEW_REG}/app2/web:1"
    assert out["item"]["metadata"]["namespace"] == "app"


def test_restore_item_uses_item_from_backup():
    """§4.1: item_from_backup carries owner references the restored item lost."""
    item = pod()
    out = restore_item(item, restore=restore_cr(), cluster=DEST, item_from_backup=with_owner(pod(), "ReplicaSet", "web-1"))
    assert out["skip"] is True
    assert restore_item(pod(), restore=restore_cr(), cluster=DEST)["skip"] is False


def test_cluster_objects_answer_lookups():
    """§4.1 cluster.objects: live objects the look-ups consult (SCCs for a ServiceAccount)."""
    scc = obj("security.openshift.io/v1", "SecurityContextConstraints", "anyuid", users=["system:serviceaccount:app:sa"])
    out = backup_item(obj("v1", "ServiceAccount", "sa", "app"), cluster=dict(SOURCE, objects=[scc]))
    assert out["additional_items"] == [
        {"group": "security.openshift.io", "resource": "securitycontextconstraints", "namespace": "", "name": "anyuid"}
    ]


def test_missing_cluster_facts_are_discovered_from_objects():
    """§4.1: registry_hostname absent -> discovered from cluster objects (plain k8s -> "")."""
    out = backup_item(pod(), cluster={"server_version": "1.27", "objects": []})
    assert ann(out["item"])[BACKUP_REGISTRY] == ""


def test_resource_argument_selects_the_actions():
    """§4.1: resource= overrides the derived group-resource."""
    item = obj("example.com/v1", "Thing", "t", "app", {"openshift.io/host.generated": "true"}, spec={"host": "h"})
    out = restore_item(item, restore=restore_cr(), cluster=DEST, resource="routes")
    assert out["actions"] == ["openshift.io/05-route-restore-plugin"]
    assert "host" not in out["item"]["spec"]


def test_disabled_actions_accept_short_and_full_names():
    """§4.1: disabled_actions switch actions off by name."""
    for name in ("07-pod-backup-plugin", "openshift.io/07-pod-backup-plugin"):
        out = backup_item(pod(), cluster=SOURCE, disabled_actions=[name])
        assert out["actions"] == ["openshift.io/01-common-backup-plugin"]


def test_restore_skip_stops_later_actions():
    """§1.1: when an action skips, Velero runs no further action on the item."""
    item = obj("v1", "Secret", "s", "app", {"service.alpha.openshift.io/originating-service-name": "x"})
    out = restore_item(item, restore=restore_cr(), cluster=DEST)
    assert out["skip"] is True and out["actions"] == ["openshift.io/18-secret-restore-plugin"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: backup_item("not a dict", cluster=SOURCE),
        lambda: backup_item({"kind": "Pod", "metadata": {"name": "x"}}, cluster=SOURCE),
        lambda: backup_item(pod(), backup="b1", cluster=SOURCE),
        lambda: restore_item(pod(), restore=["r"], cluster=DEST),
        lambda: restore_item(pod(), restore=restore_cr(), cluster="dest"),
        lambda: backup_item(pod(), cluster=SOURCE, disabled_actions="07-pod-backup-plugin"),
        lambda: backup_item(pod(), cluster=SOURCE, disabled_actions=["no-such-action"]),
    ],
    ids=["item not a dict", "no apiVersion", "backup not a dict", "restore not a dict", "cluster not a dict",
         "disabled not a list", "unknown action"],
)
def test_bad_input_raises_ansible_filter_error(call):
    """§4.1: bad input -> AnsibleFilterError."""
    with pytest.raises(AnsibleFilterError):
        call()


def test_action_failure_raises_ansible_filter_error_naming_item():
    """§4.1 + §4.17: an action error surfaces as AnsibleFilterError naming action and item."""
    rc = with_owner(obj("v1", "ReplicationController", "web-1", "app", spec={}), "DeploymentConfig", "web")
    with pytest.raises(AnsibleFilterError, match="ReplicationController app/web-1"):
        backup_item(rc, cluster=SOURCE)
