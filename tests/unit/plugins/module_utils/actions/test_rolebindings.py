"""OpenShift RoleBinding / ClusterRoleBinding restore (plugin-spec §4.31, §4.32; test-cases §6; §7 #23, #24)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.actions.rolebindings import (
    swap_group_names_namespaces,
    swap_subject_namespaces,
    swap_user_names_namespaces,
)
from tests.unit.builders import obj, restore, restore_cr, restore_ctx

RB_RESTORE = "openshift.io/21-role-bindings-restore-plugin"
CRB_RESTORE = "openshift.io/22-cluster-role-bindings-restore-plugin"
MAPPING = {"old-ns": "new-ns"}


def _binding(name, kind="RoleBinding", namespace="test-namespace", **fields):
    return obj("authorization.openshift.io/v1", kind, name, namespace, **fields)


@pytest.mark.parametrize(
    "name, skipped",
    [
        ("system:image-pullers", True),
        ("system:image-builders", True),
        ("system:deployers", True),
        ("my-custom-rolebinding", False),
        ("system:custom-role", False),
    ],
)
def test_execute_system_role_bindings(name, skipped):
    """test-cases §6.2 TestExecuteSystemRoleBindings."""
    item = _binding(name, roleRef={"namespace": "test-namespace", "name": "test-role"},
                    userNames=None, groupNames=None, subjects=None)
    result = restore(item, restore_ctx(restore_cr(mapping={})))
    assert result.skip is skipped
    assert RB_RESTORE in result.actions


def test_execute_namespace_mapping():
    """test-cases §6.3 TestExecuteNamespaceMapping."""
    item = _binding(
        "test-rolebinding",
        roleRef={"namespace": "old-namespace", "name": "test-role"},
        subjects=[{"kind": "ServiceAccount", "namespace": "old-namespace", "name": "test-sa"},
                  {"kind": "Group", "name": "system:serviceaccounts:old-namespace"}],
        userNames=["system:serviceaccount:old-namespace:test-sa", "regular-user"],
        groupNames=["system:serviceaccounts:old-namespace", "regular-group"],
    )
    result = restore(item, restore_ctx(restore_cr(mapping={"old-namespace": "new-namespace"})))
    out = result.item
    assert result.skip is False
    assert out["roleRef"]["namespace"] == "new-namespace"
    assert out["subjects"][0]["namespace"] == "new-namespace"
    assert out["subjects"][1]["name"] == "system:serviceaccounts:new-namespace"
    assert out["userNames"] == ["system:serviceaccount:new-namespace:test-sa", "regular-user"]
    assert out["groupNames"] == ["system:serviceaccounts:new-namespace", "regular-group"]
    assert out["metadata"]["namespace"] == "test-namespace"


@pytest.mark.parametrize(
    "subjects, expected",
    [
        ([{"namespace": "old-ns", "name": "test-sa"}], [{"namespace": "new-ns", "name": "test-sa"}]),
        ([{"name": "system:serviceaccounts:old-ns"}], [{"name": "system:serviceaccounts:new-ns"}]),
        ([{"namespace": "unmapped-ns", "name": "test-sa"}], [{"namespace": "unmapped-ns", "name": "test-sa"}]),
    ],
    ids=["swap namespace in subject", "swap namespace in system group", "no swap when not in mapping"],
)
def test_swap_subject_namespaces(subjects, expected):
    """test-cases §6.4 TestSwapSubjectNamespaces."""
    assert swap_subject_namespaces(subjects, MAPPING) == expected


def test_swap_subject_namespaces_maps_service_account_user_names():
    """§7 #23 (intended): User subject 'system:serviceaccount:<ns>:<sa>' is mapped too."""
    subjects = [{"kind": "User", "name": "system:serviceaccount:old-ns:test-sa"}]
    assert swap_subject_namespaces(subjects, MAPPING) == [{"kind": "User", "name": "system:serviceaccount:new-ns:test-sa"}]


@pytest.mark.parametrize(
    "names, expected",
    [
        (["system:serviceaccount:old-ns:test-sa"], ["system:serviceaccount:new-ns:test-sa"]),
        (["regular-user"], ["regular-user"]),
        (["system:serviceaccount:unmapped-ns:test-sa"], ["system:serviceaccount:unmapped-ns:test-sa"]),
    ],
)
def test_swap_user_names_namespaces(names, expected):
    """test-cases §6.5 TestSwapUserNamesNamespaces."""
    assert swap_user_names_namespaces(names, MAPPING) == expected


@pytest.mark.parametrize(
    "names, expected",
    [
        (["system:serviceaccounts:old-ns"], ["system:serviceaccounts:new-ns"]),
        (["regular-group"], ["regular-group"]),
        (["system:serviceaccounts:unmapped-ns"], ["system:serviceaccounts:unmapped-ns"]),
    ],
)
def test_swap_group_names_namespaces(names, expected):
    """test-cases §6.6 TestSwapGroupNamesNamespaces."""
    assert swap_group_names_namespaces(names, MAPPING) == expected


def test_cluster_role_binding_maps_subjects_without_skip_list():
    """§4.32 / §7 #24: same mapping as 4.31, no system-name skip list."""
    item = _binding("system:deployers", kind="ClusterRoleBinding", namespace=None,
                    roleRef={"name": "admin"},
                    subjects=[{"kind": "ServiceAccount", "namespace": "old-ns", "name": "sa"}],
                    userNames=["system:serviceaccount:old-ns:sa"], groupNames=["system:serviceaccounts:old-ns"])
    result = restore(item, restore_ctx(restore_cr(mapping=MAPPING)))
    assert result.skip is False
    assert result.actions == [CRB_RESTORE]
    assert result.item["subjects"][0]["namespace"] == "new-ns"
    assert result.item["userNames"] == ["system:serviceaccount:new-ns:sa"]
    assert result.item["groupNames"] == ["system:serviceaccounts:new-ns"]


def test_rbac_k8s_io_role_bindings_are_not_handled():
    """§4.31 AppliesTo: only the authorization.openshift.io type."""
    item = obj("rbac.authorization.k8s.io/v1", "RoleBinding", "system:deployers", "app",
               subjects=[{"kind": "ServiceAccount", "namespace": "old-ns", "name": "sa"}])
    result = restore(item, restore_ctx(restore_cr(mapping=MAPPING)))
    assert result.actions == []
    assert result.skip is False
    assert result.item["subjects"][0]["namespace"] == "old-ns"
