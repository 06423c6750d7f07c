#!/usr/bin/python
# ruff: noqa: EXE001 - Ansible modules carry this shebang without being executable
# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: imagestream_copy
short_description: Copy the images of OpenShift ImageStreams between registries
version_added: "0.1.0"
author:
  - openshift_migration.velero maintainers (@openshift_migration)
description:
  - Copies the images that ImageStreams hold in a cluster's internal registry, with C(skopeo),
    in parallel.
  - With O(mode=backup), every internal image of each stream is copied from the source
    cluster's internal registry to the migration registry, as
    C(<stream namespace>/<stream name>:<tag>). The streams are returned with the digests the
    migration registry stored, to be written to the backup.
  - With O(mode=restore), the images are copied from the migration registry (where the backup
    put them) to the destination cluster's internal registry, as
    C(<mapped namespace>/<stream name>:<tag>), keeping their digests.
  - Only images whose reference starts with O(internal_registry) are copied; external images
    (quay.io, docker.io, ...) are left alone.
  - Images of a tag are copied oldest first, so the newest ends up on the tag. Tags that track
    another stream, an external image or an image of another namespace are copied by digest
    only, without a tag.
  - Images already at the destination with the expected digest are not copied again, so a
    second run reports no change.
  - Credentials reach C(skopeo) through private temporary files, never its command line.
options:
  imagestreams:
    description:
      - ImageStream objects as stored in a Velero backup (with C(status.tags)).
    type: list
    elements: dict
    required: true
  mode:
    description:
      - V(backup) copies from the source cluster to the migration registry.
      - V(restore) copies from the migration registry to the destination cluster.
    type: str
    choices: [backup, restore]
    required: true
  internal_registry:
    description:
      - The source cluster's internal registry as written in image references
        (C(dockerImageReference)), for example C(image-registry.openshift-image-registry.svc:5000).
      - Images whose reference starts with it are copied, the others are left alone.
      - Empty means no image is internal, so nothing is copied.
    type: str
    default: ""
  src_registry:
    description:
      - Registry to read from, as C(host[:port]).
      - With O(mode=backup), the source cluster's internal registry as this host reaches it
        (for example its route); defaults to O(internal_registry).
      - With O(mode=restore), the migration registry.
    type: str
  dest_registry:
    description:
      - Registry to write to, as C(host[:port]).
      - With O(mode=backup), the migration registry; with O(mode=restore), the destination
        cluster's internal registry as this host reaches it.
    type: str
  namespace_mapping:
    description:
      - With O(mode=restore), source namespace to destination namespace, as in the Velero
        Restore's C(spec.namespaceMapping). Unmapped namespaces keep their name.
      - Ignored with O(mode=backup), which always writes to the stream's own namespace.
    type: dict
    default: {}
  src_auth:
    description:
      - How to reach O(src_registry).
    type: dict
    suboptions: &registry_auth
      username:
        description:
          - User name for basic authentication.
        type: str
      password:
        description:
          - Password for basic authentication.
        type: str
      token:
        description:
          - Bearer token (for example an OpenShift service account token). Sent as the
            password, with C(username) or C(serviceaccount) as the user, which is how
            the OpenShift registry accepts tokens.
        type: str
      tls_verify:
        description:
          - Require HTTPS and verify the registry's certificate. Set to V(false) for plain HTTP
            registries or self-signed certificates.
        type: bool
        default: true
      ca_file:
        description:
          - File with the CA certificate(s) that signed the registry's certificate.
        type: path
      auth_file:
        description:
          - An existing containers C(auth.json) to use instead of C(username),
            C(password) and C(token).
        type: path
  dest_auth:
    description:
      - How to reach O(dest_registry).
    type: dict
    suboptions: *registry_auth
  all_platforms:
    description:
      - Copy every platform of multi-platform images (manifest lists), which keeps their
        digests.
      - V(false) copies only the platform of the host running the copy; such images then get
        a new digest, which O(mode=backup) records in the returned streams. Tags copied by
        digest only always keep every platform.
    type: bool
    default: true
  parallel:
    description:
      - How many copies run at the same time. Copies to the same destination tag always run
        one after the other.
    type: int
    default: 4
  retries:
    description:
      - How many times a failed copy is tried again before it counts as failed.
    type: int
    default: 4
  retry_delay:
    description:
      - Seconds to wait before the first retry; the wait doubles at each retry, up to 30
        seconds.
    type: float
    default: 1.0
requirements:
  - skopeo (the C(skopeo) package of the distribution, see C(bindep.txt))
notes:
  - A copy that still fails after its retries does not stop the others; the task fails at the
    end, listing every image that was not copied.
  - With O(all_platforms=false), only the image of the current platform is copied from a
    multi-platform manifest list, so its digest changes; O(mode=backup) returns the streams
    with the new digests. Such images are copied again by every run, since the destination
    never holds the digest the source stream records.
  - In check mode the destination is inspected and the images that would be copied are
    reported with status V(skipped); nothing is written.
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
---
- name: Copy the ImageStream images of a backup to the migration registry
  openshift_migration.velero.imagestream_copy:
    mode: backup
    imagestreams: "{{ backup_imagestreams }}"
    internal_registry: image-registry.openshift-image-registry.svc:5000
    src_registry: default-route-openshift-image-registry.apps.source.example.com
    src_auth:
      token: "{{ source_token }}"
    dest_registry: migration-registry.example.com
    dest_auth:
      username: migration
      password: "{{ migration_registry_password }}"
      ca_file: /etc/pki/migration-ca.crt
    parallel: 8
  register: copy_backup

- name: Copy them into the destination cluster, namespace app renamed to app-new
  openshift_migration.velero.imagestream_copy:
    mode: restore
    imagestreams: "{{ copy_backup.imagestreams }}"
    internal_registry: image-registry.openshift-image-registry.svc:5000
    src_registry: migration-registry.example.com
    src_auth:
      username: migration
      password: "{{ migration_registry_password }}"
      ca_file: /etc/pki/migration-ca.crt
    dest_registry: default-route-openshift-image-registry.apps.destination.example.com
    dest_auth:
      token: "{{ destination_token }}"
    namespace_mapping:
      app: app-new
"""

RETURN = r"""
images:
  description: One entry per image the plan holds, in plan order.
  returned: always
  type: list
  elements: dict
  contains:
    imagestream:
      description: C(namespace/name) of the stream the image belongs to.
      type: str
      sample: app/web
    tag:
      description: The stream tag the image belongs to.
      type: str
      sample: latest
    tag_index:
      description: Index of the tag in the stream's C(status.tags).
      type: int
    item_index:
      description: Index of the image in the tag's C(items) (0 is the newest).
      type: int
    src:
      description: Where the image is read from.
      type: str
      sample: docker://registry.example.com/app/web@sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef
    dest:
      description: Where the image is written (without a tag for tags copied by digest only).
      type: str
      sample: docker://migration-registry.example.com/app/web:latest
    image:
      description: Digest the stream records for the image.
      type: str
    digest:
      description: Digest of the image at the destination (empty unless copied or present).
      type: str
    status:
      description: V(copied), V(present) (already there, not copied), V(failed), or V(skipped).
      type: str
      sample: copied
    error:
      description: Why the image failed (empty otherwise).
      type: str
    reason:
      description: Why the image was skipped (empty otherwise).
      type: str
    attempts:
      description: How many copies were tried.
      type: int
imagestreams:
  description:
    - The ImageStreams, recording the digests stored at the destination when they differ
      (O(mode=backup)); unchanged with O(mode=restore).
  returned: always
  type: list
  elements: dict
totals:
  description: How many images ended in each status.
  returned: always
  type: dict
  contains:
    copied:
      description: Images copied.
      type: int
    present:
      description: Images already at the destination.
      type: int
    failed:
      description: Images that could not be copied.
      type: int
    skipped:
      description: Images not copied (check mode).
      type: int
  sample: {copied: 12, present: 3, failed: 0, skipped: 0}
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.openshift_migration.velero.plugins.module_utils.image_copy import (
    COPIED,
    FAILED,
    PRESENT,
    SKIPPED,
    CopyEngine,
    ImageCopySetupError,
    RegistryAuth,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.image_plan import (
    ImageCopyError,
    plan_imagestream_copies,
    record_digests,
)


def argument_spec():
    auth = {
        "type": "dict",
        "options": {
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
            "token": {"type": "str", "no_log": True},
            "tls_verify": {"type": "bool", "default": True},
            "ca_file": {"type": "path"},
            "auth_file": {"type": "path"},
        },
        "mutually_exclusive": [["password", "token"], ["auth_file", "password"],
                               ["auth_file", "token"], ["auth_file", "username"]],
    }
    return {
        "imagestreams": {"type": "list", "elements": "dict", "required": True},
        "mode": {"type": "str", "choices": ["backup", "restore"], "required": True},
        "internal_registry": {"type": "str", "default": ""},
        "src_registry": {"type": "str"},
        "dest_registry": {"type": "str"},
        "namespace_mapping": {"type": "dict", "default": {}},
        "src_auth": copy.deepcopy(auth),
        "dest_auth": copy.deepcopy(auth),
        "all_platforms": {"type": "bool", "default": True},
        "parallel": {"type": "int", "default": 4},
        "retries": {"type": "int", "default": 4},
        "retry_delay": {"type": "float", "default": 1.0},
    }


def registry_auth(options):
    return RegistryAuth(**options) if options else None


def plan(params):
    """(stream index, ImageCopy) for every copy of every stream, in plan order."""
    mode = params["mode"]
    src_registry = params["src_registry"]
    if src_registry is None and mode == "backup":
        src_registry = params["internal_registry"]
    planned = []
    for index, stream in enumerate(params["imagestreams"]):
        namespace = (stream.get("metadata") or {}).get("namespace") or ""
        if mode == "restore":
            namespace = params["namespace_mapping"].get(namespace) or namespace
        copies = plan_imagestream_copies(
            stream, mode=mode, internal_registry=params["internal_registry"],
            src_registry=src_registry or "", dest_registry=params["dest_registry"] or "",
            dest_namespace=namespace)
        planned.extend((index, item) for item in copies)
    return planned


def stream_name(stream):
    metadata = stream.get("metadata") or {}
    return f"{metadata.get('namespace')}/{metadata.get('name')}"


def run(module):
    params = module.params
    if params["parallel"] < 1 or params["retries"] < 0 or params["retry_delay"] < 0:
        raise ImageCopyError("parallel must be at least 1, retries and retry_delay at least 0")
    planned = plan(params)
    engine = CopyEngine(registry_auth(params["src_auth"]), registry_auth(params["dest_auth"]),
                        parallel=params["parallel"], attempts=params["retries"] + 1,
                        backoff=params["retry_delay"],
                        require_same_digest=params["mode"] == "restore",
                        all_platforms=params["all_platforms"])
    results = engine.copy([item for _index, item in planned], dry_run=module.check_mode)
    streams = params["imagestreams"]
    digests = {}
    images = []
    for (index, item), result in zip(planned, results):
        images.append({"imagestream": stream_name(streams[index]), **result.to_dict()})
        if result.status in (COPIED, PRESENT):
            digests.setdefault(index, {})[(item.tag_index, item.item_index)] = result.digest
    if params["mode"] == "backup":
        streams = [record_digests(stream, digests.get(index, {}))
                   for index, stream in enumerate(streams)]
    totals = {status: sum(1 for r in results if r.status == status)
              for status in (COPIED, PRESENT, FAILED, SKIPPED)}
    would_copy = module.check_mode and totals[SKIPPED] > 0
    return {"changed": totals[COPIED] > 0 or would_copy, "images": images,
            "imagestreams": streams, "totals": totals}


def failure_message(result):
    failed = [image for image in result["images"] if image["status"] == FAILED]
    lines = [f"{image['src']} -> {image['dest']}: {image['error']}" for image in failed]
    return (f"{len(failed)} of {len(result['images'])} ImageStream images were not copied "
            f"({result['totals'][COPIED]} copied, {result['totals'][PRESENT]} already "
            "present):\n" + "\n".join(lines))


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module)
    except (ImageCopyError, ImageCopySetupError) as error:
        module.fail_json(msg=f"imagestream_copy ({module.params['mode']}): {error}")
    if result["totals"][FAILED]:
        module.fail_json(msg=failure_message(result), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
