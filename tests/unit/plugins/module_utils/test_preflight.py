"""migration_preflight's logic: problem collection, registry challenges, foreign objects, kind comparison.

Clusters are dicts of API paths and their answers (FakeApi); registries are scripted fetch functions.
"""
from __future__ import annotations

import base64
import copy
import json

import pytest
from ansible_collections.openshift_migration.velero.plugins.module_utils.preflight import (
    ApiError,
    Discovery,
    PreflightSpec,
    Unreachable,
    build_discovery,
    configured_host,
    foreign_objects,
    is_cluster_made,
    mapping_conflicts,
    missing_kinds,
    restore_label_values,
    restore_selector,
    run_preflight,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.preflight_registry import (
    Challenge,
    FetchFailed,
    RegistryOutcome,
    RegistrySpec,
    Response,
    parse_challenges,
    probe_registry,
)

# --- fake clusters -------------------------------------------------------------------------

ALL_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resource(name, kind, namespaced=True, verbs=None):
    return {"name": name, "kind": kind, "namespaced": namespaced, "verbs": ALL_VERBS if verbs is None else verbs}


CORE = [resource("bindings", "Binding", verbs=["create"]), resource("configmaps", "ConfigMap"),
        resource("events", "Event"), resource("namespaces", "Namespace", namespaced=False),
        resource("pods", "Pod"), resource("pods/log", "Pod", verbs=["get"]), resource("secrets", "Secret"),
        resource("serviceaccounts", "ServiceAccount"), resource("services", "Service")]
GROUPS = {
    "apps": {"v1": [resource("deployments", "Deployment"), resource("replicasets", "ReplicaSet")]},
    "rbac.authorization.k8s.io": {"v1": [resource("rolebindings", "RoleBinding")]},
    "storage.k8s.io": {"v1": [resource("storageclasses", "StorageClass", namespaced=False)]},
    "events.k8s.io": {"v1": [resource("events", "Event")]},
    "velero.io": {"v1": [resource("backups", "Backup"), resource("restores", "Restore"),
                         resource("backupstoragelocations", "BackupStorageLocation")]},
}
OPENSHIFT = {
    "image.openshift.io": {"v1": [resource("imagestreams", "ImageStream"), resource("imagestreamtags", "ImageStreamTag")]},
    "route.openshift.io": {"v1": [resource("routes", "Route")]},
}
AVAILABLE = {"metadata": {"name": "default"}, "spec": {"provider": "aws"}, "status": {"phase": "Available"}}


class FakeApi:
    """Answers GETs from ``answers`` (path -> dict, or an exception to raise); 404 for anything else."""

    def __init__(self, host, answers, denied=()):
        self.host = host
        self.answers = answers
        self.denied = set(denied)  # (verb, resource, namespace or name) the user may not do
        self.requests = []

    def get(self, path, query=None):
        self.requests.append((path, dict(query or [])))
        answer = self.answers.get(path)
        if answer is None:
            raise ApiError(404, f"cluster {self.host} answered 404: {path} not found")
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)

    def post(self, path, body):
        assert path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
        attributes = body["spec"]["resourceAttributes"]
        key = (attributes["verb"], attributes["resource"], attributes.get("namespace") or attributes.get("name"))
        return {"status": {"allowed": key not in self.denied, "reason": "RBAC: denied" if key in self.denied else ""}}

    def lists(self):
        """Paths of the LISTs made inside namespaces (Velero's namespace and the registry lookup's aside)."""
        found = []
        for path, _query in self.requests:
            rest = path.split("/namespaces/", 1)[1] if "/namespaces/" in path else ""
            if "/" in rest and not rest.startswith(("velero/", "openshift/", "openshift-apiserver/", "default/")):
                found.append(path)
        return found


def cluster(groups=None, namespaces=(), objects=None, locations=None, storage_classes=()):
    """A cluster's answers: discovery of CORE + ``groups``, namespaces, objects by list path, BSLs."""
    groups = GROUPS if groups is None else groups
    answers = {"/version": {"gitVersion": "v1.35.4"}, "/api": {"versions": ["v1"]}, "/api/v1": {"resources": CORE},
               "/apis": {"groups": [{"name": name, "versions": [{"version": version} for version in versions],
                                     "preferredVersion": {"version": next(iter(versions))}}
                                    for name, versions in groups.items()]}}
    for name, versions in groups.items():
        for version, resources in versions.items():
            answers[f"/apis/{name}/{version}"] = {"resources": resources}
    for namespace in namespaces:
        answers[f"/api/v1/namespaces/{namespace}"] = {"metadata": {"name": namespace}, "status": {"phase": "Active"}}
    bsl_path = "/apis/velero.io/v1/namespaces/velero/backupstoragelocations"
    locations = {"default": AVAILABLE} if locations is None else locations
    answers[bsl_path] = {"items": list(locations.values())}
    for name, location in locations.items():
        answers[f"{bsl_path}/{name}"] = location
    answers["/apis/storage.k8s.io/v1/storageclasses"] = {"items": [{"metadata": {"name": name}} for name in storage_classes]}
    for path, items in (objects or {}).items():
        answers[path] = {"items": items}
    return answers


def obj(name, labels=None, **extra):
    return dict({"metadata": dict({"name": name}, **({"labels": labels} if labels else {}))}, **extra)


SOURCE_OBJECTS = {"/apis/image.openshift.io/v1/namespaces/shop/imagestreams": [obj("web"), obj("db")],
                  "/apis/route.openshift.io/v1/namespaces/shop/routes": []}


def good_pair(**dest):
    groups = dict(GROUPS, **OPENSHIFT)
    source = FakeApi("https://source:6443", cluster(groups, namespaces=("velero", "shop"), objects=SOURCE_OBJECTS))
    destination = FakeApi("https://destination:6443",
                          cluster(groups, namespaces=dest.pop("namespaces", ("velero",)), **dest))
    return source, destination


def preflight(source, destination, probe=None, **spec):
    spec.setdefault("namespaces", ["shop"])

    def connect(api):
        def open_api():
            if isinstance(api, Exception):
                raise api
            return api
        return open_api

    return run_preflight(PreflightSpec(**spec), {"source": connect(source), "destination": connect(destination)},
                         **({"probe": probe} if probe else {}))


# --- whole runs ----------------------------------------------------------------------------

def test_all_good_lists_every_check_and_no_problem():
    source, destination = good_pair(storage_classes=("gp3",))
    report = preflight(source, destination, namespace_mapping={"shop": "shop-new"}, storage_class_mapping={"gluster": "gp3"})
    assert report.ok and report.problems == []
    names = [(check.name, check.cluster, check.ok) for check in report.checks]
    assert names == [("reachable", "source", True), ("reachable", "destination", True), ("rights", "source", True),
                     ("rights", "destination", True), ("velero", "source", True), ("velero", "destination", True),
                     ("namespaces", "source", True), ("api_kinds", "destination", True),
                     ("storage_classes", "destination", True), ("destination_namespaces", "destination", True)]
    assert report.to_dict()["ok"] is True
    # Kinds both clusters serve are never listed on the source.
    assert source.lists() == []


def test_unreachable_cluster_is_one_problem_and_its_checks_are_skipped():
    source, _destination = good_pair()
    down = Unreachable("cluster https://127.0.0.1:1 is unreachable: Connection refused; check host/kubeconfig")
    report = preflight(source, down)
    assert [problem.to_dict() for problem in report.problems] == [{
        "check": "reachable", "cluster": "destination", "object": "destination",
        "message": "destination cluster https://127.0.0.1:1 is unreachable: Connection refused",
        "fix": "check host/kubeconfig"}]
    skipped = [(check.name, check.cluster) for check in report.checks if check.detail.startswith("skipped")]
    assert skipped == [("rights", "destination"), ("velero", "destination"), ("api_kinds", "destination"),
                       ("storage_classes", "destination"), ("destination_namespaces", "destination")]
    # The source's own checks still ran.
    assert [check.ok for check in report.checks if check.cluster == "source"] == [True, True, True, True]
    assert report.message() == ("preflight found 1 problem:\n- [destination] destination cluster https://127.0.0.1:1 "
                                "is unreachable: Connection refused; fix: check host/kubeconfig")


def test_client_that_cannot_be_built_is_named_once():
    from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError

    broken = MigrationError("cannot connect to the source cluster: Could not create API client: Invalid kube-config file.")
    [problem] = preflight(broken, good_pair()[1]).problems
    assert problem.line() == ("[source] cannot connect to the source cluster: Could not create API client: Invalid "
                              "kube-config file.; fix: check the source connection options (host, kubeconfig, context, "
                              "credentials)")


def test_rejected_credentials_are_named():
    source, destination = good_pair()
    source.answers["/version"] = ApiError(401, "cluster https://source:6443 rejected the credentials (401 Unauthorized): "
                                               "check the token or kubeconfig")
    report = preflight(source, destination)
    [problem] = report.problems
    assert problem.message == "source cluster https://source:6443 rejected the credentials (401 Unauthorized)"
    assert problem.fix == "check the token or kubeconfig"


def test_velero_missing_on_destination():
    source = good_pair()[0]
    groups = {name: versions for name, versions in GROUPS.items() if name != "velero.io"}
    destination = FakeApi("https://bare:6443", cluster(groups, namespaces=("velero",)))
    report = preflight(source, destination)
    velero = [problem for problem in report.problems if problem.check == "velero"]
    assert [problem.line() for problem in velero] == [
        "[destination] Velero is not installed on the destination cluster https://bare:6443: its CRDs "
        "Backup.velero.io/v1, Restore.velero.io/v1, BackupStorageLocation.velero.io/v1 are not served; "
        "fix: install Velero on that cluster (velero install, or the OADP operator)"]
    # The kinds the source namespace holds and the bare cluster lacks are listed too, with counts.
    kinds = [problem for problem in report.problems if problem.check == "api_kinds"]
    assert [problem.object for problem in kinds] == ["ImageStream.image.openshift.io"]
    assert kinds[0].message == ("ImageStream.image.openshift.io is not served on the destination cluster, and the source "
                                "namespaces hold 2 objects of it (shop: 2)")


@pytest.mark.parametrize("location, expected", [
    ({"metadata": {"name": "default"}, "status": {"phase": "Unavailable", "message": "bucket nope does not exist"}},
     "BackupStorageLocation velero/default on the source cluster is Unavailable: bucket nope does not exist"),
    ({"metadata": {"name": "default"}, "status": {"phase": "Unavailable"}},
     "BackupStorageLocation velero/default on the source cluster is Unavailable"),
    ({"metadata": {"name": "default"}},
     "BackupStorageLocation velero/default on the source cluster has not been validated yet (no status.phase)"),
])
def test_storage_location_not_available(location, expected):
    source, destination = good_pair()
    source.answers["/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default"] = location
    [problem] = preflight(source, destination).problems
    assert (problem.check, problem.cluster, problem.object, problem.message) == (
        "velero", "source", "BackupStorageLocation velero/default", expected)
    assert "velero backup-location get default -n velero" in problem.fix


def test_missing_storage_location_names_the_existing_ones():
    source, destination = good_pair()
    report = preflight(source, destination, storage_location="primary")
    assert [(problem.cluster, problem.message, problem.fix) for problem in report.problems] == [
        (role, f"BackupStorageLocation velero/primary does not exist on the {role} cluster",
         "create it (velero backup-location create) or set storage_location to one of: default")
        for role in ("source", "destination")]


def test_missing_velero_namespace():
    source, destination = good_pair()
    report = preflight(source, destination, velero_namespace="oadp")
    assert [problem.message for problem in report.problems] == [
        f"the Velero namespace oadp does not exist on the {role} cluster" for role in ("source", "destination")]


def test_missing_source_namespace_and_mapping_conflict():
    source, destination = good_pair()
    report = preflight(source, destination, namespaces=["shop", "gone", "shop2"], namespace_mapping={"shop2": "shop"})
    namespaces = [problem for problem in report.problems if problem.check == "namespaces"]
    assert [(problem.cluster, problem.message, problem.fix) for problem in namespaces] == [
        ("source", "namespace gone does not exist on the source cluster", "check the name (oc get ns) and fix namespaces"),
        ("source", "namespace shop2 does not exist on the source cluster", "check the name (oc get ns) and fix namespaces"),
        ("destination", "namespaces shop, shop2 all map onto shop on the destination",
         "map each source namespace onto a namespace of its own (namespace_mapping)")]


def test_rights_denied_are_listed_each():
    source, destination = good_pair()
    source.denied = {("create", "backups", "velero"), ("list", "pods", "shop")}
    destination.denied = {("create", "namespaces", None)}
    report = preflight(source, destination)
    assert [(problem.cluster, problem.object, problem.message) for problem in report.problems] == [
        ("source", "backups.velero.io in namespace velero",
         "the source user may not create backups.velero.io in namespace velero (RBAC: denied)"),
        ("source", "pods in namespace shop", "the source user may not list pods in namespace shop (RBAC: denied)"),
        ("destination", "namespaces", "the destination user may not create namespaces (RBAC: denied)")]


def test_registering_the_backup_needs_its_create_rights_on_the_destination():
    source, destination = good_pair()
    destination.denied = {("create", "podvolumebackups", "velero")}
    assert preflight(source, destination).ok  # not asked for without register_backup
    report = preflight(source, destination, register_backup=True)
    assert [(problem.cluster, problem.message) for problem in report.problems] == [
        ("destination", "the destination user may not create podvolumebackups.velero.io in namespace velero "
                        "(RBAC: denied)")]


def test_missing_storage_class_offers_the_existing_ones():
    source, destination = good_pair(storage_classes=("gp3", "standard"))
    report = preflight(source, destination, storage_class_mapping={"gluster": "fast", "ceph": "gp3"})
    assert [(problem.object, problem.message, problem.fix) for problem in report.problems] == [
        ("StorageClass/fast", "storage class fast (mapped from gluster) does not exist on the destination cluster",
         "create it, or map gluster onto one of: gp3, standard")]


def test_destination_namespace_in_use_stops_at_the_first_kind_in_the_way():
    in_use = {"/api/v1/namespaces/shop/configmaps": [obj("kube-root-ca.crt"), obj("settings"), obj("more")],
              "/api/v1/namespaces/shop/serviceaccounts": [obj("default"), obj("app")]}
    source, destination = good_pair(namespaces=("velero", "shop"), objects=in_use)
    report = preflight(source, destination)
    [problem] = report.problems
    assert problem.line() == ("[destination] namespace shop on the destination cluster holds at least 2 objects not "
                              "created by this migration, e.g. ConfigMap/settings, ConfigMap/more; fix: map it onto "
                              "another namespace (namespace_mapping) or empty it; objects restored by an earlier run "
                              "of this migration pass when its restore is named in restore_names")
    listed = destination.lists()
    assert listed == ["/api/v1/namespaces/shop/configmaps"]  # the first kind in the way ends the search


def test_destination_namespace_restored_by_this_migration_passes():
    restored = {"velero.io/restore-name": "shop-restore"}
    objects = {"/api/v1/namespaces/shop/configmaps": [obj("kube-root-ca.crt"), obj("settings", restored)],
               "/api/v1/namespaces/shop/pods": [
                   {"metadata": {"name": "web-1", "ownerReferences": [{"kind": "ReplicaSet", "name": "web"}]}}],
               "/apis/apps/v1/namespaces/shop/deployments": [obj("web", restored)]}
    source, destination = good_pair(namespaces=("velero", "shop"), objects=objects)
    report = preflight(source, destination, restore_names=["shop-restore"])
    assert report.ok, report.message()
    queries = [query for path, query in destination.requests if path == "/api/v1/namespaces/shop/configmaps"]
    assert queries == [{"limit": 100, "labelSelector": "velero.io/restore-name notin (shop-restore)"}]
    # Without the restore name, the same namespace is in the way.
    assert not preflight(source, destination).ok


def test_kinds_the_user_cannot_list_report_nothing():
    objects = {"/api/v1/namespaces/shop/secrets": ApiError(403, "forbidden")}
    source, destination = good_pair(namespaces=("velero", "shop"), objects={})
    destination.answers.update(objects)
    assert preflight(source, destination).ok


def test_terminating_destination_namespace():
    source, destination = good_pair(namespaces=("velero", "shop"))
    destination.answers["/api/v1/namespaces/shop"]["status"]["phase"] = "Terminating"
    [problem] = preflight(source, destination).problems
    assert problem.message == "namespace shop on the destination cluster is being deleted"


def test_a_failing_check_is_its_own_problem_not_a_crash():
    source, destination = good_pair(storage_classes=("gp3",))
    destination.answers["/apis/storage.k8s.io/v1/storageclasses"] = ApiError(500, "cluster https://destination:6443 answered 500: etcd")
    report = preflight(source, destination, storage_class_mapping={"a": "gp3"})
    [problem] = report.problems
    assert problem.message == ("the storage_classes check failed on the destination cluster: "
                               "cluster https://destination:6443 answered 500: etcd")


def test_every_problem_at_once_in_one_message():
    source, destination = good_pair(namespaces=("velero", "shop"), objects={"/api/v1/namespaces/shop/configmaps": [obj("x")]})
    source.answers["/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default"] = {
        "status": {"phase": "Unavailable", "message": "no bucket"}}

    def probe(registry):
        return RegistryOutcome(False, "credentials rejected", f"{registry.label()} rejected the credentials", "check them")

    report = preflight(source, destination, probe=probe, namespaces=["shop", "gone"], storage_class_mapping={"a": "b"},
                       registries=[RegistrySpec("migration", "127.0.0.1:5002", "u", "p")])
    lines = report.message().splitlines()
    assert lines[0] == "preflight found 5 problems:"
    assert [line.split("]")[0] for line in lines[1:]] == ["- [source", "- [source", "- [destination", "- [registry",
                                                          "- [destination"]
    assert "registry migration (127.0.0.1:5002) rejected the credentials; fix: check them" in lines[4]
    assert report.to_dict()["ok"] is False and len(report.to_dict()["problems"]) == 5


INTERNAL_STREAMS = "/apis/image.openshift.io/v1/namespaces/openshift/imagestreams"


def test_internal_registries_are_found_and_checked_by_cluster():
    source, destination = good_pair()
    source.answers[INTERNAL_STREAMS] = {"items": [
        {"status": {"dockerImageRepository": "image-registry.openshift-image-registry.svc:5000/openshift/cli"}}]}
    probed = []

    def probe(registry):
        probed.append((registry.name, registry.host))
        return RegistryOutcome(True, "answers")

    report = preflight(source, destination, probe=probe, registries=[
        RegistrySpec("source internal", "", cluster="source"), RegistrySpec("destination internal", "", cluster="destination"),
        RegistrySpec("migration", "127.0.0.1:5002")])
    assert report.ok
    assert probed == [("source internal", "image-registry.openshift-image-registry.svc:5000"), ("migration", "127.0.0.1:5002")]
    assert report.clusters == {
        "source": {"api_url": "https://source:6443", "registry_hostname": "image-registry.openshift-image-registry.svc:5000"},
        "destination": {"api_url": "https://destination:6443", "registry_hostname": ""}}
    registry_checks = [check.detail for check in report.checks if check.name == "registries"]
    assert "registry destination internal: the destination cluster has no internal registry; nothing to check" in registry_checks
    assert report.to_dict()["clusters"] == report.clusters


def test_internal_registry_of_a_cluster_that_did_not_answer_is_skipped():
    source, _destination = good_pair()
    down = Unreachable("cluster https://127.0.0.1:1 is unreachable: Connection refused; check host/kubeconfig")
    report = preflight(source, down, probe=lambda registry: pytest.fail("nothing to probe"),
                       registries=[RegistrySpec("destination internal", "", cluster="destination")])
    skipped = [check for check in report.checks if check.name == "registries"]
    assert [(check.ok, check.detail) for check in skipped] == [
        (False, "skipped: registry destination internal: the destination cluster did not answer, so its internal "
                "registry is unknown")]
    assert list(report.clusters) == ["source"]


def test_a_registry_lookup_that_fails_is_a_problem_not_no_registry():
    source, destination = good_pair()
    source.answers[INTERNAL_STREAMS] = ApiError(
        403, "cluster https://source:6443 refused the request (403 Forbidden): imagestreams is forbidden")
    report = preflight(source, destination, probe=lambda registry: pytest.fail("nothing to probe"),
                       registries=[RegistrySpec("source internal", "", cluster="source")])
    assert [(problem.cluster, problem.object, problem.message) for problem in report.problems] == [
        ("source", "internal registry", "the source cluster's internal registry hostname cannot be read: cluster "
                                        "https://source:6443 refused the request (403 Forbidden): imagestreams is "
                                        "forbidden")]
    assert "ImageStreams in namespace openshift" in report.problems[0].fix
    assert not report.ok


# --- pure rules ----------------------------------------------------------------------------

@pytest.mark.parametrize("group, kind, item, made", [
    ("", "ServiceAccount", obj("default"), True),
    ("", "ServiceAccount", obj("builder"), True),
    ("", "ServiceAccount", obj("deployer"), True),
    ("", "ServiceAccount", obj("app"), False),
    ("", "ConfigMap", obj("kube-root-ca.crt"), True),
    ("", "ConfigMap", obj("openshift-service-ca.crt"), True),
    ("", "ConfigMap", obj("settings"), False),
    ("", "Secret", obj("default-token-x", type="kubernetes.io/service-account-token"), True),
    ("", "Secret", obj("builder-dockercfg-x", type="kubernetes.io/dockercfg",
                       metadata={"name": "builder-dockercfg-x", "ownerReferences": [{"kind": "ServiceAccount"}]}), True),
    ("", "Secret", obj("pull", type="kubernetes.io/dockercfg"), False),
    ("", "Secret", obj("tls", type="kubernetes.io/tls"), False),
    ("rbac.authorization.k8s.io", "RoleBinding", obj("system:image-pullers"), True),
    ("rbac.authorization.k8s.io", "RoleBinding", obj("system:image-builders"), True),
    ("authorization.openshift.io", "RoleBinding", obj("system:deployers"), True),
    ("rbac.authorization.k8s.io", "RoleBinding", obj("admin"), False),
    ("", "Event", obj("x.123"), True),
    ("apps", "ReplicaSet", obj("web-1", metadata={"name": "web-1", "ownerReferences": [{"kind": "Deployment"}]}), True),
    ("apps", "ConfigMap", obj("kube-root-ca.crt"), False),
])
def test_cluster_made_objects(group, kind, item, made):
    assert is_cluster_made(group, kind, item) is made


def test_foreign_objects_by_restore_label():
    long_name = "migration-" + "x" * 70
    items = [obj("a", {"velero.io/restore-name": "r1"}), obj("b", {"velero.io/restore-name": "other"}), obj("c"),
             obj("default"), obj("d", {"velero.io/restore-name": restore_label_values([long_name])[0]})]
    assert foreign_objects("", "ServiceAccount", items, restore_label_values(["r1", long_name])) == [
        "ServiceAccount/b", "ServiceAccount/c"]
    assert foreign_objects("", "ServiceAccount", items, []) == [
        "ServiceAccount/a", "ServiceAccount/b", "ServiceAccount/c", "ServiceAccount/d"]


def test_restore_label_values_are_velero_label_values():
    long_name = "m" * 80
    [value] = restore_label_values([long_name])
    assert len(value) == 63 and value.startswith("m" * 57)
    assert restore_label_values(["b", "a", "a", ""]) == ["a", "b"]


def test_restore_selector():
    assert restore_selector([]) is None
    assert restore_selector(["a", "b.c"]) == "velero.io/restore-name notin (a,b.c)"
    assert restore_selector(["not valid"]) is None  # filtered client-side only


def test_discovery_prefers_the_preferred_version_and_skips_subresources():
    lists = [("", "v1", True, {"resources": CORE}),
             ("batch", "v1", True, {"resources": [resource("jobs", "Job")]}),
             ("batch", "v1beta1", False, {"resources": [resource("jobs", "Job"), resource("cronjobs", "CronJob")]}),
             ("metrics.k8s.io", "v1beta1", True, None)]
    discovery = build_discovery(lists)
    labels = [(kind.label, kind.version) for kind in discovery.kinds]
    assert ("Job.batch", "v1") in labels and ("CronJob.batch", "v1beta1") in labels
    assert ("Job.batch", "v1beta1") not in labels
    assert [kind.resource for kind in discovery.kinds if kind.kind == "Pod"] == ["pods"]
    assert discovery.failed == ["metrics.k8s.io/v1beta1"] and discovery.failed_groups() == {"metrics.k8s.io"}
    assert discovery.serves("batch", "CronJob") and discovery.serves("batch", "CronJob", "v1beta1")
    assert not discovery.serves("batch", "CronJob", "v1")
    assert discovery.kinds[0].group == ""  # core kinds first


def test_missing_kinds_compare_group_and_kind_not_version():
    source = build_discovery([("", "v1", True, {"resources": CORE}),
                              ("batch", "v1beta1", True, {"resources": [resource("cronjobs", "CronJob")]}),
                              ("image.openshift.io", "v1", True, {"resources": [resource("imagestreams", "ImageStream")]}),
                              ("example.com", "v1", True, {"resources": [resource("widgets", "Widget", namespaced=False)]}),
                              ("velero.io", "v1", True, {"resources": [resource("backups", "Backup")]})])
    destination = build_discovery([("", "v1", True, {"resources": CORE}),
                                   ("batch", "v1", True, {"resources": [resource("cronjobs", "CronJob")]}),
                                   ("images.example.com", "v1", True, {"resources": [resource("imagestreams", "ImageStream")]})])
    # CronJob is served in another version: fine. ImageStream of another group is another kind. Cluster-scoped
    # kinds are not in a namespace backup; backups.velero.io is never restored; events are skipped.
    assert [kind.label for kind in missing_kinds(source, destination)] == ["ImageStream.image.openshift.io"]
    assert isinstance(destination, Discovery)


KUBECONFIG = {
    "current-context": "a",
    "contexts": [{"name": "a", "context": {"cluster": "one"}}, {"name": "b", "context": {"cluster": "two"}}],
    "clusters": [{"name": "one", "cluster": {"server": "https://one:6443"}},
                 {"name": "two", "cluster": {"server": "https://two:6443"}}],
}


def test_configured_host_names_the_server_for_messages(tmp_path):
    assert configured_host({"host": "https://api:6443/"}) == "https://api:6443"
    assert configured_host({"kubeconfig": KUBECONFIG}) == "https://one:6443"
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(KUBECONFIG))
    assert configured_host({"kubeconfig": str(path), "context": "b"}) == "https://two:6443"
    assert configured_host({"kubeconfig": str(tmp_path / "missing")}) == ""
    assert configured_host({"kubeconfig": KUBECONFIG, "context": "unknown"}) == ""


def test_mapping_conflicts():
    spec = PreflightSpec(namespaces=["a", "b", "c"], namespace_mapping={"a": "x", "b": "x"})
    assert mapping_conflicts(spec) == {"x": ["a", "b"]}
    assert spec.target("c") == "c"


# --- registries ----------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ('Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})]),
    ('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="registry:catalog:*"',
     [Challenge("bearer", {"realm": "https://auth.example.com/token", "service": "registry.example.com",
                           "scope": "registry:catalog:*"})]),
    ('Bearer realm="https://a/t", service=reg, Basic realm="x, y"',
     [Challenge("bearer", {"realm": "https://a/t", "service": "reg"}), Challenge("basic", {"realm": "x, y"})]),
    ('Negotiate abc123==', [Challenge("negotiate", {"token68": "abc123=="})]),
    ('NEGOTIATE', [Challenge("negotiate", {})]),
    ('Basic realm="say \\"hi\\""', [Challenge("basic", {"realm": 'say "hi"'})]),
    ('', []),
])
def test_parse_challenges(header, expected):
    assert parse_challenges(header) == expected


def test_parse_challenges_of_several_headers():
    assert parse_challenges(['Basic realm="a"', 'Bearer realm="b"']) == [
        Challenge("basic", {"realm": "a"}), Challenge("bearer", {"realm": "b"})]
    assert parse_challenges(None) == []


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Registry:
    """A scripted fetch: url -> callable(headers) -> Response, or FetchFailed to raise."""

    def __init__(self, routes):
        self.routes = routes
        self.calls = []

    def __call__(self, url, headers, tls_verify, ca_file, timeout):
        self.calls.append((url, dict(headers), tls_verify, ca_file))
        route = self.routes.get(url)
        if route is None:
            raise FetchFailed("connect", "Connection refused")
        if isinstance(route, FetchFailed):
            raise route
        return route(headers)


def answer(status, challenge=None, body=b"{}"):
    return Response(status, {"www-authenticate": [challenge]} if challenge else {}, body)


def basic_registry(user="u", password="p", base="https://reg:5000"):
    def v2(headers):
        if headers.get("Authorization") == basic(user, password):
            return answer(200)
        return answer(401, 'Basic realm="r"')
    return Registry({f"{base}/v2/": v2})


def probe(spec, registry, sleeps=None):
    """probe_registry with a scripted fetch; the pauses it would make are appended to ``sleeps``."""
    return probe_registry(spec, fetch=registry, sleep=(sleeps if sleeps is not None else []).append)


def test_registry_open_without_credentials():
    outcome = probe(RegistrySpec("open", "reg:5000"), Registry({"https://reg:5000/v2/": lambda headers: answer(200)}))
    assert outcome.ok and outcome.detail == "https://reg:5000/v2/ answers"


def test_registry_basic_auth_accepted_and_rejected():
    outcome = probe(RegistrySpec("migration", "reg:5000", "u", "p"), basic_registry())
    assert outcome.ok and outcome.detail == "https://reg:5000/v2/ accepts the credentials"
    outcome = probe(RegistrySpec("migration", "reg:5000", "u", "wrong"), basic_registry())
    assert not outcome.ok
    assert outcome.message == "registry migration (reg:5000) rejected the credentials (401 Unauthorized at https://reg:5000/v2/)"
    assert outcome.fix == "check username/password or token of this registry"


def test_registry_token_is_sent_as_password_of_serviceaccount():
    outcome = probe(RegistrySpec("internal", "reg:5000", token="tok"), basic_registry("serviceaccount", "tok"))
    assert outcome.ok


def test_registry_without_credentials_when_they_are_needed():
    outcome = probe(RegistrySpec("migration", "reg:5000"), basic_registry())
    assert outcome.message == "registry migration (reg:5000) requires credentials (basic authentication) and none were given"


def test_registry_bearer_token_flow():
    realm_calls = []

    def token(headers):
        realm_calls.append(headers.get("Authorization"))
        if headers.get("Authorization") == basic("u", "p"):
            return answer(200, body=json.dumps({"token": "T0K"}).encode())
        return answer(401)

    def v2(headers):
        if headers.get("Authorization") == "Bearer T0K":
            return answer(200)
        return answer(401, 'Bearer realm="https://auth:5001/token",service="reg:5000"')

    routes = {"https://reg:5000/v2/": v2, "https://auth:5001/token?service=reg%3A5000": token}
    outcome = probe(RegistrySpec("quay", "reg:5000", "u", "p"), Registry(routes))
    assert outcome.ok, outcome
    outcome = probe(RegistrySpec("quay", "reg:5000", "u", "bad"), Registry(routes))
    assert outcome.message == ("registry quay (reg:5000) rejected the credentials "
                               "(401 Unauthorized at https://auth:5001/token?service=reg%3A5000)")
    assert realm_calls == [basic("u", "p"), basic("u", "bad")]


def test_registry_bearer_anonymous_token_and_refusal():
    sent = []

    def token(headers):
        sent.append(headers.get("Authorization"))
        return answer(200, body=json.dumps({"access_token": "ANON"}).encode())

    def v2(headers):
        return answer(200) if headers.get("Authorization") == "Bearer ANON" else answer(401, 'Bearer realm="https://auth/t"')

    outcome = probe(RegistrySpec("hub", "reg:5000"), Registry({"https://reg:5000/v2/": v2, "https://auth/t": token}))
    assert outcome.ok and outcome.detail == "https://reg:5000/v2/ answers with an anonymous token"
    assert sent == [None]  # no credentials given: none sent
    refusing = Registry({"https://reg:5000/v2/": v2, "https://auth/t": lambda headers: answer(401)})
    outcome = probe(RegistrySpec("private", "reg:5000"), refusing)
    assert outcome.message == "registry private (reg:5000) requires credentials (bearer authentication) and none were given"


def test_registry_unreachable_after_bounded_retries():
    registry, sleeps = Registry({}), []
    outcome = probe(RegistrySpec("down", "127.0.0.1:1"), registry, sleeps)
    assert outcome.message == ("registry down (127.0.0.1:1) is unreachable at https://127.0.0.1:1/v2/: "
                               "Connection refused (after 3 attempts)")
    assert len(registry.calls) == 3 and sleeps == [0.5, 1.0]


def test_registry_plain_http_only_when_tls_is_not_verified():
    routes = {"https://reg:5000/v2/": FetchFailed("tls", "[SSL: WRONG_VERSION_NUMBER] wrong version number")}
    plain = basic_registry(base="http://reg:5000")
    plain.routes.update(routes)
    sleeps = []
    outcome = probe(RegistrySpec("migration", "reg:5000", "u", "p", tls_verify=False), plain, sleeps)
    assert outcome.ok and outcome.url == "http://reg:5000/v2/" and sleeps == []
    outcome = probe(RegistrySpec("migration", "reg:5000", "u", "p"), plain)
    assert outcome.message == ("registry migration (reg:5000) does not answer HTTPS at https://reg:5000/v2/ "
                               "([SSL: WRONG_VERSION_NUMBER] wrong version number)")
    assert outcome.fix.startswith("set tls_verify to false")


def test_registry_untrusted_certificate_names_ca_file():
    routes = {"https://reg:5000/v2/": FetchFailed("tls", "unable to get local issuer certificate", certificate=True)}
    outcome = probe(RegistrySpec("internal", "reg:5000"), Registry(routes))
    assert outcome.message == "registry internal (reg:5000): its TLS certificate is not trusted (unable to get local issuer certificate)"
    assert outcome.fix == "give ca_file with the CA that signed it, or set tls_verify to false"


def test_registry_explicit_scheme_and_unexpected_status():
    outcome = probe(RegistrySpec("web", "http://web:8080"), Registry({"http://web:8080/v2/": lambda headers: answer(404)}))
    assert outcome.message == "registry web (http://web:8080) answered HTTP 404 at http://web:8080/v2/"
