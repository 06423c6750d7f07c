#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: workload_quiesce
short_description: Stop the workloads of namespaces before a final migration, and start them again
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift-migration)
description:
  - With O(state=quiesced), scales DeploymentConfigs, Deployments, StatefulSets, ReplicaSets and
    ReplicationControllers to zero replicas and suspends CronJobs. Each object records its original
    value in an annotation, C(migration.openshift.io/preQuiesceReplicas) or
    C(migration.openshift.io/preQuiesceSuspend). These are the annotations the Migration Toolkit for
    Containers uses.
  - With O(state=resumed), restores the recorded values and removes the annotations. Objects without
    an annotation are left alone.
  - ReplicaSets and ReplicationControllers that a controller owns are not scaled, because their owner
    is. When a Deployment's controller copied the annotation to its ReplicaSets, resuming removes it
    from them too.
  - Objects already at zero replicas, and CronJobs already suspended, are left alone. An object that
    already carries the annotation keeps it, so a second quiesce changes nothing and never overwrites
    the first record.
  - Kinds that the cluster does not serve are skipped. For example, DeploymentConfigs are skipped on
    plain Kubernetes.
  - The restore of a final migration gives the destination the workloads as they were before the
    quiesce. The archive rewrite undoes the quiesce with the same logic.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
options:
  namespaces:
    description:
      - The namespaces whose workloads are quiesced or resumed.
      - Every namespace must exist; otherwise the task fails before it changes anything.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(quiesced) scales to zero and suspends, recording the original values.
      - V(resumed) restores the recorded values and removes the records.
    type: str
    choices: [quiesced, resumed]
    default: quiesced
attributes:
  check_mode:
    description: Reports the objects that would change, and changes nothing.
    support: full
  diff_mode:
    description: Returns the replicas or suspend value of every object before and after.
    support: full
  action_group:
    description: Use C(group/openshift_migration.velero.velero) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - openshift_migration.velero.velero
notes:
  - The user needs list and patch on the workload kinds in the namespaces, and get on namespaces.
  - A HorizontalPodAutoscaler does not scale up a workload that has zero replicas, so it needs no
    separate step.
seealso:
  - module: openshift_migration.velero.restore_rollback
  - module: openshift_migration.velero.velero_backup
"""

EXAMPLES = r"""
---
- name: Stop the application before the final backup
  openshift_migration.velero.workload_quiesce:
    kubeconfig: ~/.kube/source
    namespaces: [shop, shop-db]
  register: quiesce

- name: Show what was stopped
  ansible.builtin.debug:
    msg: "{{ quiesce.workloads | map(attribute='name') | list }}"

- name: Roll back - start the application on the source again
  openshift_migration.velero.workload_quiesce:
    kubeconfig: ~/.kube/source
    namespaces: [shop, shop-db]
    state: resumed
"""

RETURN = r"""
workloads:
  description: Every object changed, or that would be changed in check mode.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind of the object.
      type: str
      sample: Deployment
    namespace:
      description: Namespace of the object.
      type: str
      sample: shop
    name:
      description: Name of the object.
      type: str
      sample: backend
    before:
      description: C(replicas), or C(suspend) for a CronJob, before the change.
      type: dict
      sample: {"replicas": 3}
    after:
      description: C(replicas), or C(suspend) for a CronJob, after the change.
      type: dict
      sample: {"replicas": 0}
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.openshift_migration.velero.plugins.module_utils.objects import describe
from ansible_collections.openshift_migration.velero.plugins.module_utils.quiesce import (
    apply,
    change,
    plan,
    require_namespaces,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero import (
    cluster_of,
    explain_error,
    handled_errors,
)


def argument_spec() -> dict:
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        namespaces={"type": "list", "elements": "str", "required": True},
        state={"type": "str", "choices": ["quiesced", "resumed"], "default": "quiesced"},
    )
    return spec


def run(module: AnsibleK8SModule, client) -> list[dict]:
    namespaces = list(dict.fromkeys(module.params["namespaces"]))
    wanted = module.params["state"]
    require_namespaces(client, namespaces)
    steps = plan(client, namespaces, wanted)
    if module.check_mode:
        return [change(obj, patch) for resource, obj, patch in steps]
    done: list[dict] = []
    for resource, obj, patch in steps:
        try:
            entry = apply(resource, obj, patch, wanted)
        except handled_errors() as error:
            # What was changed before stays in the result, so a rerun or a resume can follow up.
            module.fail_json(msg=f"workload_quiesce: {describe(obj)}: {explain_error(error, cluster_of(client))}",
                             changed=bool(done), workloads=done)
        if entry is not None:
            done.append(entry)
    return done


def diff_of(entry: dict) -> dict:
    header = f"{entry['kind']} {entry['namespace']}/{entry['name']}"
    ref = {"kind": entry["kind"], "namespace": entry["namespace"], "name": entry["name"]}
    return {"before_header": header, "after_header": header,
            "before": dict(ref, **entry["before"]), "after": dict(ref, **entry["after"])}


def main() -> None:
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    cluster = module.params.get("host") or ""
    try:
        client = get_api_client(module=module)
        cluster = cluster_of(client)
        workloads = run(module, client)
    except handled_errors() as error:
        module.fail_json(msg=f"workload_quiesce: {explain_error(error, cluster)}")
    result = {"changed": bool(workloads), "workloads": workloads}
    if module._diff:
        result["diff"] = [diff_of(entry) for entry in workloads]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
