"""ReplicationController backup and restore (plugin-spec §4.17, §4.18; test-cases §10; §7 #1)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError
from tests.unit.builders import (
    NEW_REG,
    OLD_REG,
    ann,
    backup,
    backup_ctx,
    obj,
    registry_annotations,
    restore,
    restore_cr,
    restore_ctx,
    with_owner,
    workload,
)

RC_BACKUP = "openshift.io/09-replicationcontroller-backup-plugin"
RC_RESTORE = "openshift.io/09-replicationcontroller-restore-plugin"
PAUSED = "openshift.io/paused-owner-ref"


def _rc(annotations=None, owner=None, template=True):
    anns = registry_annotations()
    anns.update(annotations or {})
    item = workload("v1", "ReplicationController", "web-1", "app", images=(f"{OLD_REG}/app/web:1",),
                    annotations=anns, selector={"deployment": "web-1"}, replicas=1)
    if not template:
        del item["spec"]["template"]
    return with_owner(item, "DeploymentConfig", owner, "apps.openshift.io/v1") if owner else item


def _dc(paused):
    return obj("apps.openshift.io/v1", "DeploymentConfig", "web", "app", spec={"paused": paused})


def test_backup_marks_rc_of_paused_dc():
    """§4.17: owning DC paused -> paused-owner-ref "true"."""
    result = backup(_rc(owner="web"), backup_ctx(objects=[_dc(True)]))
    assert ann(result.item)[PAUSED] == "true"
    assert RC_BACKUP in result.actions


def test_backup_leaves_rc_of_running_dc_unmarked():
    """§4.17: DC not paused -> no annotation."""
    assert PAUSED not in ann(backup(_rc(owner="web"), backup_ctx(objects=[_dc(False)])).item)


def test_backup_fails_when_owning_dc_is_missing():
    """§4.17: GET DC error (NotFound) -> action error."""
    with pytest.raises(ActionError) as err:
        backup(_rc(owner="web"), backup_ctx(objects=[]))
    assert "09-replicationcontroller-backup-plugin" in str(err.value)
    assert "ReplicationController app/web-1" in str(err.value)


def test_backup_keeps_selector_and_does_not_add_template():
    """§7 #1 (intended): no ReplicaSet round trip; selector kept, no template invented."""
    result = backup(_rc(template=False))
    assert result.item["spec"]["selector"] == {"deployment": "web-1"}
    assert "template" not in result.item["spec"]


def test_restore_skips_rc_owned_by_dc():
    """§4.18 / test-cases §10: DC owner in ItemFromBackup, no paused annotation -> skip."""
    item = _rc(owner="web")
    result = restore(item, item_from_backup=item)
    assert result.skip is True
    assert RC_RESTORE in result.actions


def test_restore_keeps_rc_of_paused_dc_and_drops_annotation():
    """§4.18 / test-cases §10: paused-owner-ref present (any value) -> restored, annotation removed."""
    item = _rc({PAUSED: ""}, owner="web")
    result = restore(item, restore_ctx(restore_cr(mapping={"app": "app2"})), item_from_backup=item)
    assert result.skip is False
    assert PAUSED not in ann(result.item)
    assert result.item["spec"]["template"]["spec"]["containers"][0]["image"] == f"{NEW_REG}/app2/web:1"


def test_restore_reads_owner_references_from_item_from_backup():
    """§1.1: Item has owner references reset; ItemFromBackup decides."""
    result = restore(_rc(), item_from_backup=_rc(owner="web"))
    assert result.skip is True


def test_restore_of_standalone_rc_swaps_images():
    """§4.18: images swapped in template containers."""
    result = restore(_rc())
    assert result.skip is False
    assert result.item["spec"]["template"]["spec"]["containers"][0]["image"] == f"{NEW_REG}/app/web:1"
