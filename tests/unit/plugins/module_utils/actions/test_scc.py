"""SecurityContextConstraints restore (plugin-spec §4.30)."""

from tests.unit.builders import obj, restore, restore_cr, restore_ctx

SCC_RESTORE = "openshift.io/20-SCC-restore-plugin"
USERS = [
    "system:serviceaccount:app",
    "system:serviceaccount:app:builder",
    "system:serviceaccount:other:builder",
    "system:serviceaccounts:app",
    "system:admin",
    "alice",
]


def _scc():
    return obj("security.openshift.io/v1", "SecurityContextConstraints", "restricted-app",
               users=list(USERS), groups=["system:serviceaccounts:app"])


def test_service_account_users_follow_the_namespace_mapping():
    """§4.30: both 'system:serviceaccount:ns' and ':ns:sa' mapped; others unchanged."""
    result = restore(_scc(), restore_ctx(restore_cr(mapping={"app": "app2"})))
    assert result.item["users"] == [
        "system:serviceaccount:app2",
        "system:serviceaccount:app2:builder",
        "system:serviceaccount:other:builder",
        "system:serviceaccounts:app",
        "system:admin",
        "alice",
    ]
    assert result.actions == [SCC_RESTORE]


def test_groups_are_not_touched():
    """§4.30: groups are not mapped."""
    result = restore(_scc(), restore_ctx(restore_cr(mapping={"app": "app2"})))
    assert result.item["groups"] == ["system:serviceaccounts:app"]


def test_without_mapping_users_are_unchanged():
    """§4.30: mapping empty -> nothing changes."""
    for mapping in (None, {}):
        result = restore(_scc(), restore_ctx(restore_cr(mapping=mapping)))
        assert result.item["users"] == USERS
        assert result.skip is False
