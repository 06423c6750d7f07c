# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks made before a migration changes anything; every problem is collected, none stops the others.

Like a migration planner, the preflight lists all it finds at once, so one run tells the user
everything to fix. It only reads: discovery, GETs and LISTs, and SelfSubjectAccessReviews (which
the API server answers without storing anything).

The checks talk to each cluster through ``Api`` (raw GET/POST of API paths), not through the
discovery-cached dynamic client: a stale discovery cache would claim kinds a cluster no longer
serves, and raw paths keep the checks testable with a dict of answers.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from .errors import MigrationError
from .labels import valid_label_value
from .objects import dig
from .preflight_facts import internal_registry
from .preflight_registry import RegistryOutcome, RegistrySpec, probe_registry
from .velero import NON_RESTORABLE, explain_error

ROLES = ("source", "destination")
VELERO_GROUP = "velero.io"
VELERO_REQUIRED = ("Backup", "Restore", "BackupStorageLocation")
RESTORE_LABEL = "velero.io/restore-name"
REQUEST_TIMEOUT = 15     # seconds per API request, so a half-dead API server cannot hang the preflight
PAGE = 100               # objects per LIST page when looking for objects that are in the way
COUNT_PAGE = 500         # objects per LIST page when counting

# What the cluster creates by itself in every namespace (OpenShift and Kubernetes controllers):
# it is there whether or not anything was restored, so it never makes a namespace "in use".
CLUSTER_MADE_NAMES = {
    ("", "ServiceAccount"): frozenset({"default", "builder", "deployer"}),
    ("", "ConfigMap"): frozenset({"kube-root-ca.crt", "openshift-service-ca.crt"}),
    ("rbac.authorization.k8s.io", "RoleBinding"): frozenset({"system:image-pullers", "system:image-builders",
                                                             "system:deployers"}),
    ("authorization.openshift.io", "RoleBinding"): frozenset({"system:image-pullers", "system:image-builders",
                                                              "system:deployers"}),
}
DOCKERCFG_TYPES = frozenset({"kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"})
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_FIX_HINT = re.compile(r"^(.*?)[;:] (check .*)$", re.DOTALL)


class ApiError(MigrationError):
    """The API server answered with an error status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class Unreachable(MigrationError):
    """No answer from the API server."""


class Api(Protocol):
    """Raw access to one cluster's API; errors are ApiError or Unreachable."""

    host: str

    def get(self, path: str, query: list | None = None) -> dict:
        ...

    def post(self, path: str, body: dict) -> dict:
        ...


def _raw(_client: Any, data: Any) -> Any:
    """Serializer for the dynamic client's request(): keep the decoded JSON as plain dicts."""
    return data


class ClusterApi:
    """``Api`` over a kubernetes.core client (K8SClient), the one cluster_options builds."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.host = str(getattr(getattr(client, "configuration", None), "host", "") or "")

    def _call(self, method: str, path: str, **params: Any) -> dict:
        from kubernetes.dynamic.exceptions import DynamicApiError
        from urllib3.exceptions import HTTPError

        try:
            return self.client.client.request(method, path, serializer=_raw, _request_timeout=REQUEST_TIMEOUT,
                                              **params)
        except DynamicApiError as error:
            raise ApiError(int(getattr(error, "status", 0) or 0), explain_error(error, self.host)) from error
        except (HTTPError, OSError) as error:
            # The server did not answer (refused, timed out, TLS); explain_error names the address.
            raise Unreachable(explain_error(error, self.host)) from error

    def get(self, path: str, query: list | None = None) -> dict:
        return self._call("get", path, query_params=list(query or []))

    def post(self, path: str, body: dict) -> dict:
        return self._call("post", path, body=body)


# --- results -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    check: str
    cluster: str | None   # "source", "destination", or None for a registry
    object: str
    message: str
    fix: str

    def to_dict(self) -> dict:
        return {"check": self.check, "cluster": self.cluster, "object": self.object, "message": self.message,
                "fix": self.fix}

    def line(self) -> str:
        return f"[{self.cluster or 'registry'}] {self.message}; fix: {self.fix}"


@dataclass
class CheckResult:
    name: str
    cluster: str | None
    ok: bool
    detail: str

    def to_dict(self) -> dict:
        return {"name": self.name, "cluster": self.cluster, "ok": self.ok, "detail": self.detail}


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    clusters: dict[str, dict] = field(default_factory=dict)  # facts of each cluster that answered

    @property
    def ok(self) -> bool:
        return not self.problems

    def record(self, name: str, cluster: str | None, problems: list[Problem], detail: str) -> None:
        """One check's outcome: its problems, and one line for the check list."""
        self.problems.extend(problems)
        if problems:
            detail = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}: " + "; ".join(
                problem.message for problem in problems)
        self.checks.append(CheckResult(name, cluster, not problems, detail))

    def skip(self, name: str, cluster: str | None, why: str) -> None:
        self.checks.append(CheckResult(name, cluster, False, f"skipped: {why}"))

    def message(self) -> str:
        count = len(self.problems)
        return f"preflight found {count} problem{'s' if count != 1 else ''}:\n" + "\n".join(
            f"- {problem.line()}" for problem in self.problems)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "problems": [problem.to_dict() for problem in self.problems],
                "checks": [check.to_dict() for check in self.checks], "clusters": self.clusters}


@dataclass(frozen=True)
class PreflightSpec:
    namespaces: list[str]
    namespace_mapping: dict = field(default_factory=dict)
    velero_namespace: str = "velero"
    storage_location: str = "default"
    storage_class_mapping: dict = field(default_factory=dict)
    registries: list[RegistrySpec] = field(default_factory=list)
    restore_names: list[str] = field(default_factory=list)
    register_backup: bool = False  # the rewritten backup is registered on the destination

    def target(self, namespace: str) -> str:
        return str(self.namespace_mapping.get(namespace) or namespace)


# --- discovery -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ApiKind:
    group: str
    version: str
    kind: str
    resource: str
    namespaced: bool
    verbs: tuple = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def label(self) -> str:
        """Kind.group as kubectl writes it (just Kind for the core group)."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def group_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def listable(self) -> bool:
        return "list" in self.verbs

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        scope = f"/namespaces/{namespace}" if namespace and self.namespaced else ""
        return f"{prefix}{scope}/{self.resource}" + (f"/{name}" if name else "")


@dataclass
class Discovery:
    kinds: list[ApiKind]                                   # one entry per group, kind (its preferred version)
    versions: set = field(default_factory=set)             # (group, version, kind) of every served version
    failed: list[str] = field(default_factory=list)        # group/versions whose discovery did not answer

    def __post_init__(self) -> None:
        self.group_kinds = {(group, kind) for group, _version, kind in self.versions}

    def serves(self, group: str, kind: str, version: str | None = None) -> bool:
        if version is None:
            return (group, kind) in self.group_kinds
        return (group, version, kind) in self.versions

    def failed_groups(self) -> set:
        return {entry.split("/")[0] if "/" in entry else "" for entry in self.failed}


def parse_resource_list(group: str, version: str, answer: dict) -> list[ApiKind]:
    """The kinds of one APIResourceList; subresources (``pods/log``) are not kinds of their own."""
    kinds = []
    for resource in answer.get("resources") or []:
        name = str(resource.get("name") or "")
        if not name or "/" in name:
            continue
        kinds.append(ApiKind(group, version, str(resource.get("kind") or ""), name, bool(resource.get("namespaced")),
                             tuple(resource.get("verbs") or ())))
    return kinds


def build_discovery(lists: Iterable[tuple[str, str, bool, dict | None]]) -> Discovery:
    """Discovery from (group, version, preferred, APIResourceList or None when it failed)."""
    preferred: dict = {}
    fallback: dict = {}
    versions: set = set()
    failed = []
    for group, version, is_preferred, answer in lists:
        if answer is None:
            failed.append(f"{group}/{version}" if group else version)
            continue
        for kind in parse_resource_list(group, version, answer):
            versions.add((group, version, kind.kind))
            key = (group, kind.kind)
            if is_preferred:
                preferred.setdefault(key, kind)
            else:
                fallback.setdefault(key, kind)
    chosen = dict(fallback)
    chosen.update(preferred)
    # Core group first, then by group name, keeping discovery's order inside a group.
    order = {key: index for index, key in enumerate(list(preferred) + [key for key in fallback if key not in preferred])}
    kinds = sorted(chosen.values(), key=lambda kind: (kind.group != "", kind.group, order[(kind.group, kind.kind)]))
    return Discovery(kinds, versions, failed)


def discover(api: Api) -> Discovery:
    """Every served kind: /api and /apis, then each group/version's resource list."""
    lists: list[tuple[str, str, bool, dict | None]] = []
    core = api.get("/api")
    for index, version in enumerate(core.get("versions") or ["v1"]):
        lists.append(("", version, index == 0, _resource_list(api, f"/api/{version}")))
    for group in api.get("/apis").get("groups") or []:
        name = str(group.get("name") or "")
        preferred = dig(group, "preferredVersion", "version")
        for entry in group.get("versions") or []:
            version = str(entry.get("version") or "")
            lists.append((name, version, version == preferred, _resource_list(api, f"/apis/{name}/{version}")))
    return build_discovery(lists)


def _resource_list(api: Api, path: str) -> dict | None:
    try:
        return api.get(path)
    except ApiError:
        # An aggregated API whose server is down answers 503; the rest of discovery still counts.
        return None


# --- pure rules ----------------------------------------------------------------------------

def is_cluster_made(group: str, kind: str, obj: dict) -> bool:
    """Objects that the cluster itself creates in every namespace, or that another object owns.

    An owned object (a Deployment's ReplicaSet, a Service's EndpointSlice, a ServiceAccount's
    dockercfg Secret) is judged by its owner: the owner lives in the same namespace (or is
    cluster-scoped) and is examined itself, so the owned object adds nothing.
    """
    if kind == "Event":
        return True
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if name in CLUSTER_MADE_NAMES.get((group, kind), ()):
        return True
    owners = meta.get("ownerReferences") or []
    if group == "" and kind == "Secret":
        secret_type = obj.get("type")
        if secret_type == "kubernetes.io/service-account-token":
            return True
        if secret_type in DOCKERCFG_TYPES and any(owner.get("kind") == "ServiceAccount" for owner in owners):
            return True
    return bool(owners)


def restore_label_values(restore_names: Iterable[str]) -> list[str]:
    """Label values Velero writes for these restores (long names are shortened as Velero does)."""
    return sorted({valid_label_value(str(name)) for name in restore_names if name})


def from_migration(obj: dict, label_values: Iterable[str]) -> bool:
    return dig(obj, "metadata", "labels", RESTORE_LABEL) in set(label_values)


def foreign_objects(group: str, kind: str, items: Iterable[dict], label_values: Iterable[str]) -> list[str]:
    """``Kind/name`` of the items neither made by the cluster nor restored by one of these restores."""
    values = list(label_values)
    return [f"{kind}/{dig(item, 'metadata', 'name', default='')}" for item in items
            if not is_cluster_made(group, kind, item) and not from_migration(item, values)]


def restore_selector(label_values: list[str]) -> str | None:
    """A server-side pre-filter: objects without one of these restore labels (``notin`` matches unlabelled ones too)."""
    if not label_values or not all(_LABEL_VALUE.match(value) for value in label_values):
        return None
    return f"{RESTORE_LABEL} notin ({','.join(label_values)})"


def migrated_kinds(discovery: Discovery) -> list[ApiKind]:
    """Namespaced kinds a backup of a namespace would hold: listable, not events, not Velero's own bookkeeping."""
    return [kind for kind in discovery.kinds
            if kind.namespaced and kind.listable and kind.kind != "Event"
            and kind.group_resource not in NON_RESTORABLE]


def missing_kinds(source: Discovery, destination: Discovery) -> list[ApiKind]:
    """Source kinds the destination does not serve in any version (same group and kind)."""
    return [kind for kind in migrated_kinds(source) if not destination.serves(kind.group, kind.kind)]


def mapping_conflicts(spec: PreflightSpec) -> dict[str, list[str]]:
    """Destination namespaces that more than one source namespace maps onto."""
    targets: dict[str, list[str]] = {}
    for namespace in spec.namespaces:
        targets.setdefault(spec.target(namespace), []).append(namespace)
    return {target: sources for target, sources in targets.items() if len(sources) > 1}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- checks --------------------------------------------------------------------------------

class Preflight:
    """Runs every check against reachable clusters; ``run()`` returns the Report."""

    def __init__(self, spec: PreflightSpec, connect: dict[str, Callable[[], Api]],
                 probe: Callable[[RegistrySpec], RegistryOutcome] = probe_registry) -> None:
        self.spec = spec
        self.connect = connect
        self.probe = probe
        self.report = Report()
        self.apis: dict[str, Api] = {}
        self.discovery: dict[str, Discovery] = {}
        self.existing_sources: list[str] = []

    def run(self) -> Report:
        for role in ROLES:
            self.check_reachable(role)
        self.guarded("rights", self.check_rights, ROLES)
        self.guarded("velero", self.check_velero, ROLES)
        self.guarded("namespaces", self.check_namespaces, ("source",))
        self.guarded("api_kinds", self.check_api_kinds, ("destination",), needs=ROLES)
        self.guarded("storage_classes", self.check_storage_classes, ("destination",))
        self.check_registries()
        self.guarded("destination_namespaces", self.check_destination_namespaces, ("destination",))
        return self.report

    def guarded(self, name: str, check: Callable[[str], tuple[list[Problem], str]], roles: Iterable[str],
                needs: Iterable[str] | None = None) -> None:
        """Run ``check`` for each role whose clusters answered; an API failure becomes that check's problem."""
        for role in roles:
            down = [needed for needed in (needs or (role,)) if needed not in self.apis]
            if down:
                self.report.skip(name, role, f"the {' and '.join(down)} cluster did not answer")
                continue
            try:
                problems, detail = check(role)
            except (ApiError, Unreachable) as error:
                problems = [Problem(name, role, "", f"the {name} check failed on the {role} cluster: {error}",
                                    "check the connection and the user's rights, then run the preflight again")]
                detail = ""
            self.report.record(name, role, problems, detail)

    # 1. reachable
    def check_reachable(self, role: str) -> None:
        api: Api | None = None
        try:
            api = self.connect[role]()
            version = api.get("/version")
            discovery = discover(api)
        except MigrationError as error:
            host = api.host if api is not None else getattr(error, "host", "")
            message, fix = _unreachable_text(role, error, host)
            self.report.record("reachable", role, [Problem("reachable", role, host or role, message, fix)], "")
            return
        self.apis[role] = api
        self.discovery[role] = discovery
        problems = []
        try:
            hostname = internal_registry(api, discovery.kinds)
        except MigrationError as error:
            hostname = ""
            problems.append(Problem(
                "reachable", role, "internal registry",
                f"the {role} cluster's internal registry hostname cannot be read: {error}",
                "let the user read ImageStreams in namespace openshift (and, on OpenShift 4, ConfigMap "
                "openshift-apiserver/config; on 3.x, Service default/docker-registry)"))
        self.report.clusters[role] = {"api_url": api.host, "registry_hostname": hostname}
        detail = f"{api.host} answers, Kubernetes {version.get('gitVersion') or '?'}"
        if discovery.failed:
            detail += f"; discovery failed for {', '.join(discovery.failed)}"
        self.report.record("reachable", role, problems, detail)

    # 1b. rights
    def rights_wanted(self, role: str) -> list[tuple[str, str, str, str | None, str | None]]:
        """(verb, group, resource, namespace, name) the migration needs on ``role``."""
        velero_ns = self.spec.velero_namespace
        if role == "source":
            wanted = [("create", VELERO_GROUP, "backups", velero_ns, None)]
            for namespace in self.spec.namespaces:
                wanted += [("list", "", "pods", namespace, None), ("get", "", "namespaces", None, namespace)]
            return wanted
        wanted = [("create", VELERO_GROUP, "restores", velero_ns, None), ("create", "", "namespaces", None, None)]
        if self.spec.register_backup:
            wanted += [("create", VELERO_GROUP, "backups", velero_ns, None),
                       ("create", VELERO_GROUP, "podvolumebackups", velero_ns, None)]
        return wanted

    def check_rights(self, role: str) -> tuple[list[Problem], str]:
        api = self.apis[role]
        problems = []
        wanted = self.rights_wanted(role)
        for verb, group, resource, namespace, name in wanted:
            attributes = {"verb": verb, "group": group, "resource": resource}
            if namespace:
                attributes["namespace"] = namespace
            if name:
                attributes["name"] = name
            review = api.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
                "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes}})
            if dig(review, "status", "allowed"):
                continue
            what = f"{resource}.{group}" if group else resource
            target = f"{what} {name}" if name else what
            where = f" in namespace {namespace}" if namespace else ""
            reason = dig(review, "status", "reason")
            problems.append(Problem(
                "rights", role, f"{target}{where}",
                f"the {role} user may not {verb} {target}{where}" + (f" ({reason})" if reason else ""),
                f"grant the user '{verb}' on {what}{where} (a Role/ClusterRole binding), or connect as a cluster admin"))
        return problems, f"the user may do the {len(wanted)} things the migration needs"

    # 2. velero
    def check_velero(self, role: str) -> tuple[list[Problem], str]:
        api, discovery = self.apis[role], self.discovery[role]
        velero_ns, name = self.spec.velero_namespace, self.spec.storage_location
        missing = [kind for kind in VELERO_REQUIRED if not discovery.serves(VELERO_GROUP, kind, "v1")]
        if missing:
            return [Problem("velero", role, f"{VELERO_GROUP}/v1",
                            f"Velero is not installed on the {role} cluster {api.host}: its CRDs "
                            f"{', '.join(f'{kind}.{VELERO_GROUP}/v1' for kind in missing)} are not served",
                            "install Velero on that cluster (velero install, or the OADP operator)")], ""
        try:
            api.get(f"/api/v1/namespaces/{velero_ns}")
        except ApiError as error:
            if error.status == 404:
                return [Problem("velero", role, f"Namespace/{velero_ns}",
                                f"the Velero namespace {velero_ns} does not exist on the {role} cluster",
                                "set velero_namespace to the namespace Velero runs in")], ""
            if error.status != 403:  # may not read the namespace: the location tells the rest
                raise
        bsl_path = f"/apis/{VELERO_GROUP}/v1/namespaces/{velero_ns}/backupstoragelocations"
        ref = f"BackupStorageLocation {velero_ns}/{name}"
        try:
            location = api.get(f"{bsl_path}/{name}")
        except ApiError as error:
            if error.status != 404:
                raise
            names = sorted(dig(item, "metadata", "name", default="") for item in api.get(bsl_path).get("items") or [])
            choice = f"one of: {', '.join(names)}" if names else "a location (the namespace has none)"
            return [Problem("velero", role, ref, f"{ref} does not exist on the {role} cluster",
                            f"create it (velero backup-location create) or set storage_location to {choice}")], ""
        phase = dig(location, "status", "phase") or ""
        if phase != "Available":
            status_message = dig(location, "status", "message")
            said = f": {status_message}" if status_message else ""
            state = f"is {phase}" if phase else "has not been validated yet (no status.phase)"
            fix = ("check its bucket, prefix, provider config and credentials (velero backup-location get "
                   f"{name} -n {velero_ns}), and that the Velero server runs")
            return [Problem("velero", role, ref, f"{ref} on the {role} cluster {state}{said}", fix)], ""
        return [], f"Velero's CRDs are served and {ref} is Available"

    # 3. namespaces
    def check_namespaces(self, role: str) -> tuple[list[Problem], str]:
        api = self.apis[role]
        problems = []
        self.existing_sources = []
        for namespace in self.spec.namespaces:
            try:
                api.get(f"/api/v1/namespaces/{namespace}")
            except ApiError as error:
                if error.status == 404:
                    problems.append(Problem("namespaces", role, f"Namespace/{namespace}",
                                            f"namespace {namespace} does not exist on the {role} cluster",
                                            "check the name (oc get ns) and fix namespaces"))
                    continue
                if error.status != 403:  # a 403 is the rights check's to report
                    raise
            self.existing_sources.append(namespace)
        for target, sources in sorted(mapping_conflicts(self.spec).items()):
            problems.append(Problem("namespaces", "destination", f"Namespace/{target}",
                                    f"namespaces {', '.join(sources)} all map onto {target} on the destination",
                                    "map each source namespace onto a namespace of its own (namespace_mapping)"))
        return problems, f"{_plural(len(self.spec.namespaces), 'source namespace')} found"

    # 4. api kinds
    def count_objects(self, api: Api, kind: ApiKind, namespace: str) -> int:
        count, token = 0, None
        while True:
            query = [("limit", COUNT_PAGE)] + ([("continue", token)] if token else [])
            page = api.get(kind.path(namespace), query)
            count += len(page.get("items") or [])
            token = dig(page, "metadata", "continue")
            if not token:
                return count

    def check_api_kinds(self, role: str) -> tuple[list[Problem], str]:
        source, destination = self.apis["source"], self.discovery[role]
        missing = missing_kinds(self.discovery["source"], destination)
        problems = []
        for kind in missing:
            counts = {}
            for namespace in self.existing_sources:
                try:
                    found = self.count_objects(source, kind, namespace)
                except ApiError:
                    continue  # a kind the user cannot list (or that stopped answering) tells nothing
                if found:
                    counts[namespace] = found
            if not counts:
                continue
            total = sum(counts.values())
            where = ", ".join(f"{namespace}: {count}" for namespace, count in counts.items())
            note = (f" (discovery of group {kind.group} failed on the destination)"
                    if kind.group in destination.failed_groups() else "")
            problems.append(Problem(
                "api_kinds", role, kind.label,
                f"{kind.label} is not served on the {role} cluster{note}, and the source namespaces hold "
                f"{_plural(total, 'object')} of it ({where})",
                f"install that API (its CRD or operator) on the destination, or exclude {kind.group_resource} from the backup"))
        served = len(migrated_kinds(self.discovery["source"])) - len(missing)
        detail = f"{served} namespaced kinds of the source are served on the {role}"
        if missing:
            detail += (f"; the {_plural(len(missing), 'kind')} it does not serve "
                       f"({', '.join(kind.label for kind in missing)}) hold no objects in the source namespaces")
        return problems, detail

    # 5. storage classes
    def check_storage_classes(self, role: str) -> tuple[list[Problem], str]:
        mapping = self.spec.storage_class_mapping
        if not mapping:
            return [], "no storage_class_mapping given"
        answer = self.apis[role].get("/apis/storage.k8s.io/v1/storageclasses")
        names = sorted(dig(item, "metadata", "name", default="") for item in answer.get("items") or [])
        problems = []
        for source_class, target_class in sorted(mapping.items()):
            if target_class in names:
                continue
            choices = f"one of: {', '.join(names)}" if names else "a class created there first (the cluster has none)"
            problems.append(Problem("storage_classes", role, f"StorageClass/{target_class}",
                                    f"storage class {target_class} (mapped from {source_class}) does not exist on the {role} cluster",
                                    f"create it, or map {source_class} onto {choices}"))
        return problems, f"every mapped storage class exists ({', '.join(sorted(set(map(str, mapping.values()))))})"

    # 6. registries
    def check_registries(self) -> None:
        for registry in self.spec.registries:
            if not registry.host:
                registry = self.internal_registry_of(registry)
                if not registry.host:
                    continue
            outcome = self.probe(registry)
            problems = [] if outcome.ok else [Problem("registries", None, registry.label(), outcome.message, outcome.fix)]
            self.report.record("registries", None, problems, f"{registry.label()}: {outcome.detail}")

    def internal_registry_of(self, registry: RegistrySpec) -> RegistrySpec:
        """The entry with its cluster's internal registry as host; host stays "" (and the check is
        recorded) when that cluster did not answer or has no internal registry."""
        role = registry.cluster
        if role not in self.report.clusters:
            self.report.skip("registries", None, f"registry {registry.name}: the {role} cluster did not answer, "
                             "so its internal registry is unknown")
            return registry
        hostname = self.report.clusters[role]["registry_hostname"]
        if not hostname:
            self.report.record("registries", None, [], f"registry {registry.name}: the {role} cluster has no "
                               "internal registry; nothing to check")
        return dataclasses.replace(registry, host=hostname)

    # 7. destination namespaces
    def foreign_in(self, api: Api, kind: ApiKind, namespace: str, label_values: list[str]) -> tuple[list[str], bool]:
        """(foreign objects of ``kind`` in the first page holding any, whether more pages were left unread)."""
        selector = restore_selector(label_values)
        token = None
        while True:
            query: list = [("limit", PAGE)]
            if selector:
                query.append(("labelSelector", selector))
            if token:
                query.append(("continue", token))
            page = api.get(kind.path(namespace), query)
            token = dig(page, "metadata", "continue")
            found = foreign_objects(kind.group, kind.kind, page.get("items") or [], label_values)
            if found or not token:
                return found, bool(token)

    def check_destination_namespaces(self, role: str) -> tuple[list[Problem], str]:
        api = self.apis[role]
        kinds = migrated_kinds(self.discovery[role])
        label_values = restore_label_values(self.spec.restore_names)
        problems, states = [], []
        for namespace in self.spec.namespaces:
            target = self.spec.target(namespace)
            try:
                existing = api.get(f"/api/v1/namespaces/{target}")
            except ApiError as error:
                if error.status != 404:
                    raise
                states.append(f"{target} absent")
                continue
            if dig(existing, "status", "phase") == "Terminating":
                problems.append(Problem("destination_namespaces", role, f"Namespace/{target}",
                                        f"namespace {target} on the {role} cluster is being deleted",
                                        "wait until it is gone, or map onto another namespace (namespace_mapping)"))
                continue
            found: list[str] = []
            partial = False
            for index, kind in enumerate(kinds):
                try:
                    found, more = self.foreign_in(api, kind, target, label_values)
                except ApiError:
                    continue  # kinds the user cannot list: report nothing for them
                if found:
                    # Stop at the first kind in the way: one is enough to refuse the namespace.
                    partial = more or index < len(kinds) - 1
                    break
            if not found:
                states.append(f"{target} holds nothing in the way")
                continue
            count = ("at least " if partial else "") + _plural(len(found), "object")
            fix = "map it onto another namespace (namespace_mapping) or empty it"
            if not label_values:
                fix += "; objects restored by an earlier run of this migration pass when its restore is named in restore_names"
            problems.append(Problem("destination_namespaces", role, f"Namespace/{target}",
                                    f"namespace {target} on the {role} cluster holds {count} not created by this "
                                    f"migration, e.g. {', '.join(found[:3])}", fix))
        return problems, "; ".join(states)


def _unreachable_text(role: str, error: BaseException, host: str) -> tuple[str, str]:
    """(message, fix) for a cluster that did not answer, naming it and its address."""
    # ApiError and Unreachable already carry explain_error's sentence; other errors get it here.
    text = str(error) if isinstance(error, (ApiError, Unreachable)) else explain_error(error, host)
    # explain_error ends its sentences with the fix ("...; check host/kubeconfig"): keep them apart.
    split = _FIX_HINT.match(text)
    message, hint = (split.group(1), split.group(2)) if split else (text, "")
    if message.startswith("cluster "):
        message = f"{role} {message}"
    else:
        # cluster_options says "cannot connect to the <role> cluster: <why>"; say it once, with the address when known.
        message = message.removeprefix(f"cannot connect to the {role} cluster: ")
        message = f"cannot connect to the {role} cluster{f' {host}' if host else ''}: {message}"
    fix = hint if hint else f"check the {role} connection options (host, kubeconfig, context, credentials)"
    return message, fix


class ConnectFailed(MigrationError):
    """No client could be built (or it got no answer); ``host`` is the API server it was meant for."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host


def configured_host(option: dict) -> str:
    """The API server an option points at, for messages: ``host``, else the kubeconfig's server ("" when unknown).

    The kubeconfig is only read as YAML: loading it through the kubernetes library would run its
    exec credential plugins once more just to name the server.
    """
    if option.get("host"):
        return str(option["host"]).rstrip("/")
    kubeconfig = option.get("kubeconfig")
    try:
        import yaml
    except ImportError:
        return ""
    try:
        if isinstance(kubeconfig, dict):
            document = kubeconfig
        else:
            path = os.path.expanduser(str(kubeconfig or os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]))
            with open(path, encoding="utf-8") as handle:
                document = yaml.safe_load(handle) or {}
        context_name = option.get("context") or document.get("current-context")
        context = next((entry.get("context") or {} for entry in document.get("contexts") or []
                        if entry.get("name") == context_name), {})
        cluster = next((entry.get("cluster") or {} for entry in document.get("clusters") or []
                        if entry.get("name") == context.get("cluster")), {})
        return str(cluster.get("server") or "")
    except (OSError, ValueError, AttributeError, TypeError, yaml.YAMLError):
        return ""  # only a message loses its address


def cluster_connector(option: dict | None, role: str) -> Callable[[], Api]:
    """Connects when called, so a client that cannot be built is reported as that cluster's problem."""

    def connect() -> Api:
        # The client is built as for backup_transform's cluster options (kubernetes.core's get_api_client).
        from .cluster_options import cluster_from_option

        try:
            facts = cluster_from_option(option, role)
        except MigrationError as error:
            raise ConnectFailed(str(error), configured_host(option or {})) from error
        client = getattr(facts.lookup, "client", None) if facts is not None else None
        if client is None:
            raise MigrationError(f"no connection options were given for the {role} cluster")
        return ClusterApi(client)

    return connect


def run_preflight(spec: PreflightSpec, connect: dict[str, Callable[[], Api]],
                  probe: Callable[[RegistrySpec], RegistryOutcome] = probe_registry) -> Report:
    """Every check of ``spec``; ``connect[role]()`` returns the Api of that cluster or raises when it cannot."""
    return Preflight(spec, connect, probe).run()
