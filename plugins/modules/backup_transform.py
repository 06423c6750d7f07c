#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_transform
short_description: Run the OpenShift Velero Plugin's actions over a Velero backup archive
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift_migration)
description:
  - Reads a Velero backup, either a local C(<name>.tar.gz) (O(src)) or a backup in a backup
    location (O(location) and O(backup_name)), and runs the backup and/or restore actions of the
    OpenShift Velero Plugin over every item, as stock Velero with that plugin would.
  - Items that an action skips are removed from the archive. Additional items that backup actions
    name (for example the SecurityContextConstraints of ServiceAccounts) are read from the source
    cluster and added when the archive lacks them.
  - Writes the result as a local archive (O(dest)) and/or publishes it as a new backup in the same
    location (O(new_backup_name)). Every file of the backup is renamed and rewritten where it names
    the backup; data files are uploaded before C(velero-backup.json), so Velero's backup sync never
    imports a partial backup. The source backup is only read.
  - The archive is streamed item by item, so memory use does not grow with its size. The output is
    reproducible byte for byte, so a second run reports no change.
  - Reports per resource kind how many items were kept, changed, skipped and added, with a unified
    diff of every changed item (Secret values are redacted), as JSON and Markdown files (O(report)).
options:
  src:
    description:
      - Local Velero backup archive (C(<backup>.tar.gz)) to read.
      - Mutually exclusive with O(backup_name).
    type: path
  backup_name:
    description:
      - Name of the backup to read from O(location).
    type: str
  location:
    description:
      - The Velero backup location to read O(backup_name) from and publish O(new_backup_name) to.
      - Either an S3 bucket (O(location.bucket)) or a local folder laid out like one (O(location.path)).
    type: dict
    suboptions:
      bucket:
        description: S3 bucket of the backup location.
        type: str
      prefix:
        description: Prefix inside the bucket (the backup location's C(objectStorage.prefix)).
        type: str
        default: ""
      path:
        description: A local folder used as the bucket, instead of O(location.bucket).
        type: path
      endpoint_url:
        description: S3 endpoint URL (the backup location's C(config.s3Url)); AWS when not set.
        type: str
      region:
        description: S3 region.
        type: str
        default: us-east-1
      access_key:
        description: S3 access key id.
        type: str
      secret_key:
        description: S3 secret access key.
        type: str
      ca_file:
        description: CA bundle that signs the S3 endpoint's certificate.
        type: path
      validate_certs:
        description: Whether to verify the S3 endpoint's TLS certificate.
        type: bool
        default: true
  dest:
    description:
      - Local path to write the transformed archive to. Written through a temporary file and a
        rename; left untouched when its content would not change.
    type: path
  new_backup_name:
    description:
      - Publish the transformed backup under this name in O(location).
      - An existing backup of that name is an error unless it is identical to the result, in which
        case nothing is written and the task reports no change.
    type: str
  phases:
    description:
      - Which actions to run, in this order. V(backup) runs the backup actions (against
        O(source_cluster)); V(restore) runs the restore actions (against O(destination_cluster)).
    type: list
    elements: str
    choices: [backup, restore]
    default: [backup, restore]
  backup:
    description:
      - The Velero Backup object the backup actions see (labels, annotations, spec).
      - Defaults to the backup's own C(velero-backup.json) when read from O(location).
      - Needed to publish a local archive (O(src) with O(new_backup_name)).
    type: dict
  restore:
    description:
      - The Velero Restore object that will be created from the result (labels, annotations,
        C(spec.namespaceMapping), hooks); the restore actions read it.
      - Defaults to a Restore of the new backup without namespace mapping.
    type: dict
  source_cluster:
    description:
      - The cluster the backup phase runs against.
      - Either facts (O(source_cluster.server_version), O(source_cluster.registry_hostname),
        O(source_cluster.objects)) or kubernetes.core connection options for live look-ups, or both
        (given facts are not discovered).
    type: dict
    suboptions: &cluster
      server_version:
        description: Server version as C(MAJOR.MINOR).
        type: str
      registry_hostname:
        description: Internal registry host as written in image references; empty when none.
        type: str
      objects:
        description: Objects that look-ups may consult (ServiceAccounts, SCCs, Secrets, ...).
        type: list
        elements: dict
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
  destination_cluster:
    description:
      - The cluster the restore phase runs against, in the same form as O(source_cluster).
    type: dict
    suboptions: *cluster
  register:
    description:
      - After publishing O(new_backup_name), create its Velero Backup (and its pod volume backups)
        on O(destination_cluster) the way Velero's backup sync imports a backup it finds in the
        bucket, so that a Restore can start at once instead of waiting for the next sync (Velero
        syncs about once a minute).
      - The sync then finds the backup known and leaves it alone. A Backup of that name already
        there for the same storage location is left as it is (C(changed) stays false).
      - Needs O(destination_cluster) as connection options. The storage location must read the
        bucket and prefix of O(location); a different one is an error, since that Velero could not
        read the backup.
    type: dict
    suboptions:
      storage_location:
        description: The destination's BackupStorageLocation that reads O(location).
        type: str
        required: true
      velero_namespace:
        description: The namespace Velero runs in on the destination cluster.
        type: str
        default: velero
  disabled_actions:
    description:
      - Actions not to run, by registration name, with or without the C(openshift.io/) prefix.
    type: list
    elements: str
    default: []
  image_copy:
    description:
      - When given (and not in check mode), the ImageStream actions copy images with C(skopeo),
        source internal registry to migration registry in the backup phase, migration registry to
        destination internal registry in the restore phase.
      - Without it, streams are left as when the plugin skips copying, and RV(report.planned_copies)
        lists the copies that are needed.
    type: dict
    suboptions:
      source_registry_auth:
        description: Credentials of the source cluster's internal registry.
        type: dict
        suboptions:
          username:
            description: User name.
            type: str
          password:
            description: Password.
            type: str
          token:
            description: Token, sent as the password.
            type: str
          tls_verify:
            description: Whether to verify the registry's certificate.
            type: bool
            default: true
          ca_file:
            description: CA certificate of the registry.
            type: path
          auth_file:
            description: An existing containers C(auth.json).
            type: path
      migration_registry_auth:
        description: Credentials of the migration registry.
        type: dict
        suboptions:
          username:
            description: User name.
            type: str
          password:
            description: Password.
            type: str
          token:
            description: Token, sent as the password.
            type: str
          tls_verify:
            description: Whether to verify the registry's certificate.
            type: bool
            default: true
          ca_file:
            description: CA certificate of the registry.
            type: path
          auth_file:
            description: An existing containers C(auth.json).
            type: path
      destination_registry_auth:
        description: Credentials of the destination cluster's internal registry.
        type: dict
        suboptions:
          username:
            description: User name.
            type: str
          password:
            description: Password.
            type: str
          token:
            description: Token, sent as the password.
            type: str
          tls_verify:
            description: Whether to verify the registry's certificate.
            type: bool
            default: true
          ca_file:
            description: CA certificate of the registry.
            type: path
          auth_file:
            description: An existing containers C(auth.json).
            type: path
      registry_addresses:
        description: Registry host as written in images mapped to the address this host reaches it at.
        type: dict
      parallel:
        description: Images copied at the same time.
        type: int
        default: 4
  report:
    description:
      - Where to write the report. A folder (existing, or ending in C(/)) gets
        C(<backup>-transform.json) and C(<backup>-transform.md); anything else is a path prefix to
        which C(.json) and C(.md) are appended.
    type: path
  log_file:
    description:
      - File to append progress lines to while long archives are transformed.
    type: path
  compresslevel:
    description:
      - gzip level of the written archive (1 fastest, 9 smallest).
      - With the Python library C(isal) installed (see the collection's C(requirements.txt)), ISA-L compresses
        instead of zlib, several times faster; levels 1-3, 4-6 and 7-9 then map to its levels 1, 2 and 3.
      - A re-run whose archive only differs in how it was compressed counts as unchanged.
    type: int
    choices: [1, 2, 3, 4, 5, 6, 7, 8, 9]
    default: 3
  storage_class_mapping:
    description:
      - Source storage class to destination storage class. PersistentVolumes and claims of a mapped
        class are annotated for a copy migration (C(openshift.io/migrate-type=copy),
        C(openshift.io/target-storage-class)), which the restore actions of a migration restore
        apply. Volumes that already carry C(openshift.io/migrate-type) are left as they are.
    type: dict
    default: {}
  access_mode_mapping:
    description:
      - Source access mode to destination access mode. Claims with a mapped mode get
        C(openshift.io/target-access-mode) (and the copy annotations above).
    type: dict
    default: {}
  resume_workloads:
    description:
      - Give workloads quiesced by a final migration (annotation
        C(migration.openshift.io/preQuiesceReplicas) or C(migration.openshift.io/preQuiesceSuspend))
        back their original replicas or schedule, and drop the annotation, so the destination
        runs them as the source did before the quiesce.
    type: bool
    default: true
  max_diff_items:
    description: How many item records (with diffs) the result and C(--diff) output carry; the report files hold all.
    type: int
    default: 200
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
    details: Everything is computed, including the report and the comparison with existing outputs; nothing is written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: Shows a unified diff of the changed parts of every changed item (up to O(max_diff_items)).
requirements:
  - boto3 (for an S3 location)
  - kubernetes (for live look-ups)
  - orjson and isal (optional, both in the collection's requirements.txt; without them items are parsed and archives
    compressed with the standard library, more slowly)
notes:
  - The new backup shares volume snapshots and file-system backup data with the source backup.
    Deleting either backup in Velero deletes that data; remove a published backup by deleting its
    folder in the bucket, or mark the location read-only on the cluster that must not delete.
"""

EXAMPLES = r"""
---
- name: Transform a backup in the bucket and publish it as a new backup
  openshift_migration.velero.backup_transform:
    location:
      bucket: velero
      endpoint_url: https://s3.example.com
      access_key: "{{ s3_access_key }}"
      secret_key: "{{ s3_secret_key }}"
    backup_name: app-backup
    new_backup_name: app-backup-migrated
    source_cluster:
      kubeconfig: ~/.kube/source
    destination_cluster:
      kubeconfig: ~/.kube/destination
    restore:
      metadata:
        name: app-restore
      spec:
        backupName: app-backup-migrated
        namespaceMapping:
          app: app-new
    report: /tmp/reports/
    # The destination's Velero knows the backup at once, without waiting for its sync.
    register:
      storage_location: default

- name: Transform a local archive with known cluster facts, showing the diffs
  openshift_migration.velero.backup_transform:
    src: /tmp/app-backup.tar.gz
    dest: /tmp/app-backup-migrated.tar.gz
    phases: [backup, restore]
    source_cluster:
      server_version: "3.11"
      registry_hostname: docker-registry.default.svc:5000
    destination_cluster:
      server_version: "4.14"
      registry_hostname: image-registry.openshift-image-registry.svc:5000
  diff: true
"""

RETURN = r"""
image_copies:
  description:
    - What the image copies did per phase (C(backup) to the migration registry, C(restore) to the
      destination registry), counted by outcome (C(copied), C(present), C(failed), C(skipped)).
    - Empty counts when O(image_copy) is not given or in check mode.
  returned: always
  type: dict
  sample: {"backup": {"copied": 3, "present": 1}, "restore": {"copied": 4}}
archive:
  description: The written archive.
  returned: always
  type: dict
  contains:
    entries_read:
      description: Files read from the source archive.
      type: int
    entries_written:
      description: Files in the written archive.
      type: int
    format_version:
      description: Backup format version of the source archive.
      type: str
      sample: 1.1.0
    seconds:
      description: Time spent transforming.
      type: float
    sha256:
      description: SHA-256 of the written archive.
      type: str
dest:
  description: The local archive written (or that would be written).
  returned: when O(dest) is given
  type: str
new_backup:
  description: The published backup.
  returned: when O(new_backup_name) is given
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    location:
      description: The backup location, without credentials.
      type: str
    changed:
      description: Whether it was (or would be) uploaded.
      type: bool
    files:
      description: Its files under C(backups/<name>/).
      type: list
      elements: str
    registration:
      description: What O(register) did on the destination cluster.
      returned: when O(register) is given
      type: dict
      contains:
        registered:
          description: Whether the Backup was (or would be) created now.
          type: bool
        reason:
          description: Why it was not, for example because the cluster knew the backup already.
          type: str
          returned: when not registered
        cluster:
          description: The destination API server URL.
          type: str
        storage_location:
          description: The BackupStorageLocation the Backup names.
          type: str
        namespace:
          description: The Velero namespace.
          type: str
        pod_volume_backups:
          description: PodVolumeBackups created with it.
          type: int
report:
  description: What the transform did.
  returned: always
  type: dict
  contains:
    summary:
      description: One line summing up the counts.
      type: str
      sample: "120 items: 80 kept, 35 changed, 4 skipped, 1 added; 2 image copies planned; 0 warnings"
    totals:
      description: Items kept, changed, skipped and added.
      type: dict
    kinds:
      description: The same counts per resource (C(deployments.apps), C(pods), ...).
      type: dict
    namespaces:
      description: The same counts per namespace and resource (cluster-scoped items under the empty name).
      type: dict
    items:
      description: Changed, skipped and added items (at most O(max_diff_items)), with actions and diff.
      type: list
      elements: dict
    items_total:
      description: How many item records the full report holds.
      type: int
    planned_copies:
      description: Image copies the ImageStreams need (when O(image_copy) is not given).
      type: list
      elements: dict
    warnings:
      description: Problems that did not stop the transform.
      type: list
      elements: str
report_files:
  description: The JSON and Markdown report files (not written in check mode).
  returned: when O(report) is given
  type: list
  elements: str
"""

import copy
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.openshift_migration.velero.plugins.module_utils.backup_register import RegisterTarget
from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster_options import (
    cluster_from_option,
    cluster_option_spec,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.storage import (
    LocalStore,
    S3Settings,
    S3Store,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform_job import JobSpec, run_job
from ansible_collections.openshift_migration.velero.plugins.module_utils.volume_mapping import VolumeMapping

AUTH_SPEC = {
    "type": "dict",
    "options": {
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "token": {"type": "str", "no_log": True},
        "tls_verify": {"type": "bool", "default": True},
        "ca_file": {"type": "path"},
        "auth_file": {"type": "path"},
    },
}


def argument_spec() -> dict:
    return {
        "src": {"type": "path"},
        "backup_name": {"type": "str"},
        "location": {
            "type": "dict",
            "options": {
                "bucket": {"type": "str"},
                "prefix": {"type": "str", "default": ""},
                "path": {"type": "path"},
                "endpoint_url": {"type": "str"},
                "region": {"type": "str", "default": "us-east-1"},
                "access_key": {"type": "str", "no_log": True},
                "secret_key": {"type": "str", "no_log": True},
                "ca_file": {"type": "path"},
                "validate_certs": {"type": "bool", "default": True},
            },
            "mutually_exclusive": [["bucket", "path"]],
            "required_one_of": [["bucket", "path"]],
        },
        "dest": {"type": "path"},
        "new_backup_name": {"type": "str"},
        "phases": {"type": "list", "elements": "str", "choices": ["backup", "restore"],
                   "default": ["backup", "restore"]},
        "backup": {"type": "dict"},
        "restore": {"type": "dict"},
        "source_cluster": cluster_option_spec(),
        "destination_cluster": cluster_option_spec(),
        "register": {
            "type": "dict",
            "options": {
                "storage_location": {"type": "str", "required": True},
                "velero_namespace": {"type": "str", "default": "velero"},
            },
        },
        "disabled_actions": {"type": "list", "elements": "str", "default": []},
        "image_copy": {
            "type": "dict",
            "options": {
                "source_registry_auth": copy.deepcopy(AUTH_SPEC),
                "migration_registry_auth": copy.deepcopy(AUTH_SPEC),
                "destination_registry_auth": copy.deepcopy(AUTH_SPEC),
                "registry_addresses": {"type": "dict"},
                "parallel": {"type": "int", "default": 4},
            },
        },
        "report": {"type": "path"},
        "log_file": {"type": "path"},
        "compresslevel": {"type": "int", "default": 3, "choices": list(range(1, 10))},
        "max_diff_items": {"type": "int", "default": 200},
        "storage_class_mapping": {"type": "dict", "default": {}},
        "access_mode_mapping": {"type": "dict", "default": {}},
        "resume_workloads": {"type": "bool", "default": True},
    }


def make_store(location: dict | None):
    if not location:
        return None
    if location.get("path"):
        return LocalStore(location["path"], location.get("prefix") or "")
    return S3Store(S3Settings(
        bucket=location["bucket"], prefix=location.get("prefix") or "", endpoint_url=location.get("endpoint_url"),
        region=location.get("region"), access_key=location.get("access_key"),
        secret_key=location.get("secret_key"), ca_file=location.get("ca_file"),
        validate_certs=location.get("validate_certs", True)))


class CopyTally:
    """Counts what the image copies of both phases did, for the result and the summary."""

    def __init__(self) -> None:
        self.counts = {"backup": {}, "restore": {}}

    def wrap(self, phase: str, copier):
        def counted(copies, **kwargs):
            results = copier(copies, **kwargs)
            for outcome in results:
                self.counts[phase][outcome.status] = self.counts[phase].get(outcome.status, 0) + 1
            return results
        return counted


def make_copiers(options: dict | None, check_mode: bool, tally: CopyTally):
    """Copy functions for the backup and restore phases; none in check mode or without options."""
    if not options or check_mode:
        return None, None
    from ansible_collections.openshift_migration.velero.plugins.module_utils.image_copy import (
        CopyEngine,
        RegistryAuth,
    )

    def auth(name):
        given = {key: value for key, value in (options.get(name) or {}).items() if value is not None}
        return RegistryAuth(**given) if given else None

    parallel = options.get("parallel") or 4
    to_migration = CopyEngine(auth("source_registry_auth"), auth("migration_registry_auth"), parallel=parallel)
    to_destination = CopyEngine(auth("migration_registry_auth"), auth("destination_registry_auth"),
                                parallel=parallel, require_same_digest=True)
    return tally.wrap("backup", to_migration.copy), tally.wrap("restore", to_destination.copy)


def make_register(options: dict | None, destination) -> RegisterTarget | None:
    if not options:
        return None
    client = getattr(getattr(destination, "lookup", None), "client", None)
    if client is None:
        raise MigrationError("register creates the Backup on the destination cluster: give destination_cluster "
                             "as connection options (kubeconfig, context, host, api_key, ...), not as facts")
    return RegisterTarget(client, options["storage_location"], options["velero_namespace"])


def make_progress(module: AnsibleModule, log_file: str | None):
    def progress(line: str) -> None:
        stamped = time.strftime("%Y-%m-%dT%H:%M:%S ") + line
        module.log(f"backup_transform: {line}")
        if log_file:
            with open(log_file, "a", encoding="utf-8") as out:
                out.write(stamped + "\n")
    return progress


def job_spec(module: AnsibleModule, tally: CopyTally) -> JobSpec:
    params = module.params
    backup_copier, restore_copier = make_copiers(params["image_copy"], module.check_mode, tally)
    store = make_store(params["location"])
    if isinstance(store, S3Store):
        store.check_access()
    destination = cluster_from_option(params["destination_cluster"], "destination")
    return JobSpec(
        phases=params["phases"], src=params["src"], store=store, backup_name=params["backup_name"],
        dest=params["dest"], new_backup_name=params["new_backup_name"], backup=params["backup"],
        restore=params["restore"],
        source_cluster=cluster_from_option(params["source_cluster"], "source"),
        destination_cluster=destination, register=make_register(params["register"], destination),
        disabled_actions=params["disabled_actions"], backup_copier=backup_copier, restore_copier=restore_copier,
        registry_addresses=(params["image_copy"] or {}).get("registry_addresses"), report=params["report"],
        check_mode=module.check_mode, max_diff_items=params["max_diff_items"],
        compresslevel=params["compresslevel"], progress=make_progress(module, params["log_file"]),
        volume_mapping=VolumeMapping(params["storage_class_mapping"], params["access_mode_mapping"]),
        resume_workloads=params["resume_workloads"])


def diff_output(report: dict) -> list[dict]:
    return [{"before_header": f"{item['resource']} {item['namespace']}/{item['name']}".replace(" /", " "),
             "after_header": item["status"], "prepared": item["diff"]}
            for item in report["items"] if item["diff"]]


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[["src", "backup_name"]],
        required_one_of=[["src", "backup_name"], ["dest", "new_backup_name"]],
        required_by={"backup_name": "location", "new_backup_name": "location"},
        supports_check_mode=True,
    )
    tally = CopyTally()
    try:
        result = run_job(job_spec(module, tally))
    except MigrationError as error:
        module.fail_json(msg=f"backup_transform: {error}")
    except OSError as error:
        module.fail_json(msg=f"backup_transform: {error.strerror or error}: {error.filename or ''}".rstrip(": "))
    result["image_copies"] = tally.counts
    for warning in result["report"]["warnings"]:
        module.warn(warning)
    if module._diff:
        result["diff"] = diff_output(result["report"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
