# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Velero Backup and Restore objects: definitions, comparison with what exists, waiting.

The pure parts (building a definition from options, comparing it with the object found on the
cluster, the waiter) take plain values; the parts that talk to a cluster take a kubernetes.core
client (``K8SClient``) or anything with its ``resources``/``get``/``create`` methods.
"""
from __future__ import annotations

import json
import re
import socket
import time
from typing import Any, Callable

from .errors import MigrationError
from .objects import dig

VELERO_API = "velero.io/v1"
# The kinds the modules use; a cluster without them served has no Velero installed.
VELERO_KINDS = ("Backup", "Restore", "BackupStorageLocation", "DownloadRequest")

BACKUP_FAILED = frozenset({"Failed", "PartiallyFailed", "FailedValidation"})
RESTORE_FAILED = BACKUP_FAILED
FINAL_PHASES = BACKUP_FAILED | {"Completed"}

# Resources Velero appends to every Restore's excludedResources (restore controller,
# nonRestorableResources); they are not the user's choice, so comparison ignores them.
NON_RESTORABLE = frozenset({
    "nodes", "events", "events.events.k8s.io", "backups.velero.io", "restores.velero.io",
    "resticrepositories.velero.io", "csinodes.storage.k8s.io", "volumeattachments.storage.k8s.io",
    "backuprepositories.velero.io",
})

# option name -> (spec field, kind of value); the kind says how two values are compared.
BACKUP_FIELDS = {
    "included_namespaces": ("includedNamespaces", "set"),
    "excluded_namespaces": ("excludedNamespaces", "set"),
    "included_resources": ("includedResources", "set"),
    "excluded_resources": ("excludedResources", "set"),
    "label_selector": ("labelSelector", "selector"),
    "storage_location": ("storageLocation", "value"),
    "ttl": ("ttl", "duration"),
    "snapshot_volumes": ("snapshotVolumes", "value"),
    "default_volumes_to_fs_backup": ("defaultVolumesToFsBackup", "value"),
    "include_cluster_resources": ("includeClusterResources", "value"),
}
RESTORE_FIELDS = {
    "backup_name": ("backupName", "value"),
    "included_namespaces": ("includedNamespaces", "set"),
    "excluded_namespaces": ("excludedNamespaces", "set"),
    "included_resources": ("includedResources", "set"),
    "excluded_resources": ("excludedResources", "restore_excludes"),
    "label_selector": ("labelSelector", "selector"),
    "namespace_mapping": ("namespaceMapping", "value"),
    "existing_resource_policy": ("existingResourcePolicy", "value"),
    "restore_pvs": ("restorePVs", "value"),
    "include_cluster_resources": ("includeClusterResources", "value"),
    "preserve_node_ports": ("preserveNodePorts", "value"),
}

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|ns)")
_CONNECTION_PREFIX = re.compile(r"^(<[^>]*>|[A-Za-z]*Connection(Pool)?\([^)]*\)): ")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


class VeleroError(MigrationError):
    """A Velero object could not be created, found or waited for."""


class ClusterUnreachable(VeleroError):
    """The API server did not answer."""


class VeleroNotInstalled(VeleroError):
    """Velero's CRDs are not served, or its namespace does not exist."""


class SpecConflict(VeleroError):
    """An object of the requested name exists with another spec."""

    def __init__(self, kind: str, ref: str, differences: list[str]) -> None:
        super().__init__(f"{kind} {ref} already exists with a different spec: {'; '.join(differences)}. "
                         f"Use another name, or delete the existing {kind}")
        self.differences = differences


class WaitTimeout(VeleroError):
    """The object did not reach a final phase in time."""

    def __init__(self, message: str, last: dict | None) -> None:
        super().__init__(message)
        self.last = last


def parse_duration(text: str | None) -> float | None:
    """Seconds in a Go duration ("720h0m0s", "90m", "1h30m"); None when text is empty."""
    if text is None or str(text).strip() == "":
        return None
    text = str(text).strip()
    if text == "0":
        return 0.0
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise VeleroError(f"{text!r} is not a duration such as 24h, 90m or 720h0m0s")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def label_selector(labels: dict | None) -> dict | None:
    """A LabelSelector matching every label given ({} / None: no selector)."""
    if not labels:
        return None
    return {"matchLabels": {str(key): str(value) for key, value in labels.items()}}


def _spec(fields: dict, options: dict) -> dict:
    spec: dict = {}
    for option, (field, kind) in fields.items():
        value = options.get(option)
        if value is None:
            continue
        if kind == "selector":
            value = label_selector(value)
            if value is None:
                continue
        if kind == "duration":
            parse_duration(value)  # rejects a malformed value before the API server does
        spec[field] = value
    return spec


def _metadata(name: str, namespace: str, labels: dict | None, annotations: dict | None) -> dict:
    meta: dict = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = {str(key): str(value) for key, value in labels.items()}
    if annotations:
        meta["annotations"] = {str(key): str(value) for key, value in annotations.items()}
    return meta


def backup_definition(name: str, namespace: str, options: dict, labels: dict | None = None,
                      annotations: dict | None = None) -> dict:
    """A Backup from option values (keys of BACKUP_FIELDS; None leaves Velero's default)."""
    return {"apiVersion": VELERO_API, "kind": "Backup", "metadata": _metadata(name, namespace, labels, annotations),
            "spec": _spec(BACKUP_FIELDS, options)}


def restore_definition(name: str, namespace: str, options: dict, labels: dict | None = None,
                       annotations: dict | None = None) -> dict:
    """A Restore from option values (keys of RESTORE_FIELDS; backup_name is required)."""
    if not options.get("backup_name"):
        raise VeleroError(f"restore {name}: backup_name is required")
    return {"apiVersion": VELERO_API, "kind": "Restore", "metadata": _metadata(name, namespace, labels, annotations),
            "spec": _spec(RESTORE_FIELDS, options)}


def _same(kind: str, wanted: Any, existing: Any) -> bool:
    if kind == "set":
        return sorted(map(str, wanted or [])) == sorted(map(str, existing or []))
    if kind == "restore_excludes":
        extra = set(map(str, existing or [])) - set(map(str, wanted or []))
        return set(map(str, wanted or [])) <= set(map(str, existing or [])) and extra <= NON_RESTORABLE
    if kind == "duration":
        return parse_duration(wanted) == parse_duration(existing)
    if kind == "selector":
        return (wanted or None) == (existing or None)
    return wanted == existing


def spec_differences(fields: dict, wanted: dict, existing: dict) -> list[str]:
    """Why ``existing`` does not match ``wanted``, one entry per option, in option names.

    Only what ``wanted`` sets is compared: Velero fills in defaults (ttl, storage location,
    timeouts) and adds its own labels, so an unset option or an extra label is no difference.
    """
    differences = []
    for option, (field, kind) in fields.items():
        spec = wanted.get("spec") or {}
        if field not in spec:
            continue
        have = dig(existing, "spec", field)
        if not _same(kind, spec[field], have):
            differences.append(f"{option} is {have!r}, wanted {spec[field]!r}")
    for section in ("labels", "annotations"):
        have_all = dig(existing, "metadata", section, default={}) or {}
        for key, value in sorted((dig(wanted, "metadata", section, default={}) or {}).items()):
            if have_all.get(key) != value:
                differences.append(f"{section}[{key}] is {have_all.get(key)!r}, wanted {value!r}")
    return differences


def object_ref(obj: dict) -> str:
    return f"{dig(obj, 'metadata', 'namespace', default='')}/{dig(obj, 'metadata', 'name', default='')}"


def progress(obj: dict | None) -> dict:
    """Phase, progress and counts of a Backup or Restore, in snake_case."""
    status = (obj or {}).get("status") or {}
    prog = status.get("progress") or {}
    done = prog.get("itemsBackedUp", prog.get("itemsRestored", 0)) or 0
    return {"phase": status.get("phase") or "New", "items_done": done, "total_items": prog.get("totalItems", 0) or 0,
            "warning_count": status.get("warnings", 0) or 0, "error_count": status.get("errors", 0) or 0}


def describe_progress(obj: dict | None) -> str:
    prog = progress(obj)
    text = f"phase {prog['phase']}, {prog['items_done']}/{prog['total_items']} items"
    return f"{text}, {prog['warning_count']} warnings, {prog['error_count']} errors"


def wait_until(read: Callable[[], dict | None], done: Callable[[dict], bool], timeout: float, sleep: float,
               what: str, on_progress: Callable[[dict], None] | None = None,
               clock: Callable[[], float] = time.monotonic, pause: Callable[[float], None] = time.sleep) -> dict:
    """Poll ``read()`` until ``done(obj)``; report every change of the object to ``on_progress``.

    Raises WaitTimeout carrying the last object seen when ``timeout`` seconds pass.
    """
    deadline = clock() + timeout
    last: dict | None = None
    reported: Any = None
    while True:
        obj = read()
        if obj is not None:
            last = obj
            state = (progress(obj), dig(obj, "status", "phase"))
            if on_progress is not None and state != reported:
                on_progress(obj)
                reported = state
            if done(obj):
                return obj
        remaining = deadline - clock()
        if remaining <= 0:
            seen = describe_progress(last) if last is not None else "never found"
            raise WaitTimeout(f"{what} did not finish within {timeout:g} s ({seen})", last)
        pause(min(sleep, remaining))


def is_final(obj: dict) -> bool:
    return dig(obj, "status", "phase") in FINAL_PHASES


def cluster_of(client: Any) -> str:
    """The API server URL of a kubernetes.core client, for messages."""
    return str(getattr(getattr(client, "configuration", None), "host", "") or "the cluster")


def velero_resource(client: Any, kind: str) -> Any:
    """The velero.io/v1 resource of ``kind``; VeleroNotInstalled when its CRD is not served."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        return client.resources.get(api_version=VELERO_API, kind=kind)
    except ResourceNotFoundError as error:
        raise VeleroNotInstalled(f"Velero CRDs are not served on {cluster_of(client)} ({kind}.{VELERO_API} "
                                 "is missing): install Velero on that cluster") from error


def served_velero_kinds(client: Any) -> dict[str, bool]:
    served = {}
    for kind in VELERO_KINDS:
        try:
            velero_resource(client, kind)
            served[kind] = True
        except VeleroNotInstalled:
            served[kind] = False
    return served


def namespace_exists(client: Any, namespace: str) -> bool:
    from kubernetes.dynamic.exceptions import NotFoundError

    try:
        client.get(client.resources.get(api_version="v1", kind="Namespace"), name=namespace)
    except NotFoundError:
        return False
    return True


def require_velero(client: Any, namespace: str) -> None:
    """Fail early, naming the fix, when Velero cannot be used on this cluster."""
    for kind in VELERO_KINDS:
        velero_resource(client, kind)
    if not namespace_exists(client, namespace):
        raise VeleroNotInstalled(f"the Velero namespace {namespace!r} does not exist on {cluster_of(client)}: "
                                 "set the namespace Velero runs in (velero_namespace / namespace)")


def get_object(client: Any, kind: str, name: str, namespace: str) -> dict | None:
    from kubernetes.dynamic.exceptions import NotFoundError

    try:
        return client.get(velero_resource(client, kind), name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def create_object(client: Any, definition: dict) -> dict:
    """Create the object (a server-side dry run when the client is in check mode)."""
    resource = velero_resource(client, definition["kind"])
    created = client.create(resource, definition, namespace=definition["metadata"]["namespace"])
    return created.to_dict() if hasattr(created, "to_dict") else dict(created)


def ensure_object(client: Any, definition: dict, fields: dict) -> tuple[dict, bool]:
    """(object, created): the existing object when it matches, else a new one; SpecConflict otherwise."""
    meta = definition["metadata"]
    existing = get_object(client, definition["kind"], meta["name"], meta["namespace"])
    if existing is None:
        return create_object(client, definition), True
    differences = spec_differences(fields, definition, existing)
    if differences:
        raise SpecConflict(definition["kind"], object_ref(existing), differences)
    return existing, False


def _api_message(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            return str(json.loads(body).get("message") or body)
        except (ValueError, AttributeError):
            return body
    return str(getattr(error, "reason", "") or error)


def _connection_reason(error: Any) -> str:
    reason = str(getattr(error, "reason", "") or error)
    # urllib3 prefixes the reason with the connection object (repr or "HTTPSConnection(host=..)"),
    # which repeats the address already named: keep the sentence after it.
    return _CONNECTION_PREFIX.sub("", reason, count=1)


def _from_the_wire(error: BaseException) -> bool:
    return (getattr(error, "pool", None) is not None or isinstance(getattr(error, "status", None), int)
            or isinstance(error, (ConnectionError, TimeoutError, socket.gaierror)))


def explain_error(error: BaseException, cluster: str = "") -> str:
    """One sentence for an exception met while talking to ``cluster`` (its URL, "" when unknown)."""
    # Look-ups wrap the client's exception; what went wrong on the wire is in the cause.
    cause = error
    while cause is not None and not _from_the_wire(cause):
        cause = cause.__cause__
    if cause is not None:
        error = cause
    pool = getattr(error, "pool", None)
    if pool is not None and getattr(pool, "host", None):
        cluster = f"{getattr(pool, 'scheme', 'https')}://{pool.host}:{pool.port}"
    label = f"cluster {cluster}" if cluster else "the cluster"
    name = type(error).__name__
    if name in ("MaxRetryError", "NewConnectionError", "ConnectTimeoutError", "ProtocolError") or isinstance(
            error, (ConnectionError, TimeoutError, socket.gaierror)):
        return f"{label} is unreachable: {_connection_reason(error)}; check host/kubeconfig"
    status = getattr(error, "status", None)
    if status == 401:
        return f"{label} rejected the credentials (401 Unauthorized): check the token or kubeconfig"
    if status == 403:
        return f"{label} refused the request (403 Forbidden): {_api_message(error)}"
    if status is not None:
        return f"{label} answered {status}: {_api_message(error)}"
    if name in ("CoreException", "ConfigException"):
        return f"{error}: check host/kubeconfig/context"
    return str(error)


def failure_reasons(obj: dict) -> list[str]:
    """What Velero itself says of a failed Backup or Restore: validation errors, then the failure reason."""
    status = obj.get("status") or {}
    reasons = [str(reason) for reason in status.get("validationErrors") or []]
    if status.get("failureReason"):
        reasons.append(str(status["failureReason"]))
    return reasons


def handled_errors() -> tuple[type, ...]:
    """Exception types a module turns into one message; anything else is a bug and keeps its traceback."""
    types: list[type] = [MigrationError, OSError]
    try:
        from urllib3.exceptions import HTTPError

        types.append(HTTPError)
    except ImportError:
        pass  # the module reports the missing library itself
    try:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.config import ConfigException
        from kubernetes.dynamic.exceptions import DynamicApiError

        types.extend([ApiException, ConfigException, DynamicApiError])
    except ImportError:
        pass
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

        types.append(CoreException)
    except ImportError:
        pass
    return tuple(types)
