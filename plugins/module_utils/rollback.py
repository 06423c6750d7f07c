"""Roll back a Velero restore: delete what it created, found by the label Velero puts on every restored object.

Velero labels each object it restores with ``velero.io/restore-name`` (the restore's name,
shortened like every label value Velero writes when it is longer than 63 characters). It does not
label the Namespaces it creates, so a namespace is deleted only when, after the deletions, it holds
nothing but what the cluster puts into every namespace, and never when it holds anything else.

The pure functions decide (which kinds to look at, which objects block a namespace); ``Rollback``
talks to a cluster through a kubernetes dynamic client or kubernetes.core's K8SClient.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from .errors import MigrationError
from .labels import valid_label_value
from .objects import dig, label, name_of, namespace_of, owner_references

RESTORE_NAME_LABEL = "velero.io/restore-name"
BACKUP_NAME_LABEL = "velero.io/backup-name"
VELERO_API = "velero.io/v1"
# Kinds never looked at: events are records, not objects a restore creates, and Velero's own
# objects (PodVolumeRestores, DataDownloads, ...) carry the restore label as bookkeeping.
SKIPPED_GROUPS = frozenset({"velero.io"})
SKIPPED_RESOURCES = frozenset({("", "events"), ("events.k8s.io", "events")})
# Namespaces a rollback never deletes, whatever they hold.
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", "openshift"})
PROTECTED_PREFIXES = ("kube-", "openshift-")

# What the cluster creates by itself in every namespace (Kubernetes, and OpenShift's controllers).
AUTOMATIC_SERVICE_ACCOUNTS = frozenset({"default", "builder", "deployer"})
AUTOMATIC_NAMES = {
    ("", "ServiceAccount"): AUTOMATIC_SERVICE_ACCOUNTS,
    ("", "ConfigMap"): frozenset({"kube-root-ca.crt", "openshift-service-ca.crt"}),
    ("rbac.authorization.k8s.io", "RoleBinding"): frozenset({"system:image-pullers", "system:image-builders",
                                                             "system:deployers"}),
    ("authorization.openshift.io", "RoleBinding"): frozenset({"system:image-pullers", "system:image-builders",
                                                              "system:deployers"}),
}
SERVICE_ACCOUNT_SECRET_TYPES = frozenset({"kubernetes.io/service-account-token", "kubernetes.io/dockercfg"})
_GONE_SLEEP = 1.0


class RollbackError(MigrationError):
    """The rollback could not finish."""


class RollbackTimeout(RollbackError):
    """Deleted objects still exist when the wait ends."""


# --- pure logic ----------------------------------------------------------------------------


def restore_label_value(restore_name: str) -> str:
    """The value Velero writes into velero.io/restore-name (label.GetValidName: 57 characters + 6 hex of the sha256 when over 63)."""
    return valid_label_value(restore_name)


def label_values(restore_names: Iterable[str]) -> list[str]:
    """The label values of the restores, without duplicates, sorted."""
    return sorted({restore_label_value(str(name)) for name in restore_names if str(name)})


def restore_selector(restore_names: Iterable[str]) -> str:
    """The label selector matching every object of the restores."""
    values = label_values(restore_names)
    if not values:
        raise RollbackError("restore_names is empty: name at least one Velero Restore")
    return f"{RESTORE_NAME_LABEL} in ({','.join(values)})"


def carries_label(obj: dict, values: Iterable[str]) -> bool:
    """Whether the object carries the restore label of one of ``values`` (checked again before every delete)."""
    return label(obj, RESTORE_NAME_LABEL) in set(values)


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def scannable(group: str, name: str, verbs: Iterable[str]) -> bool:
    """Whether objects of a resource are looked at: listable and deletable, no subresource, no event, not Velero's."""
    verbs = set(verbs or [])
    return ("/" not in name and (group, name) not in SKIPPED_RESOURCES and group not in SKIPPED_GROUPS
            and {"list", "delete"} <= verbs)


def pick_resources(resources: Iterable[Any]) -> list[Any]:
    """The resources to list: scannable ones, one version per group and kind (the preferred one when served).

    Each resource has the dynamic client's attributes: group, kind, name, verbs, preferred. The
    client's ResourceLists (the ``...List`` kinds, without a name) are left out.
    """
    chosen: dict[tuple[str, str], Any] = {}
    for resource in resources:
        name = getattr(resource, "name", None)
        group = getattr(resource, "group", "") or ""
        if not name or getattr(resource, "base_kind", None) or not scannable(group, name, getattr(resource, "verbs", None) or []):
            continue
        key = (group, resource.kind)
        if key not in chosen or (getattr(resource, "preferred", False) and not getattr(chosen[key], "preferred", False)):
            chosen[key] = resource
    return list(chosen.values())


def ref(obj: dict) -> dict:
    """The report entry of one object."""
    return {"api_version": obj.get("apiVersion", ""), "kind": obj.get("kind", ""), "namespace": namespace_of(obj),
            "name": name_of(obj)}


def describe(obj: dict) -> str:
    namespace = namespace_of(obj)
    return f"{obj.get('kind')} {namespace}/{name_of(obj)}" if namespace else f"{obj.get('kind')} {name_of(obj)}"


def uid_of(obj: dict) -> str:
    return dig(obj, "metadata", "uid", default="") or ""


def terminating(obj: dict) -> bool:
    return bool(dig(obj, "metadata", "deletionTimestamp"))


def automatic(obj: dict) -> bool:
    """Whether the cluster creates this object by itself in every namespace (default ServiceAccount, CA bundle, ...)."""
    group_kind = (group_of(str(obj.get("apiVersion") or "")), obj.get("kind"))
    if name_of(obj) in AUTOMATIC_NAMES.get(group_kind, ()):
        return True
    if group_kind == ("", "Secret") and obj.get("type") in SERVICE_ACCOUNT_SECRET_TYPES:
        notes = dig(obj, "metadata", "annotations", default={}) or {}
        account = notes.get("kubernetes.io/service-account.name") or notes.get(
            "openshift.io/internal-registry-auth-token.service-account") or ""
        return account in AUTOMATIC_SERVICE_ACCOUNTS
    return False


def going_away(objects: list[dict], deleted_uids: set[str], outside_owners: Iterable[str] = ()) -> set[str]:
    """The uids of the objects that the deletions remove, or the cluster removes after them.

    That is the deleted objects, objects already being deleted, the Endpoints of deleted Services,
    and, as the garbage collector does, objects whose owners are all going away or gone:
    ``objects`` holds every object of the namespace and ``outside_owners`` the uids of the
    cluster-scoped owners that exist, so an owner uid found in neither no longer exists.
    """
    present = {uid_of(obj) for obj in objects} | set(outside_owners)
    gone = set(deleted_uids) | {uid_of(obj) for obj in objects if terminating(obj)}
    services = {(namespace_of(obj), name_of(obj)) for obj in objects
                if obj.get("kind") == "Service" and group_of(str(obj.get("apiVersion") or "")) == "" and uid_of(obj) in gone}
    for obj in objects:
        if obj.get("kind") == "Endpoints" and (namespace_of(obj), name_of(obj)) in services:
            gone.add(uid_of(obj))
    grew = True
    while grew:
        grew = False
        for obj in objects:
            owners = [owner.get("uid") for owner in owner_references(obj)]
            if uid_of(obj) in gone or not owners:
                continue
            if all(owner in gone or owner not in present for owner in owners):
                gone.add(uid_of(obj))
                grew = True
    return gone


def blocking_objects(objects: list[dict], deleted_uids: set[str], outside_owners: Iterable[str] = ()) -> list[dict]:
    """The objects of a namespace that keep it: everything not going away and not created by the cluster.

    What an automatic object owns (the token Secret of the default ServiceAccount) is automatic too.
    """
    gone = going_away(objects, deleted_uids, outside_owners)
    made_by_cluster = {uid_of(obj) for obj in objects if automatic(obj)}
    return [obj for obj in objects if uid_of(obj) not in gone and uid_of(obj) not in made_by_cluster
            and not (owner_references(obj) and all(owner.get("uid") in made_by_cluster for owner in owner_references(obj)))]


def protected_namespace(name: str, velero_namespace: str = "") -> bool:
    return name in PROTECTED_NAMESPACES or name.startswith(PROTECTED_PREFIXES) or (bool(velero_namespace) and name == velero_namespace)


def restore_targets(restore: dict | None) -> set[str]:
    """The namespaces a Velero Restore wrote into, as far as its spec names them (mapping, listed namespaces)."""
    spec = (restore or {}).get("spec") or {}
    mapping = spec.get("namespaceMapping") or {}
    targets = {str(value) for value in mapping.values() if value}
    for namespace in spec.get("includedNamespaces") or []:
        if namespace and "*" not in namespace:
            targets.add(str(mapping.get(namespace) or namespace))
    return targets


def deletion_order(objects: list[dict]) -> list[dict]:
    """Owners before what they own (fewer owner references first), then by kind, namespace and name."""
    return sorted(objects, key=lambda obj: (len(owner_references(obj)), str(obj.get("kind")), namespace_of(obj), name_of(obj)))


def split(objects: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(namespaced objects, Namespaces, other cluster-scoped objects)."""
    namespaced, namespaces, cluster = [], [], []
    for obj in objects:
        if obj.get("kind") == "Namespace" and group_of(str(obj.get("apiVersion") or "")) == "":
            namespaces.append(obj)
        elif namespace_of(obj):
            namespaced.append(obj)
        else:
            cluster.append(obj)
    return namespaced, namespaces, cluster


# --- on a cluster --------------------------------------------------------------------------


def _with_kind(item: dict, resource: Any) -> dict:
    return dict(item, apiVersion=item.get("apiVersion") or resource.group_version, kind=item.get("kind") or resource.kind)


def _to_dict(answer: Any) -> dict:
    return answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)


class Rollback:
    """One rollback run. ``deleted`` holds what was deleted so far, also when a step fails."""

    def __init__(self, client: Any, restore_names: list[str], namespaces: list[str] | None = None,
                 delete_namespaces: bool = True, cluster_scoped: bool = True, check_mode: bool = False,
                 velero_namespace: str = "velero", clock: Callable[[], float] = time.monotonic,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.restore_names = list(restore_names)
        self.values = label_values(self.restore_names)
        self.selector = restore_selector(self.restore_names)
        self.namespaces = list(dict.fromkeys(namespaces)) if namespaces else None
        self.delete_namespaces = delete_namespaces
        self.cluster_scoped = cluster_scoped
        self.check_mode = check_mode
        self.velero_namespace = velero_namespace
        self.clock = clock
        self.pause = pause
        self.deleted: list[dict] = []
        self.kept_namespaces: list[dict] = []
        self.skipped_kinds: list[str] = []
        self.resources: list[Any] = []
        self._pending: list[tuple[Any, dict]] = []  # (resource, object) deleted or already being deleted
        self._deleted_uids: set[str] = set()

    # discovery and listing

    def discover(self) -> None:
        # The discovery cache may predate the restore (and the CRDs it created): read discovery afresh.
        invalidate = getattr(self.client.resources, "invalidate_cache", None)
        if callable(invalidate):
            invalidate()
        self.resources = pick_resources(self.client.resources.search())

    def _skip(self, resource: Any, error: Any) -> None:
        name = f"{resource.name}.{resource.group}" if resource.group else resource.name
        status = getattr(error, "status", "")
        entry = f"{name} ({status} {getattr(error, 'reason', '') or ''})".replace(" )", ")").strip()
        if not any(known.startswith(f"{name} ") for known in self.skipped_kinds):
            self.skipped_kinds.append(entry)

    def _list(self, resource: Any, namespace: str | None = None, selector: str | None = None) -> list[dict] | None:
        """The objects, None when the user may not list them or the API does not answer."""
        from kubernetes.dynamic.exceptions import DynamicApiError

        try:
            answer = resource.get(namespace=namespace, label_selector=selector)
        except DynamicApiError as error:
            if getattr(error, "status", None) in (403, 404, 405, 503):
                self._skip(resource, error)
                return None
            raise
        return [_with_kind(item, resource) for item in _to_dict(answer).get("items") or []]

    def labelled(self) -> list[tuple[Any, dict]]:
        """(resource, object) of every labelled object in scope, each object once."""
        found: dict[str, tuple[Any, dict]] = {}
        for resource in self.resources:
            if not resource.namespaced and not self.cluster_scoped and resource.kind != "Namespace":
                continue
            if resource.namespaced and self.namespaces is not None:
                listings = [self._list(resource, namespace, self.selector) for namespace in self.namespaces]
            else:
                listings = [self._list(resource, None, self.selector)]
            for items in listings:
                for obj in items or []:
                    if not carries_label(obj, self.values) or uid_of(obj) in found:
                        continue
                    found[uid_of(obj)] = (resource, obj)
        return list(found.values())

    def namespace_objects(self, namespace: str) -> tuple[list[dict], bool]:
        """Every object of the namespace, and whether every kind could be listed."""
        objects: dict[str, dict] = {}
        complete = True
        for resource in self.resources:
            if not resource.namespaced:
                continue
            items = self._list(resource, namespace)
            if items is None:
                complete = False
                continue
            for obj in items:
                objects.setdefault(uid_of(obj), obj)
        return list(objects.values()), complete

    def _get(self, resource: Any, name: str, namespace: str | None) -> dict | None:
        from kubernetes.dynamic.exceptions import NotFoundError

        try:
            return _to_dict(resource.get(name=name, namespace=namespace or None))
        except NotFoundError:
            return None

    # deleting and waiting

    def delete(self, resource: Any, obj: dict) -> None:
        """Delete one object, exactly the one seen (uid precondition), unless it changed hands since."""
        from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

        if not carries_label(obj, self.values):
            raise RollbackError(f"{describe(obj)} does not carry {RESTORE_NAME_LABEL}: refusing to delete it")
        if terminating(obj):
            self._pending.append((resource, obj))
            return
        if not self.check_mode:
            body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background",
                    "preconditions": {"uid": uid_of(obj)}}
            try:
                resource.delete(name=name_of(obj), namespace=namespace_of(obj) or None, body=body)
            except ConflictError:
                return  # another object of that name now: not the one restored
            except NotFoundError:
                pass  # gone meanwhile (a garbage collector was faster): still removed by this rollback
            self._pending.append((resource, obj))
        self.deleted.append(ref(obj))

    def wait(self, timeout: float, deadline: float | None = None) -> None:
        """Wait until every object deleted so far is gone (or replaced by another object of that name)."""
        if self.check_mode:
            return
        deadline = self.clock() + timeout if deadline is None else deadline
        while self._pending:
            remaining = []
            for resource, obj in self._pending:
                current = self._get(resource, name_of(obj), namespace_of(obj))
                if current is not None and uid_of(current) == uid_of(obj):
                    remaining.append((resource, current))
            self._pending = remaining
            if not remaining:
                return
            if self.clock() >= deadline:
                raise RollbackTimeout(self._timeout_message(timeout, [obj for resource, obj in remaining]))
            self.pause(min(_GONE_SLEEP, max(deadline - self.clock(), 0)))

    def _timeout_message(self, timeout: float, remaining: list[dict]) -> str:
        from .velero import cluster_of

        shown = []
        for obj in remaining[:5]:
            finalizers = dig(obj, "metadata", "finalizers", default=[]) or []
            shown.append(describe(obj) + (f" (finalizers: {', '.join(finalizers)})" if finalizers else ""))
        more = f" and {len(remaining) - 5} more" if len(remaining) > 5 else ""
        return (f"{len(remaining)} deleted objects still exist on {cluster_of(self.client)} after {timeout:g} s: "
                f"{'; '.join(shown)}{more}. "
                "Check what holds them (finalizers, a controller), or raise wait_timeout")

    # namespaces

    def candidate_namespaces(self, labelled_objects: list[dict], labelled_namespaces: list[dict]) -> list[str]:
        names = {namespace_of(obj) for obj in labelled_objects} | {name_of(obj) for obj in labelled_namespaces}
        for restore_name in self.restore_names:
            names |= restore_targets(self._restore(restore_name))
        if self.namespaces is not None:
            names = (names | set(self.namespaces)) & set(self.namespaces)
        return sorted(name for name in names if name and not protected_namespace(name, self.velero_namespace))

    def _restore(self, name: str) -> dict | None:
        """The Velero Restore, None when it cannot be read (deleted, no Velero, no permission)."""
        from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

        try:
            resource = self.client.resources.get(api_version=VELERO_API, kind="Restore")
            return self._get(resource, name, self.velero_namespace)
        except (ResourceNotFoundError, DynamicApiError):
            return None

    def _outside_owners(self, objects: list[dict]) -> set[str]:
        """The uids of the existing owners of ``objects`` that are not in their namespace (cluster-scoped ones)."""
        from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

        inside = {uid_of(obj) for obj in objects}
        found: set[str] = set()
        seen: set[tuple] = set()
        for obj in objects:
            for owner in owner_references(obj):
                key = (owner.get("apiVersion"), owner.get("kind"), owner.get("name"))
                if owner.get("uid") in inside or key in seen:
                    continue
                seen.add(key)
                try:
                    resource = self.client.resources.get(api_version=owner.get("apiVersion"), kind=owner.get("kind"))
                    current = None if resource.namespaced else self._get(resource, str(owner.get("name")), None)
                except (ResourceNotFoundError, DynamicApiError):
                    current = {"metadata": {"uid": owner.get("uid")}}  # cannot tell: count the owner as there
                if current is not None:
                    found.add(uid_of(current))
        return found

    def remove_namespace(self, namespace_resource: Any, name: str) -> None:
        namespace = self._get(namespace_resource, name, None)
        if namespace is None:
            return
        namespace = _with_kind(namespace, namespace_resource)
        if terminating(namespace):
            self._pending.append((namespace_resource, namespace))
            return
        objects, complete = self.namespace_objects(name)
        deleted_uids = {uid_of(obj) for resource, obj in self._pending} | self._deleted_uids
        keeping = blocking_objects(objects, deleted_uids, self._outside_owners(objects))
        if keeping or not complete:
            reason = (f"holds {', '.join(describe(obj) for obj in keeping[:5])}"
                      + (f" and {len(keeping) - 5} more" if len(keeping) > 5 else "")) if keeping else \
                "not every kind could be listed in it"
            self.kept_namespaces.append({"name": name, "reason": reason})
            return
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background",
                "preconditions": {"uid": uid_of(namespace)}}
        if not self.check_mode:
            from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

            try:
                namespace_resource.delete(name=name, body=body)
            except (ConflictError, NotFoundError):
                return
            self._pending.append((namespace_resource, namespace))
        self.deleted.append(ref(namespace))

    # the run

    def run(self, wait: bool = True, wait_timeout: float = 300) -> None:
        deadline = self.clock() + wait_timeout
        self.discover()
        found = self.labelled()
        objects = [obj for resource, obj in found]
        namespaced, namespaces, cluster = split(objects)
        by_uid = {uid_of(obj): resource for resource, obj in found}
        in_scope = [obj for obj in namespaced if self.namespaces is None or namespace_of(obj) in self.namespaces]
        for obj in deletion_order(in_scope):
            self._deleted_uids.add(uid_of(obj))
            self.delete(by_uid[uid_of(obj)], obj)
        if wait:
            self.wait(wait_timeout, deadline)
        if self.delete_namespaces:
            namespace_resource = self.client.resources.get(api_version="v1", kind="Namespace")
            for name in self.candidate_namespaces(in_scope, namespaces):
                self.remove_namespace(namespace_resource, name)
            if wait:
                self.wait(wait_timeout, deadline)
        if self.cluster_scoped:
            for obj in deletion_order(cluster):
                self.delete(by_uid[uid_of(obj)], obj)
            if wait:
                self.wait(wait_timeout, deadline)
