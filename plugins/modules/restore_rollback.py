#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: restore_rollback
short_description: Delete what Velero restores created on a cluster
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift-migration)
description:
  - Finds every object that carries the label C(velero.io/restore-name) of one of O(restore_names)
    and deletes it. Velero puts this label on each object it restores. A restore name longer than
    63 characters is shortened as Velero shortens it, to its first 57 characters followed by 6 hex
    characters of its SHA-256.
  - Looks at every kind the cluster serves that can be listed and deleted. It skips subresources,
    events, Velero's own objects, and kinds that the user may not list. Skipped kinds are reported in
    RV(skipped_kinds).
  - Deletes namespaced objects first, then namespaces (O(delete_namespaces)), then cluster-scoped
    objects (O(cluster_scoped)). Deletions use propagation policy C(Background), with the uid as
    precondition, so an object that was replaced since it was found is not deleted.
  - Never deletes an object that lacks the label. Velero does not label the Namespaces it creates, so
    a namespace is deleted only when, after the deletions, it holds nothing but what the cluster
    creates in every namespace. That is the default ServiceAccount, the C(kube-root-ca.crt)
    ConfigMap, OpenShift's builder and deployer accounts, their secrets and role bindings, and what
    the garbage collector removes after the deletions. A namespace that holds anything else is kept
    and listed in RV(kept_namespaces).
  - The namespaces looked at are those where labelled objects were found, those the Restores' spec
    names (C(namespaceMapping) and C(includedNamespaces)), and labelled Namespaces. O(namespaces)
    restricts them. So after the user has removed what kept a namespace, a second run deletes it.
  - A second run finds nothing left and reports no change.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
options:
  restore_names:
    description: Names of the Velero Restores whose objects are deleted.
    type: list
    elements: str
    required: true
  namespaces:
    description:
      - Only delete namespaced objects in these destination namespaces, and only delete these
        namespaces.
      - Cluster-scoped objects are not restricted by this option; see O(cluster_scoped).
    type: list
    elements: str
  delete_namespaces:
    description:
      - Also delete the namespaces the restores wrote into, when after the deletions they hold only
        what the cluster creates by itself.
      - C(default), C(openshift), C(kube-*), C(openshift-*) and O(velero_namespace) are never deleted.
    type: bool
    default: true
  cluster_scoped:
    description: Also delete labelled cluster-scoped objects, such as PersistentVolumes, ClusterRoles, ClusterRoleBindings and SecurityContextConstraints.
    type: bool
    default: true
  velero_namespace:
    description:
      - The namespace of the Velero Restores.
      - Their spec names the namespaces they wrote into. When they cannot be read, only the labelled
        objects point to namespaces.
    type: str
    default: velero
  wait:
    description: Whether to wait until the deleted objects are gone, before the next step and at the end.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait in all.
    type: int
    default: 300
attributes:
  check_mode:
    description: Lists what would be deleted, and deletes nothing.
    support: full
  diff_mode:
    description: Returns no diff; RV(deleted) lists the objects.
    support: none
  action_group:
    description: Use C(group/openshift_migration.velero.velero) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - openshift_migration.velero.velero
notes:
  - The user needs list and delete on the kinds the restores created, list on every kind in the
    namespaces to be deleted, and get on C(restores.velero.io).
  - The Velero Restore objects themselves are left; delete them with Velero when they are no longer wanted.
seealso:
  - module: openshift_migration.velero.velero_restore
  - module: openshift_migration.velero.workload_quiesce
"""

EXAMPLES = r"""
---
- name: Remove what the migration restore created on the destination
  openshift_migration.velero.restore_rollback:
    kubeconfig: ~/.kube/destination
    restore_names: [shop-migration-1]
  register: rollback

- name: Show the namespaces that were kept because they hold other objects
  ansible.builtin.debug:
    var: rollback.kept_namespaces

- name: Only roll back one namespace, and keep cluster-scoped objects
  openshift_migration.velero.restore_rollback:
    kubeconfig: ~/.kube/destination
    restore_names: [shop-migration-1, shop-migration-2]
    namespaces: [shop]
    cluster_scoped: false
    wait_timeout: 600
"""

RETURN = r"""
deleted:
  description: Every object deleted, or that would be deleted in check mode, in the order of deletion.
  returned: always
  type: list
  elements: dict
  contains:
    api_version:
      description: API version of the object.
      type: str
      sample: apps/v1
    kind:
      description: Kind of the object.
      type: str
      sample: Deployment
    namespace:
      description: Namespace of the object; empty for cluster-scoped objects and namespaces.
      type: str
      sample: shop
    name:
      description: Name of the object.
      type: str
      sample: backend
kept_namespaces:
  description: Namespaces that were looked at and kept, and why.
  returned: when O(delete_namespaces=true)
  type: list
  elements: dict
  contains:
    name:
      description: Name of the namespace.
      type: str
    reason:
      description: What keeps it, for example C(holds ConfigMap shop/user-settings).
      type: str
  sample: [{"name": "shop", "reason": "holds ConfigMap shop/user-settings"}]
skipped_kinds:
  description: Kinds that could not be listed (forbidden or not answering), as C(resource.group (status reason)).
  returned: always
  type: list
  elements: str
  sample: ["securitycontextconstraints.security.openshift.io (403 Forbidden)"]
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.openshift_migration.velero.plugins.module_utils.rollback import Rollback
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero import (
    cluster_of,
    explain_error,
    handled_errors,
)


def argument_spec() -> dict:
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        restore_names={"type": "list", "elements": "str", "required": True},
        namespaces={"type": "list", "elements": "str"},
        delete_namespaces={"type": "bool", "default": True},
        cluster_scoped={"type": "bool", "default": True},
        velero_namespace={"type": "str", "default": "velero"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    )
    return spec


def result_of(rollback: Rollback | None, delete_namespaces: bool) -> dict:
    deleted = list(rollback.deleted) if rollback else []
    result = {"changed": bool(deleted), "deleted": deleted, "skipped_kinds": list(rollback.skipped_kinds) if rollback else []}
    if delete_namespaces:
        result["kept_namespaces"] = list(rollback.kept_namespaces) if rollback else []
    return result


def main() -> None:
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    cluster = params.get("host") or ""
    rollback = None
    try:
        client = get_api_client(module=module)
        cluster = cluster_of(client)
        rollback = Rollback(client, params["restore_names"], params.get("namespaces"), params["delete_namespaces"],
                            params["cluster_scoped"], module.check_mode, params["velero_namespace"])
        rollback.run(params["wait"], params["wait_timeout"])
    except handled_errors() as error:
        module.fail_json(msg=f"restore_rollback: {explain_error(error, cluster)}", **result_of(rollback, params["delete_namespaces"]))
    module.exit_json(**result_of(rollback, params["delete_namespaces"]))


if __name__ == "__main__":
    main()
