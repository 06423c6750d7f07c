"""Non-admin restore (plugin-spec §4.37; test-cases §4)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.runner import run_restore_item
from tests.unit.builders import obj, restore_cr, restore_ctx

NONADMIN_RESTORE = "openshift.io/26-nonadmin-restore-plugin"


@pytest.mark.parametrize(
    "api_version, kind, resource, skipped",
    [
        ("oadp.openshift.io/v1alpha1", "NonAdminBackup", None, True),
        ("oadp.openshift.io/v1alpha1", "NonAdminRestore", None, True),
        ("oadp.openshift.io/v1alpha1", "NonAdminBackupStorageLocation", None, True),
        ("apps/v1", "Deployment", "nonadminbackups.oadp.openshift.io", False),
        ("customgroup.io/v1", "NonAdminBackup", "nonadminbackups.oadp.openshift.io", False),
    ],
    ids=["NonAdminBackup", "NonAdminRestore", "NonAdminBackupStorageLocation", "unrelated kind", "unrelated group"],
)
def test_execute_skips_restore(api_version, kind, resource, skipped):
    """test-cases §4.2 TestExecuteSkipsRestore (the action runs; it checks group and kind itself)."""
    item = obj(api_version, kind, "test-resource", "test-ns")
    result = run_restore_item(item, restore_ctx(restore_cr()), resource=resource)
    assert NONADMIN_RESTORE in result.actions
    assert result.skip is skipped
    assert result.item["kind"] == kind
