"""Filters backup_item and restore_item: the OpenShift Velero Plugin's actions on one object."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_migration.velero.plugins.module_utils.context import (
    BackupContext, RestoreContext, facts_from_dict)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.runner import run_backup_item, run_restore_item


def _plain(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError(f"{what} must be a dict (a Velero object), got {type(value).__name__}")
    return value


def _disabled(value) -> list:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise AnsibleFilterError("disabled_actions must be a list of action names")
    return list(value)


def backup_item(item, backup=None, cluster=None, resource=None, disabled_actions=None) -> dict:
    try:
        ctx = BackupContext(backup=_plain(backup, "backup"), cluster=facts_from_dict(_plain(cluster, "cluster")))
        return run_backup_item(item, ctx, resource=resource, disabled=_disabled(disabled_actions)).as_dict()
    except MigrationError as error:
        raise AnsibleFilterError(f"backup_item: {error}") from error


def restore_item(item, restore=None, cluster=None, item_from_backup=None, backup=None, resource=None,
                 disabled_actions=None) -> dict:
    try:
        ctx = RestoreContext(restore=_plain(restore, "restore"), cluster=facts_from_dict(_plain(cluster, "cluster")),
                             backup=_plain(backup, "backup") or None)
        return run_restore_item(item, ctx, item_from_backup=item_from_backup, resource=resource,
                                disabled=_disabled(disabled_actions)).as_dict()
    except MigrationError as error:
        raise AnsibleFilterError(f"restore_item: {error}") from error


class FilterModule:
    def filters(self):
        return {"backup_item": backup_item, "restore_item": restore_item}
