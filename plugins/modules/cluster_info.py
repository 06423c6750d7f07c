#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: cluster_info
short_description: Facts of one cluster that a migration needs
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift-migration)
description:
  - Reads the server version, whether the cluster is OpenShift, the internal registry hostname as
    image references write it, and Velero's state on the cluster, namely whether its CRDs are served,
    whether its namespace exists, and its backup storage locations.
  - The registry hostname is found as the OpenShift Velero Plugin finds it. It comes from the
    C(openshift) namespace's ImageStreams, then the C(docker-registry) Service on 3.x clusters, then
    the C(openshift-apiserver) configuration on 4.x clusters. It is empty on a plain Kubernetes cluster.
  - Only reads; never changes anything.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
options:
  velero_namespace:
    description: The namespace Velero runs in.
    type: str
    default: velero
  require_velero:
    description:
      - Fail when Velero's CRDs are not served or O(velero_namespace) does not exist.
      - Set to V(false) to only report it in RV(velero.installed).
    type: bool
    default: true
attributes:
  check_mode:
    description: Only reads, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: N/A
  action_group:
    description: Use C(group/openshift_migration.velero.velero) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - openshift_migration.velero.velero
seealso:
  - module: openshift_migration.velero.velero_backup
  - module: openshift_migration.velero.velero_restore
"""

EXAMPLES = r"""
---
- name: Read the facts of the source cluster
  openshift_migration.velero.cluster_info:
    kubeconfig: ~/.kube/source
  register: source

- name: Stop unless a backup location is available
  ansible.builtin.assert:
    that: source.velero.backup_storage_locations | selectattr('phase', 'eq', 'Available') | list | length > 0
    fail_msg: "no available Velero backup location on {{ source.api_url }}"

- name: Check whether Velero is installed, without failing
  openshift_migration.velero.cluster_info:
    kubeconfig: ~/.kube/destination
    require_velero: false
  register: destination
"""

RETURN = r"""
api_url:
  description: URL of the API server.
  returned: always
  type: str
  sample: https://api.cluster.example.com:6443
server_version:
  description: Kubernetes version of the API server, as C(MAJOR.MINOR).
  returned: always
  type: str
  sample: "1.29"
git_version:
  description: Full Kubernetes version of the API server.
  returned: always
  type: str
  sample: v1.29.7+4510e9c
openshift:
  description: Whether the cluster serves OpenShift's APIs (a ClusterVersion C(version), or C(image.openshift.io) / C(apps.openshift.io)).
  returned: always
  type: bool
openshift_version:
  description: The OpenShift version the ClusterVersion reports; null when there is none.
  returned: always
  type: str
  sample: 4.16.3
registry_hostname:
  description: The internal registry host as image references write it; empty when the cluster has none.
  returned: always
  type: str
  sample: image-registry.openshift-image-registry.svc:5000
velero:
  description: Velero's state on the cluster.
  returned: always
  type: dict
  contains:
    namespace:
      description: The namespace looked at (O(velero_namespace)).
      type: str
    namespace_exists:
      description: Whether that namespace exists.
      type: bool
    crds:
      description: For each velero.io/v1 kind the modules use, whether the cluster serves it.
      type: dict
      sample: {"Backup": true, "Restore": true, "BackupStorageLocation": true, "DownloadRequest": true}
    installed:
      description: Whether every kind is served and the namespace exists.
      type: bool
    backup_storage_locations:
      description: The BackupStorageLocations in the namespace, by name.
      type: list
      elements: dict
      contains:
        name:
          description: Name of the location.
          type: str
        phase:
          description: C(Available), C(Unavailable), or C(Unknown) before Velero validated it.
          type: str
        provider:
          description: Object store plugin, for example C(aws).
          type: str
        bucket:
          description: Bucket of the location.
          type: str
        prefix:
          description: Prefix inside the bucket.
          type: str
        config:
          description: Provider settings (region, s3Url, ...).
          type: dict
        default:
          description: Whether this is the default location.
          type: bool
        access_mode:
          description: C(ReadWrite) or C(ReadOnly).
          type: str
        last_validation_time:
          description: When Velero last validated the location.
          type: str
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster_facts import gather
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero import (
    cluster_of,
    explain_error,
    handled_errors,
    require_velero,
)


def argument_spec() -> dict:
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        velero_namespace={"type": "str", "default": "velero"},
        require_velero={"type": "bool", "default": True},
    )
    return spec


def main() -> None:
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    cluster = module.params.get("host") or ""
    try:
        client = get_api_client(module=module)
        cluster = cluster_of(client)
        facts = gather(client, module.params["velero_namespace"])
        if module.params["require_velero"] and not facts["velero"]["installed"]:
            require_velero(client, module.params["velero_namespace"])  # raises, naming what is missing
    except handled_errors() as error:
        module.fail_json(msg=f"cluster_info: {explain_error(error, cluster)}")
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
