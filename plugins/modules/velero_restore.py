#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: velero_restore
short_description: Create or find a Velero Restore and wait for it
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift-migration)
description:
  - Creates a Velero C(Restore) of a backup in the Velero namespace of a cluster, or finds the one
    of that name.
  - A Restore that exists with the requested spec is left alone and the task reports no change. One
    that exists with another spec is an error naming every field that differs. Only the options
    that are set are compared; the resources Velero always excludes from a restore are ignored.
  - Before creating the Restore, checks that Velero knows the backup. A backup written to the
    location by another cluster appears only after Velero's backup sync; with O(wait), the module
    waits for it within O(wait_timeout).
  - With O(wait), waits until the Restore reaches a final phase, and fails when it ends C(Failed),
    C(PartiallyFailed) or C(FailedValidation), or when O(wait_timeout) passes.
  - When the Restore recorded warnings or errors, reads its results through a Velero
    C(DownloadRequest) and returns them per namespace (RV(restore_results)); a failure message carries them.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - openshift_migration.velero.velero_wait
requirements:
  - kubernetes >= 24.2.0
options:
  name:
    description: Name of the Restore.
    type: str
    required: true
  backup_name:
    description: Name of the Backup to restore.
    type: str
    required: true
  namespace:
    description: The namespace Velero runs in, where the Restore is created.
    type: str
    default: velero
  namespace_mapping:
    description: Restore the objects of a namespace (key) into another namespace (value).
    type: dict
  included_namespaces:
    description: Namespaces of the backup to restore; all when not set.
    type: list
    elements: str
  excluded_namespaces:
    description: Namespaces of the backup not to restore.
    type: list
    elements: str
  included_resources:
    description: Resources to restore (for example V(deployments.apps)); all when not set.
    type: list
    elements: str
  excluded_resources:
    description: Resources not to restore.
    type: list
    elements: str
  label_selector:
    description: Restore only the objects that carry all of these labels (C(spec.labelSelector.matchLabels)).
    type: dict
  include_cluster_resources:
    description: Whether to restore cluster-scoped resources; Velero decides when not set.
    type: bool
  existing_resource_policy:
    description: What Velero does with an object that already exists; V(none) leaves it, V(update) updates it.
    type: str
    choices: [none, update]
  restore_pvs:
    description: Whether to restore persistent volumes from snapshots.
    type: bool
  preserve_node_ports:
    description: Whether to keep the node ports of Services.
    type: bool
  labels:
    description: Labels of the Restore.
    type: dict
  annotations:
    description: Annotations of the Restore.
    type: dict
  wait:
    description: Whether to wait for the backup to be known and for the Restore to reach a final phase.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait, for the backup sync and the restore together.
      - With O(backup_sync_timeout), for the restore alone, counted from the moment the backup is known.
    type: int
    default: 600
  backup_sync_timeout:
    description:
      - How many seconds to wait for Velero's backup sync to bring O(backup_name) from the backup location
        when the cluster does not know it yet; the Restore is created as soon as it appears.
      - Independent of O(wait), so a playbook can wait for the sync in this call and follow the restore in
        later ones. When not set, the backup must be known already, or, with O(wait=true), it is waited for
        within O(wait_timeout).
    type: int
attributes:
  check_mode:
    description: Can run in check mode and return the Restore that would be created (a server-side dry run).
    support: full
  diff_mode:
    description: Returns no diff; the result holds the Restore.
    support: none
  action_group:
    description: Use C(group/openshift_migration.velero.velero) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - openshift_migration.velero.velero
notes:
  - The user needs create and get on C(restores.velero.io) and C(downloadrequests.velero.io), get on
    C(backups.velero.io) in the Velero namespace, and get on namespaces.
seealso:
  - module: openshift_migration.velero.velero_backup
  - module: openshift_migration.velero.cluster_info
"""

EXAMPLES = r"""
---
- name: Restore the migrated backup into a new namespace and wait
  openshift_migration.velero.velero_restore:
    kubeconfig: ~/.kube/destination
    name: shop-migration-1
    backup_name: shop-migration-1-transformed
    namespace_mapping:
      shop: shop-new
    existing_resource_policy: none
    restore_pvs: false
    wait: true
    wait_timeout: 1800
  register: restore

- name: Show the warnings of the restored namespace
  ansible.builtin.debug:
    var: restore.restore_results.warnings.namespaces
"""

RETURN = r"""
restore:
  description: The Restore as last read (in check mode, the Restore that would be created).
  returned: always
  type: dict
  sample: {"apiVersion": "velero.io/v1", "kind": "Restore", "metadata": {"name": "shop-migration-1"}}
phase:
  description: The phase of the Restore (C(New) when Velero has not picked it up yet).
  returned: always
  type: str
  sample: Completed
progress:
  description: Velero's progress counters.
  returned: always
  type: dict
  contains:
    items_restored:
      description: Items restored so far.
      type: int
    total_items:
      description: Items Velero expects to restore.
      type: int
warning_count:
  description: Number of warnings Velero recorded.
  returned: always
  type: int
error_count:
  description: Number of errors Velero recorded.
  returned: always
  type: int
restore_results:
  description: The warnings and errors of the restore, as Velero's restore results file holds them.
  returned: when the Restore finished with warnings or errors
  type: dict
  contains:
    warnings:
      description: Messages of Velero itself (C(velero)), of cluster-scoped objects (C(cluster)) and per namespace (C(namespaces)).
      type: dict
    errors:
      description: The same for errors.
      type: dict
  sample: {"warnings": {"velero": [], "cluster": [], "namespaces": {"shop-new": ["could not restore, Route already exists"]}},
           "errors": {"velero": [], "cluster": [], "namespaces": {}}}
history:
  description: Every change of phase or progress seen while waiting.
  returned: when O(wait=true)
  type: list
  elements: dict
duration:
  description: Seconds spent waiting.
  returned: when O(wait=true)
  type: float
timed_out:
  description: Whether O(wait_timeout) passed before the Restore reached a final phase.
  returned: when O(wait=true)
  type: bool
"""

import copy
import time

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero import (
    RESTORE_FAILED,
    RESTORE_FIELDS,
    VeleroError,
    WaitTimeout,
    cluster_of,
    ensure_object,
    explain_error,
    failure_reasons,
    get_object,
    handled_errors,
    is_final,
    progress,
    require_velero,
    restore_definition,
    wait_until,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero_download import (
    flatten_results,
    restore_results,
    summarize,
)


def argument_spec() -> dict:
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        name={"type": "str", "required": True},
        backup_name={"type": "str", "required": True},
        namespace={"type": "str", "default": "velero"},
        namespace_mapping={"type": "dict"},
        included_namespaces={"type": "list", "elements": "str"},
        excluded_namespaces={"type": "list", "elements": "str"},
        included_resources={"type": "list", "elements": "str"},
        excluded_resources={"type": "list", "elements": "str"},
        label_selector={"type": "dict"},
        include_cluster_resources={"type": "bool"},
        existing_resource_policy={"type": "str", "choices": ["none", "update"]},
        restore_pvs={"type": "bool"},
        preserve_node_ports={"type": "bool"},
        labels={"type": "dict"},
        annotations={"type": "dict"},
        wait={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 600},
        wait_sleep={"type": "float", "default": 5},
        backup_sync_timeout={"type": "int"},
        fail_on_timeout={"type": "bool", "default": True},
    )
    return spec


def summary(restore: dict) -> dict:
    counters = progress(restore)
    return {"restore": restore, "phase": counters["phase"],
            "progress": {"items_restored": counters["items_done"], "total_items": counters["total_items"]},
            "warning_count": counters["warning_count"], "error_count": counters["error_count"]}


class Waiter:
    """Waits against one deadline shared by the backup sync and the restore, recording progress."""

    def __init__(self, module: AnsibleK8SModule, client) -> None:
        self.client = client
        self.namespace = module.params["namespace"]
        self.sleep = module.params["wait_sleep"]
        self.started = time.monotonic()
        self.deadline = self.started + module.params["wait_timeout"]
        self.history: list[dict] = []

    def record(self, obj: dict) -> None:
        self.history.append(dict(progress(obj), elapsed=round(time.monotonic() - self.started, 1)))

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0)

    def until_final(self, name: str, what: str) -> dict:
        def read() -> dict | None:
            return get_object(self.client, "Restore", name, self.namespace)

        return wait_until(read, is_final, self.remaining(), self.sleep, what, self.record)


def require_backup(client, params: dict, sync_timeout: float | None) -> None:
    """Fail unless the backup is known and restorable; first wait ``sync_timeout`` s for the sync."""
    name, namespace = params["backup_name"], params["namespace"]
    what = f"backup {namespace}/{name}"
    if sync_timeout is None:
        backup = get_object(client, "Backup", name, namespace)
    else:
        try:
            backup = wait_until(lambda: get_object(client, "Backup", name, namespace), lambda obj: True,
                                max(sync_timeout, 0), params["wait_sleep"], f"the backup sync of {what}")
        except WaitTimeout:
            backup = None
    if backup is None and sync_timeout is not None:
        raise VeleroError(f"{what} did not reach {cluster_of(client)} within {sync_timeout:.0f} s of waiting for "
                          "Velero's backup sync: check the name, and that a backup storage location of this cluster "
                          "points at the bucket and prefix that hold the backup")
    if backup is None:
        raise VeleroError(f"{what} is not known to Velero on {cluster_of(client)}: check the name, or wait for "
                          "Velero's backup sync to import it from the backup location (wait: true)")
    phase = (backup.get("status") or {}).get("phase")
    if phase not in ("Completed", "PartiallyFailed"):
        raise VeleroError(f"{what} is {phase or 'New'} on {cluster_of(client)}: Velero restores only a "
                          "Completed or PartiallyFailed backup")


def results_of(client, namespace: str, name: str) -> tuple[dict | None, list[str]]:
    # Unreadable results must not hide how the restore ended: they become one line of the report.
    try:
        results = restore_results(client, namespace, name)
    except VeleroError as error:
        return None, [f"restore results not available: {error}"]
    return results, flatten_results(results)


def run(module: AnsibleK8SModule, client) -> tuple[dict, str | None]:
    """The result, and a failure message when the restore did not complete."""
    params = module.params
    namespace = params["namespace"]
    require_velero(client, namespace)
    definition = restore_definition(params["name"], namespace, {key: params.get(key) for key in RESTORE_FIELDS},
                                    params.get("labels"), params.get("annotations"))
    waiter = Waiter(module, client) if params["wait"] else None
    if get_object(client, "Restore", params["name"], namespace) is None:
        sync_timeout = params["backup_sync_timeout"]
        if sync_timeout is None:
            require_backup(client, params, waiter.remaining() if waiter else None)
        else:
            require_backup(client, params, sync_timeout)
            if waiter is not None:
                waiter = Waiter(module, client)  # the restore's own wait_timeout starts once the backup is known
    restore, created = ensure_object(client, definition, RESTORE_FIELDS)
    result = {"changed": created}
    if module.check_mode:
        result.update(summary(restore))
        return result, None
    ref = f"restore {namespace}/{params['name']}"
    if waiter is not None:
        try:
            restore = waiter.until_final(params["name"], ref)
        except WaitTimeout as error:
            result.update(summary(error.last or restore), history=waiter.history, timed_out=True)
            return result, f"{error} on {cluster_of(client)}" if params["fail_on_timeout"] else None
        result.update(history=waiter.history, duration=round(time.monotonic() - waiter.started, 1), timed_out=False)
    result.update(summary(restore))
    lines: list[str] = []
    if is_final(restore) and (result["warning_count"] or result["error_count"]):
        results, lines = results_of(client, namespace, params["name"])
        if results is not None:
            result["restore_results"] = results
        elif result["phase"] not in RESTORE_FAILED:
            module.warn(f"{ref}: {lines[0]}")
    if result["phase"] in RESTORE_FAILED:
        reasons = failure_reasons(restore)
        reasons.extend(lines)
        return result, f"{ref} ended {result['phase']} on {cluster_of(client)}: {summarize(reasons) or 'no reason given'}"
    return result, None


def main() -> None:
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    cluster = module.params.get("host") or ""
    try:
        client = get_api_client(module=module)
        cluster = cluster_of(client)
        result, failure = run(module, client)
    except handled_errors() as error:
        module.fail_json(msg=f"velero_restore: {explain_error(error, cluster)}")
    if failure:
        module.fail_json(msg=f"velero_restore: {failure}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
