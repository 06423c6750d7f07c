#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: migration_preflight
short_description: Check everything a migration needs before it changes anything
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift-migration)
description:
  - Runs the checks a migration planner runs before a migration and lists every problem found at
    once, each with the cluster, the object, what is wrong and how to fix it.
  - C(reachable) - each cluster answers C(/version) and discovery. An unreachable cluster is one
    problem naming it and its address; the other checks of that cluster are skipped.
  - C(rights) - SelfSubjectAccessReviews that the user may create C(backups.velero.io) in
    O(velero_namespace) on the source and C(restores.velero.io) on the destination, list pods and
    get each source namespace, and create namespaces on the destination.
  - C(velero) - Velero's C(Backup), C(Restore) and C(BackupStorageLocation) kinds
    (C(velero.io/v1)) are served on both clusters, and the location O(storage_location) exists in
    O(velero_namespace) with C(status.phase) C(Available).
  - C(namespaces) - every source namespace exists, and no two of them map onto the same
    destination namespace.
  - C(api_kinds) - every kind (group and kind, any version) that has objects in the source
    namespaces is served on the destination.
  - C(storage_classes) - every class O(storage_class_mapping) maps onto exists on the destination.
  - C(registries) - each of O(registries) answers at C(/v2/) and accepts its credentials.
  - C(destination_namespaces) - each destination namespace (after O(namespace_mapping)) is absent,
    empty, or holds only objects restored by one of O(restore_names). Objects the cluster creates
    in every namespace (the C(default), C(builder) and C(deployer) ServiceAccounts, the
    C(kube-root-ca.crt) and C(openshift-service-ca.crt) ConfigMaps, service account token and
    dockercfg Secrets, the C(system:image-pullers), C(system:image-builders) and C(system:deployers)
    RoleBindings, Events) and objects owned by another object are not counted. Kinds the user
    cannot list are not looked at.
  - Only reads; never changes anything.
options:
  source:
    description:
      - How to connect to the source cluster, with the connection options of C(kubernetes.core).
    type: dict
    required: true
    suboptions: &connection
      kubeconfig:
        description: Path to a kubeconfig file, or its content as a dict.
        type: raw
      context:
        description: Kubeconfig context to use.
        type: str
      host:
        description: API server URL.
        type: str
      api_key:
        description: Token to authenticate with.
        type: str
      username:
        description: User name for basic authentication.
        type: str
      password:
        description: Password for basic authentication.
        type: str
      validate_certs:
        description: Whether to verify the API server's certificate.
        type: bool
        aliases: [verify_ssl]
      ca_cert:
        description: CA certificate of the API server.
        type: path
        aliases: [ssl_ca_cert]
      client_cert:
        description: Client certificate.
        type: path
        aliases: [cert_file]
      client_key:
        description: Client key.
        type: path
        aliases: [key_file]
      proxy:
        description: HTTP proxy URL.
        type: str
      no_proxy:
        description: Hosts to reach without the proxy.
        type: str
      impersonate_user:
        description: User to impersonate.
        type: str
      impersonate_groups:
        description: Groups to impersonate.
        type: list
        elements: str
  destination:
    description:
      - How to connect to the destination cluster, in the same form as O(source).
    type: dict
    required: true
    suboptions: *connection
  namespaces:
    description: The source namespaces to migrate.
    type: list
    elements: str
    required: true
  namespace_mapping:
    description:
      - Source namespace to destination namespace, as the Restore's C(spec.namespaceMapping).
      - A namespace not named here keeps its name.
    type: dict
    default: {}
  velero_namespace:
    description: The namespace Velero runs in, on both clusters.
    type: str
    default: velero
  storage_location:
    description: The BackupStorageLocation that must exist and be C(Available) on both clusters.
    type: str
    default: default
  storage_class_mapping:
    description:
      - Source storage class to destination storage class. Every destination class must exist on
        the destination (C(storage.k8s.io/v1) StorageClass).
    type: dict
    default: {}
  registries:
    description:
      - Container registries the migration uses (the migration registry, the clusters' internal
        registries). Each is probed at C(https://HOST/v2/); with O(registries[].tls_verify=false)
        a registry that does not speak TLS is tried again over plain HTTP.
      - A C(Basic) challenge is answered with the credentials; a C(Bearer) challenge by fetching a
        token from its realm with them (anonymously when none are given). Connection errors are
        retried 3 times with a short backoff.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Label used in messages, for example C(migration) or C(source internal).
        type: str
        required: true
      host:
        description:
          - Registry host as C(HOST[:PORT]); a C(https://) or C(http://) prefix fixes the scheme.
          - When empty, the internal registry of O(registries[].cluster) is checked, found as
            M(openshift_migration.velero.cluster_info) finds it (RV(clusters)); a cluster without one
            has nothing to check.
        type: str
      cluster:
        description: The cluster whose internal registry an entry without O(registries[].host) stands for.
        type: str
        choices: [source, destination]
      username:
        description: User name.
        type: str
      password:
        description: Password.
        type: str
      token:
        description: Token, sent as the password (with O(registries[].username) or C(serviceaccount) as the user).
        type: str
      tls_verify:
        description: Whether to verify the registry's TLS certificate.
        type: bool
        default: true
      ca_file:
        description: CA certificate that signs the registry's certificate.
        type: path
  restore_names:
    description:
      - Restores of this migration. A destination namespace whose objects all carry the label
        C(velero.io/restore-name) with one of these values is accepted, so running the same
        migration again passes the preflight.
    type: list
    elements: str
    default: []
  register_backup:
    description:
      - The rewritten backup will be registered on the destination (the C(register) option of
        C(backup_transform)), so the destination user must also be allowed to create Backups and
        PodVolumeBackups in O(velero_namespace).
    type: bool
    default: false
  fail_on_problems:
    description:
      - Fail when any problem is found, with one line per problem in the message.
      - Set to V(false) to only report them in RV(problems) and RV(ok).
    type: bool
    default: true
attributes:
  check_mode:
    description: Only reads, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: N/A
requirements:
  - kubernetes >= 24.2.0
notes:
  - The objects of the source namespaces are only listed for kinds the destination does not serve,
    and a destination namespace is only listed until the first object in the way is found, so the
    preflight stays fast on large namespaces.
seealso:
  - module: openshift_migration.velero.cluster_info
  - module: openshift_migration.velero.velero_backup
  - module: openshift_migration.velero.velero_restore
"""

EXAMPLES = r"""
---
- name: Check a migration of two namespaces before starting it
  openshift_migration.velero.migration_preflight:
    source:
      kubeconfig: ~/.kube/source
    destination:
      kubeconfig: ~/.kube/destination
    namespaces: [shop, shop-db]
    namespace_mapping:
      shop: shop-new
    storage_class_mapping:
      glusterfs-storage: gp3-csi
    registries:
      - name: migration
        host: registry.example.com:5000
        username: migration
        password: "{{ migration_registry_password }}"
      - name: source internal
        host: docker-registry-default.apps.old.example.com
        token: "{{ source_token }}"
        tls_verify: false

- name: Collect the problems without failing, and show them
  openshift_migration.velero.migration_preflight:
    source:
      host: https://api.old.example.com:6443
      api_key: "{{ source_token }}"
    destination:
      context: new-cluster
    namespaces: [shop]
    restore_names: [shop-migration]
    fail_on_problems: false
  register: preflight

- name: Show every problem with its fix
  ansible.builtin.debug:
    msg: "{{ preflight.problems | map(attribute='message') | list }}"
  when: not preflight.ok
"""

RETURN = r"""
ok:
  description: Whether no problem was found.
  returned: always
  type: bool
problems:
  description: Every problem found, in the order the checks ran.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: >-
        The check that found it: C(reachable), C(rights), C(velero), C(namespaces), C(api_kinds),
        C(storage_classes), C(registries) or C(destination_namespaces).
      type: str
      sample: velero
    cluster:
      description: C(source) or C(destination); null for a registry.
      type: str
      sample: source
    object:
      description: What the problem is about, for example C(BackupStorageLocation velero/default) or C(Namespace/shop).
      type: str
    message:
      description: What is wrong.
      type: str
      sample: "BackupStorageLocation velero/default on the source cluster is Unavailable: bucket velero does not exist"
    fix:
      description: How to fix it.
      type: str
checks:
  description: One entry per check and cluster (or registry), including the checks that passed.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the check (see RV(problems[].check)).
      type: str
    cluster:
      description: C(source) or C(destination); null for a registry.
      type: str
    ok:
      description: Whether it passed; V(false) when it found problems or was skipped because its cluster did not answer.
      type: bool
    detail:
      description: What was found.
      type: str
      sample: https://api.old.example.com:6443 answers, Kubernetes v1.29.7
clusters:
  description:
    - Facts of each cluster that answered, keyed by C(source) and C(destination), so that a
      migration needs no separate M(openshift_migration.velero.cluster_info) call.
  returned: always
  type: dict
  sample: {"source": {"api_url": "https://api.old.example.com:6443", "registry_hostname": "docker-registry.default.svc:5000"}}
  contains:
    api_url:
      description: The API server's URL.
      type: str
    registry_hostname:
      description: The internal registry host as image references write it; empty when the cluster has none.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster_options import (
    FACT_KEYS,
    cluster_option_spec,
    is_live,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.preflight import (
    PreflightSpec,
    cluster_connector,
    run_preflight,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.preflight_registry import RegistrySpec


def connection_spec() -> dict:
    """kubernetes.core's connection options, as backup_transform's cluster options take them, without the facts."""
    spec = cluster_option_spec()
    for key in FACT_KEYS:
        spec["options"].pop(key)
    spec["required"] = True
    return spec


def argument_spec() -> dict:
    return {
        "source": connection_spec(),
        "destination": connection_spec(),
        "namespaces": {"type": "list", "elements": "str", "required": True},
        "namespace_mapping": {"type": "dict", "default": {}},
        "velero_namespace": {"type": "str", "default": "velero"},
        "storage_location": {"type": "str", "default": "default"},
        "storage_class_mapping": {"type": "dict", "default": {}},
        "registries": {
            "type": "list", "elements": "dict", "default": [],
            "options": {
                "name": {"type": "str", "required": True},
                "host": {"type": "str"},
                "cluster": {"type": "str", "choices": ["source", "destination"]},
                "username": {"type": "str"},
                "password": {"type": "str", "no_log": True},
                "token": {"type": "str", "no_log": True},
                "tls_verify": {"type": "bool", "default": True},
                "ca_file": {"type": "path"},
            },
        },
        "restore_names": {"type": "list", "elements": "str", "default": []},
        "register_backup": {"type": "bool", "default": False},
        "fail_on_problems": {"type": "bool", "default": True},
    }


def registry_spec(entry: dict) -> RegistrySpec:
    if not entry.get("host") and not entry.get("cluster"):
        raise MigrationError(f"registries: {entry['name']} has no host; give its host, or cluster (source or "
                             "destination) to check that cluster's internal registry")
    return RegistrySpec(**dict(entry, host=entry.get("host") or ""))


def preflight_spec(params: dict) -> PreflightSpec:
    for role in ("source", "destination"):
        if not is_live(params[role]):
            raise MigrationError(f"{role}: give the options to connect to the {role} cluster "
                                 "(kubeconfig, context, host, api_key, ...)")
    namespaces = [name for name in params["namespaces"] if name]
    if not namespaces:
        raise MigrationError("namespaces: name at least one source namespace")
    return PreflightSpec(
        namespaces=namespaces,
        namespace_mapping={str(key): str(value) for key, value in (params["namespace_mapping"] or {}).items()},
        velero_namespace=params["velero_namespace"], storage_location=params["storage_location"],
        storage_class_mapping={str(key): str(value) for key, value in (params["storage_class_mapping"] or {}).items()},
        registries=[registry_spec(registry) for registry in params["registries"] or []],
        restore_names=list(params["restore_names"] or []), register_backup=params["register_backup"])


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        spec = preflight_spec(module.params)
        report = run_preflight(spec, {role: cluster_connector(module.params[role], role)
                                      for role in ("source", "destination")})
    except MigrationError as error:
        module.fail_json(msg=f"migration_preflight: {error}")
    result = report.to_dict()
    if not report.ok and module.params["fail_on_problems"]:
        module.fail_json(msg=report.message(), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
