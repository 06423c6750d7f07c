"""Quiesce and resume of workloads: scale controllers to zero and suspend CronJobs, recording what was there.

The pure functions compute merge patches (and resumed copies of archive items); ``plan`` and
``apply`` talk to a cluster through a kubernetes dynamic client (``client.resources``) or
kubernetes.core's K8SClient. The annotation names are those of the Migration Toolkit for
Containers, so a workload quiesced by either tool can be resumed by the other.
"""
from __future__ import annotations

import copy
import time
from typing import Any

from .errors import MigrationError
from .objects import dig, name_of, namespace_of, owner_references

PRE_QUIESCE_REPLICAS = "migration.openshift.io/preQuiesceReplicas"
PRE_QUIESCE_SUSPEND = "migration.openshift.io/preQuiesceSuspend"

# (apiVersion, kind) of every kind handled, in the order they are changed: owners before the
# ReplicaSets / ReplicationControllers they own, so the controllers see their owner first.
SCALED_KINDS = (
    ("apps.openshift.io/v1", "DeploymentConfig"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("v1", "ReplicationController"),
)
SUSPENDED_KINDS = (("batch/v1", "CronJob"),)
WORKLOAD_KINDS = SCALED_KINDS[:3] + SUSPENDED_KINDS + SCALED_KINDS[3:]
# Kinds whose controller-owned objects are left to their owner.
OWNED_KINDS = frozenset({"ReplicaSet", "ReplicationController"})
_MERGE_PATCH = "application/merge-patch+json"


class QuiesceError(MigrationError):
    """A workload could not be quiesced or resumed."""


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _handled(obj: dict, kinds: tuple) -> bool:
    group_kind = (_group(str(obj.get("apiVersion") or "")), obj.get("kind"))
    return group_kind in {(_group(api_version), kind) for api_version, kind in kinds}


def is_scaled(obj: dict) -> bool:
    """Whether quiesce scales this object's spec.replicas."""
    return _handled(obj, SCALED_KINDS)


def is_suspended(obj: dict) -> bool:
    """Whether quiesce sets this object's spec.suspend."""
    return _handled(obj, SUSPENDED_KINDS)


def controller_owned(obj: dict) -> bool:
    """A ReplicaSet / ReplicationController with a controller owner: its owner is scaled instead."""
    return obj.get("kind") in OWNED_KINDS and any(ref.get("controller") is True for ref in owner_references(obj))


def replicas(obj: dict) -> int:
    """spec.replicas as the API server reads it: Kubernetes defaults an unset value to 1, OpenShift's DeploymentConfig to 0."""
    value = dig(obj, "spec", "replicas")
    if value is None:
        return 0 if obj.get("kind") == "DeploymentConfig" else 1
    return int(value)


def suspended(obj: dict) -> bool:
    return dig(obj, "spec", "suspend") is True


def _annotation(obj: dict, key: str) -> str | None:
    notes = dig(obj, "metadata", "annotations", default={})
    return notes.get(key) if isinstance(notes, dict) else None


def _describe(obj: dict) -> str:
    return f"{obj.get('kind')} {namespace_of(obj)}/{name_of(obj)}"


def recorded_replicas(obj: dict) -> int | None:
    """The replicas recorded by quiesce; None when there is no record."""
    value = _annotation(obj, PRE_QUIESCE_REPLICAS)
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0:
        raise QuiesceError(f"{_describe(obj)}: annotation {PRE_QUIESCE_REPLICAS} is {value!r}, not a number of replicas: "
                           "set it to the replicas to restore, or remove it")
    return number


def recorded_suspend(obj: dict) -> bool | None:
    """The spec.suspend recorded by quiesce; None when there is no record."""
    value = _annotation(obj, PRE_QUIESCE_SUSPEND)
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise QuiesceError(f"{_describe(obj)}: annotation {PRE_QUIESCE_SUSPEND} is {value!r}, not \"true\" or \"false\": "
                           "set it to the value to restore, or remove it")
    return text == "true"


def quiesce_patch(obj: dict) -> dict | None:
    """The merge patch that quiesces ``obj``; None when there is nothing to do.

    The original value is recorded only when there is no record yet, so a second quiesce never
    overwrites what the first one saw (it only scales down again what was scaled up since).
    """
    if is_scaled(obj):
        if controller_owned(obj):
            return None
        current = replicas(obj)
        if _annotation(obj, PRE_QUIESCE_REPLICAS) is not None:
            return {"spec": {"replicas": 0}} if current else None
        if current == 0:
            return None
        return {"metadata": {"annotations": {PRE_QUIESCE_REPLICAS: str(current)}}, "spec": {"replicas": 0}}
    if is_suspended(obj):
        if suspended(obj):
            return None
        if _annotation(obj, PRE_QUIESCE_SUSPEND) is not None:
            return {"spec": {"suspend": True}}
        return {"metadata": {"annotations": {PRE_QUIESCE_SUSPEND: "false"}}, "spec": {"suspend": True}}
    return None


def resume_patch(obj: dict) -> dict | None:
    """The merge patch that restores what quiesce recorded and removes the record; None without a record.

    A controller-owned ReplicaSet carries the record only because its Deployment's controller
    copies the Deployment's annotations: the record is removed, the replicas are left to the owner.
    """
    if is_scaled(obj):
        wanted = recorded_replicas(obj)
        if wanted is None:
            return None
        patch: dict = {"metadata": {"annotations": {PRE_QUIESCE_REPLICAS: None}}}
        if not controller_owned(obj) and replicas(obj) != wanted:
            patch["spec"] = {"replicas": wanted}
        return patch
    if is_suspended(obj):
        wanted_suspend = recorded_suspend(obj)
        if wanted_suspend is None:
            return None
        patch = {"metadata": {"annotations": {PRE_QUIESCE_SUSPEND: None}}}
        if suspended(obj) != wanted_suspend:
            patch["spec"] = {"suspend": wanted_suspend}
        return patch
    return None


def _merge(target: dict, patch: dict) -> dict:
    """RFC 7386 merge patch applied in place (None removes a key)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            child = target.get(key)
            if not isinstance(child, dict):
                child = target[key] = {}
            _merge(child, value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def apply_patch(obj: dict, patch: dict) -> dict:
    """A copy of ``obj`` with the merge patch applied; an emptied annotations map is removed."""
    result = _merge(copy.deepcopy(obj), patch)
    meta = result.get("metadata")
    if isinstance(meta, dict) and meta.get("annotations") == {}:
        del meta["annotations"]
    return result


def resume_workload(item: dict) -> dict | None:
    """A resumed copy of an item (replicas / suspend restored, record removed); None when it carries no record."""
    patch = resume_patch(item)
    return None if patch is None else apply_patch(item, patch)


def state(obj: dict) -> dict:
    """What quiesce changes on ``obj``, for reports and diffs."""
    if is_suspended(obj):
        return {"suspend": suspended(obj)}
    return {"replicas": replicas(obj)}


def change(obj: dict, patch: dict) -> dict:
    """One entry of the module's report: the object and its state before and after the patch."""
    return {"kind": obj.get("kind"), "namespace": namespace_of(obj), "name": name_of(obj),
            "before": state(obj), "after": state(apply_patch(obj, patch))}


def patch_for(obj: dict, wanted: str) -> dict | None:
    """quiesce_patch or resume_patch, by the module's state (``quiesced`` / ``resumed``)."""
    return quiesce_patch(obj) if wanted == "quiesced" else resume_patch(obj)


# --- on a cluster --------------------------------------------------------------------------


def served_resources(client: Any) -> list[Any]:
    """The dynamic-client resources of WORKLOAD_KINDS the cluster serves, in WORKLOAD_KINDS order."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    found = []
    for api_version, kind in WORKLOAD_KINDS:
        try:
            found.append(client.resources.get(api_version=api_version, kind=kind))
        except ResourceNotFoundError:
            continue  # e.g. no DeploymentConfig on plain Kubernetes
    return found


def _items(resource: Any, namespace: str) -> list[dict]:
    listing = resource.get(namespace=namespace)
    listing = listing.to_dict() if hasattr(listing, "to_dict") else listing
    items = []
    for item in listing.get("items") or []:
        item = dict(item, apiVersion=item.get("apiVersion") or resource.group_version, kind=item.get("kind") or resource.kind)
        items.append(item)
    return sorted(items, key=name_of)


def plan(client: Any, namespaces: list[str], wanted: str) -> list[tuple[Any, dict, dict]]:
    """(resource, object, patch) for every workload of ``namespaces`` that ``wanted`` changes, in apply order."""
    steps = []
    for resource in served_resources(client):
        for namespace in namespaces:
            for obj in _items(resource, namespace):
                patch = patch_for(obj, wanted)
                if patch is not None:
                    steps.append((resource, obj, patch))
    return steps


def apply(resource: Any, obj: dict, patch: dict, wanted: str, attempts: int = 8) -> dict | None:
    """Patch one object; the report entry of what changed, None when it no longer needs a change.

    The patch carries the resourceVersion read, so the API server refuses it when the object
    changed since (a controller or a person scaled it): the object is read again and the patch
    computed again, so the recorded value is always the one the patch replaced.
    """
    from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

    current = obj
    for attempt in range(attempts):
        guarded = _merge(copy.deepcopy(patch), {"metadata": {"resourceVersion": dig(current, "metadata", "resourceVersion")}})
        try:
            resource.patch(body=guarded, name=name_of(current), namespace=namespace_of(current), content_type=_MERGE_PATCH)
            return change(current, patch)
        except ConflictError:
            if attempt == attempts - 1:
                raise
            # Controllers rewrite owned objects right after their owner changes (the Deployment
            # controller copies annotations onto its ReplicaSet): give them a moment.
            time.sleep(0.1 * (attempt + 1))
        except NotFoundError:
            return None
        try:
            fresh = resource.get(name=name_of(current), namespace=namespace_of(current))
        except NotFoundError:
            return None
        fresh = fresh.to_dict() if hasattr(fresh, "to_dict") else dict(fresh)
        current = dict(fresh, apiVersion=fresh.get("apiVersion") or resource.group_version, kind=fresh.get("kind") or resource.kind)
        patch = patch_for(current, wanted)
        if patch is None:
            return None
    return None


def require_namespaces(client: Any, namespaces: list[str]) -> None:
    """Fail before anything is changed when a namespace does not exist."""
    from .velero import cluster_of, namespace_exists

    missing = [namespace for namespace in namespaces if not namespace_exists(client, namespace)]
    if missing:
        names = ", ".join(repr(namespace) for namespace in missing)
        noun = "namespace" if len(missing) == 1 else "namespaces"
        verb = "does" if len(missing) == 1 else "do"
        raise QuiesceError(f"{noun} {names} {verb} not exist on {cluster_of(client)}: check the names in namespaces")
