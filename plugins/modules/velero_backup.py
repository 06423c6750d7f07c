#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: velero_backup
short_description: Create or find a Velero Backup and wait for it
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift-migration)
description:
  - Creates a Velero C(Backup) in the Velero namespace of a cluster, or finds the one of that name.
  - A Backup that exists with the requested spec is left alone and the task reports no change. One
    that exists with another spec is an error naming every field that differs. Only the options
    that are set are compared, since Velero fills in defaults (TTL, storage location, timeouts) and
    adds labels of its own.
  - With O(wait), waits until the Backup reaches a final phase, and fails when it ends
    C(Failed), C(PartiallyFailed) or C(FailedValidation), or when O(wait_timeout) passes. The
    message then carries the error and warning lines of the backup log, read through a Velero
    C(DownloadRequest) (no object storage credentials needed).
  - Fails with a clear message when the cluster is unreachable, when Velero's CRDs are not served,
    or when the Velero namespace does not exist.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - openshift_migration.velero.velero_wait
requirements:
  - kubernetes >= 24.2.0
options:
  name:
    description: Name of the Backup.
    type: str
    required: true
  namespace:
    description: The namespace Velero runs in, where the Backup is created.
    type: str
    default: velero
  included_namespaces:
    description: Namespaces to back up; all namespaces when not set.
    type: list
    elements: str
  excluded_namespaces:
    description: Namespaces not to back up.
    type: list
    elements: str
  included_resources:
    description: Resources to back up (for example V(deployments.apps)); all when not set.
    type: list
    elements: str
  excluded_resources:
    description: Resources not to back up.
    type: list
    elements: str
  label_selector:
    description: Back up only the objects that carry all of these labels (the Backup's C(spec.labelSelector.matchLabels)).
    type: dict
  include_cluster_resources:
    description: Whether to back up cluster-scoped resources; Velero decides when not set.
    type: bool
  storage_location:
    description: Name of the BackupStorageLocation to write to; Velero's default location when not set.
    type: str
  ttl:
    description: How long Velero keeps the backup, as a duration such as V(24h) or V(720h0m0s); Velero's default when not set.
    type: str
  snapshot_volumes:
    description: Whether to take snapshots of persistent volumes.
    type: bool
  default_volumes_to_fs_backup:
    description: Whether to back up the data of every pod volume with the file system backup.
    type: bool
  labels:
    description:
      - Labels of the Backup, for example V(app.kubernetes.io/part-of=openshift-migration).
    type: dict
  annotations:
    description:
      - Annotations of the Backup, for example C(openshift.io/migration-registry) for the restore
        actions.
    type: dict
  wait:
    description: Whether to wait until the Backup reaches a final phase.
    type: bool
    default: false
  wait_timeout:
    description: How many seconds to wait for the Backup to finish.
    type: int
    default: 600
attributes:
  check_mode:
    description: Can run in check mode and return the Backup that would be created (a server-side dry run).
    support: full
  diff_mode:
    description: Returns no diff; the result holds the Backup.
    support: none
  action_group:
    description: Use C(group/openshift_migration.velero.velero) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - openshift_migration.velero.velero
notes:
  - The user needs create and get on C(backups.velero.io) and C(downloadrequests.velero.io) in the
    Velero namespace, and get on namespaces.
seealso:
  - module: openshift_migration.velero.velero_restore
  - module: openshift_migration.velero.cluster_info
"""

EXAMPLES = r"""
---
- name: Back up the application namespace for a migration and wait
  openshift_migration.velero.velero_backup:
    kubeconfig: ~/.kube/source
    name: shop-migration-1
    included_namespaces: [shop]
    labels:
      app.kubernetes.io/part-of: openshift-migration
    annotations:
      openshift.io/migration-registry: registry.example.com:5000
    snapshot_volumes: false
    ttl: 72h
    wait: true
    wait_timeout: 1800
  register: backup

- name: Show how many items Velero backed up
  ansible.builtin.debug:
    msg: "{{ backup.progress.items_backed_up }} of {{ backup.progress.total_items }}"
"""

RETURN = r"""
backup:
  description: The Backup as last read (in check mode, the Backup that would be created).
  returned: always
  type: dict
  sample: {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": "shop-migration-1"}}
phase:
  description: The phase of the Backup (C(New) when Velero has not picked it up yet).
  returned: always
  type: str
  sample: Completed
progress:
  description: Velero's progress counters.
  returned: always
  type: dict
  contains:
    items_backed_up:
      description: Items written to the backup so far.
      type: int
    total_items:
      description: Items Velero expects to back up.
      type: int
warning_count:
  description: Number of warnings Velero recorded.
  returned: always
  type: int
error_count:
  description: Number of errors Velero recorded.
  returned: always
  type: int
log_lines:
  description: Error and warning lines of the backup log, read when the Backup failed or had warnings.
  returned: when the backup log was read
  type: list
  elements: str
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
  description: Whether O(wait_timeout) passed before the Backup reached a final phase.
  returned: when O(wait=true)
  type: bool
"""

import copy
import time

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero import (
    BACKUP_FAILED,
    BACKUP_FIELDS,
    VeleroError,
    WaitTimeout,
    backup_definition,
    cluster_of,
    ensure_object,
    explain_error,
    failure_reasons,
    get_object,
    handled_errors,
    is_final,
    progress,
    require_velero,
    wait_until,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero_download import (
    backup_log_lines,
    summarize,
)


def argument_spec() -> dict:
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        name={"type": "str", "required": True},
        namespace={"type": "str", "default": "velero"},
        included_namespaces={"type": "list", "elements": "str"},
        excluded_namespaces={"type": "list", "elements": "str"},
        included_resources={"type": "list", "elements": "str"},
        excluded_resources={"type": "list", "elements": "str"},
        label_selector={"type": "dict"},
        include_cluster_resources={"type": "bool"},
        storage_location={"type": "str"},
        ttl={"type": "str"},
        snapshot_volumes={"type": "bool"},
        default_volumes_to_fs_backup={"type": "bool"},
        labels={"type": "dict"},
        annotations={"type": "dict"},
        wait={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 600},
        wait_sleep={"type": "float", "default": 5},
        fail_on_timeout={"type": "bool", "default": True},
    )
    return spec


def summary(backup: dict) -> dict:
    counters = progress(backup)
    return {"backup": backup, "phase": counters["phase"],
            "progress": {"items_backed_up": counters["items_done"], "total_items": counters["total_items"]},
            "warning_count": counters["warning_count"], "error_count": counters["error_count"]}


def log_lines(client, namespace: str, name: str) -> list[str]:
    # A missing log must not hide why the backup failed, so it becomes one line of the report.
    try:
        return backup_log_lines(client, namespace, name)
    except VeleroError as error:
        return [f"backup log not available: {error}"]


def run(module: AnsibleK8SModule, client) -> tuple[dict, str | None]:
    """The result, and a failure message when the backup did not complete."""
    params = module.params
    namespace = params["namespace"]
    require_velero(client, namespace)
    definition = backup_definition(params["name"], namespace, {key: params.get(key) for key in BACKUP_FIELDS},
                                   params.get("labels"), params.get("annotations"))
    backup, created = ensure_object(client, definition, BACKUP_FIELDS)
    result = {"changed": created}
    if module.check_mode:
        result.update(summary(backup))
        return result, None
    ref = f"backup {namespace}/{params['name']}"
    if params["wait"]:
        history: list[dict] = []
        started = time.monotonic()

        def record(obj: dict) -> None:
            history.append(dict(progress(obj), elapsed=round(time.monotonic() - started, 1)))

        def read() -> dict | None:
            return get_object(client, "Backup", params["name"], namespace)

        try:
            backup = wait_until(read, is_final, params["wait_timeout"], params["wait_sleep"], ref, record)
        except WaitTimeout as error:
            result.update(summary(error.last or backup), history=history, timed_out=True)
            return result, f"{error} on {cluster_of(client)}" if params["fail_on_timeout"] else None
        result.update(history=history, duration=round(time.monotonic() - started, 1), timed_out=False)
    result.update(summary(backup))
    if result["phase"] in BACKUP_FAILED:
        reasons = failure_reasons(backup)
        if result["phase"] != "FailedValidation":  # Velero writes no log for a backup it never ran
            result["log_lines"] = log_lines(client, namespace, params["name"])
            reasons.extend(result["log_lines"])
        return result, f"{ref} ended {result['phase']} on {cluster_of(client)}: {summarize(reasons) or 'no reason given'}"
    if result["warning_count"] and is_final(backup):
        result["log_lines"] = log_lines(client, namespace, params["name"])
    return result, None


def main() -> None:
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    cluster = module.params.get("host") or ""
    try:
        client = get_api_client(module=module)
        cluster = cluster_of(client)
        result, failure = run(module, client)
    except handled_errors() as error:
        module.fail_json(msg=f"velero_backup: {explain_error(error, cluster)}")
    if failure:
        module.fail_json(msg=f"velero_backup: {failure}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
