"""Rollback of a Velero restore: label values and selectors, which kinds and objects count, and one run over a fake cluster."""
import json
from types import SimpleNamespace

import pytest
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from ansible_collections.openshift_migration.velero.plugins.module_utils.rollback import (
    RESTORE_NAME_LABEL,
    Rollback,
    RollbackError,
    RollbackTimeout,
    automatic,
    blocking_objects,
    carries_label,
    deletion_order,
    label_values,
    pick_resources,
    protected_namespace,
    restore_label_value,
    restore_selector,
    restore_targets,
    scannable,
    split,
)

LONG_NAME = "shop-migration-2026-11-24-final-cutover-restore-into-the-destination-cluster"  # 76 characters
# printf %s "$LONG_NAME" | sha256sum -> f090a3a0f835453e2b7eaa5d386513dac5c7c6ce1f1051be1990621a484c2eb0
LONG_LABEL = "shop-migration-2026-11-24-final-cutover-restore-into-the-f090a3"


def obj(kind, name, namespace="", api_version="v1", uid=None, restore=None, owners=None, **extra):
    item = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "uid": uid or f"{kind}-{namespace}-{name}"}}
    if namespace:
        item["metadata"]["namespace"] = namespace
    if restore:
        item["metadata"]["labels"] = {RESTORE_NAME_LABEL: restore, "velero.io/backup-name": "b1"}
    if owners:
        item["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "owner", "uid": owner,
                                                "controller": True} for owner in owners]
    item.update(extra)
    return item


# --- label values and selectors ----------------------------------------------------------


def test_short_restore_names_are_their_own_label_value():
    assert restore_label_value("shop-migration-1") == "shop-migration-1"
    assert restore_label_value("r" * 63) == "r" * 63


def test_a_long_restore_name_is_shortened_as_velero_does():
    assert len(LONG_NAME) == 76
    assert restore_label_value(LONG_NAME) == LONG_LABEL
    assert len(LONG_LABEL) == 63


def test_a_64_character_name_is_shortened():
    value = restore_label_value("r" * 64)
    assert value.startswith("r" * 57) and len(value) == 63 and value != "r" * 63


def test_selector_names_every_restore_once():
    assert restore_selector(["b", "a", "b"]) == "velero.io/restore-name in (a,b)"
    assert restore_selector([LONG_NAME]) == f"velero.io/restore-name in ({LONG_LABEL})"
    assert label_values(["x", LONG_NAME]) == [LONG_LABEL, "x"]


def test_an_empty_list_of_restores_is_an_error():
    with pytest.raises(RollbackError, match="restore_names is empty"):
        restore_selector([])


def test_carries_label():
    assert carries_label(obj("ConfigMap", "c", "shop", restore="r1"), ["r1", "r2"])
    assert not carries_label(obj("ConfigMap", "c", "shop", restore="r3"), ["r1", "r2"])
    assert not carries_label(obj("ConfigMap", "c", "shop"), ["r1"])


# --- kinds ---------------------------------------------------------------------------------

ALL_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


@pytest.mark.parametrize("group, name, verbs, expected", [
    ("", "configmaps", ALL_VERBS, True),
    ("apps", "deployments", ALL_VERBS, True),
    ("", "pods/log", ["get"], False),
    ("apps", "deployments/scale", ALL_VERBS, False),
    ("", "events", ALL_VERBS, False),
    ("events.k8s.io", "events", ALL_VERBS, False),
    ("velero.io", "podvolumerestores", ALL_VERBS, False),
    ("", "componentstatuses", ["get", "list"], False),
    ("authorization.k8s.io", "selfsubjectaccessreviews", ["create"], False),
])
def test_scannable(group, name, verbs, expected):
    assert scannable(group, name, verbs) is expected


def resource(group, version, kind, name, preferred=True, namespaced=True, verbs=tuple(ALL_VERBS)):
    group_version = f"{group}/{version}" if group else version
    return SimpleNamespace(group=group, api_version=version, group_version=group_version, kind=kind, name=name,
                           preferred=preferred, namespaced=namespaced, verbs=verbs)


def test_pick_resources_keeps_one_version_per_kind():
    hpa_v1 = resource("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", preferred=False)
    hpa_v2 = resource("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")
    only_alpha = resource("example.com", "v1alpha1", "Widget", "widgets", preferred=False)
    a_list = SimpleNamespace(group="", kind="ConfigMapList", name=None, base_kind="ConfigMap", verbs=None)
    events = resource("", "v1", "Event", "events")
    assert pick_resources([hpa_v1, hpa_v2, only_alpha, a_list, events]) == [hpa_v2, only_alpha]


# --- what keeps a namespace ---------------------------------------------------------------


def test_what_the_cluster_creates_is_automatic():
    assert automatic(obj("ServiceAccount", "default", "shop"))
    assert automatic(obj("ConfigMap", "kube-root-ca.crt", "shop"))
    assert automatic(obj("ConfigMap", "openshift-service-ca.crt", "shop"))
    assert automatic(obj("RoleBinding", "system:image-pullers", "shop", "rbac.authorization.k8s.io/v1"))
    assert automatic(obj("Secret", "builder-dockercfg-x7", "shop", type="kubernetes.io/dockercfg",
                         metadata={"name": "builder-dockercfg-x7", "annotations": {"kubernetes.io/service-account.name": "builder"}}))
    assert not automatic(obj("ServiceAccount", "app", "shop"))
    assert not automatic(obj("ConfigMap", "default", "shop"))
    assert not automatic(obj("Secret", "app-token", "shop", type="kubernetes.io/service-account-token",
                             metadata={"name": "app-token", "annotations": {"kubernetes.io/service-account.name": "app"}}))


def test_a_namespace_with_only_automatic_and_doomed_objects_is_not_blocked():
    deployment = obj("Deployment", "web", "shop", "apps/v1", uid="d1", restore="r1")
    replicaset = obj("ReplicaSet", "web-1", "shop", "apps/v1", uid="rs1", owners=["d1"])  # made by the controller
    pod = obj("Pod", "web-1-a", "shop", uid="p1", owners=["rs1"])
    service = obj("Service", "web", "shop", uid="s1", restore="r1")
    endpoints = obj("Endpoints", "web", "shop", uid="e1")  # the endpoints controller's, no owner
    objects = [deployment, replicaset, pod, service, endpoints, obj("ServiceAccount", "default", "shop"),
               obj("ConfigMap", "kube-root-ca.crt", "shop"),
               obj("ConfigMap", "leaving", "shop", metadata={"name": "leaving", "uid": "x", "deletionTimestamp": "now"})]
    assert blocking_objects(objects, {"d1", "s1"}) == []


def test_an_unlabelled_object_blocks_the_namespace():
    user = obj("ConfigMap", "user-settings", "shop")
    objects = [obj("Deployment", "web", "shop", "apps/v1", uid="d1", restore="r1"), user,
               obj("ServiceAccount", "default", "shop")]
    assert blocking_objects(objects, {"d1"}) == [user]


def test_what_an_automatic_object_owns_does_not_block():
    account = obj("ServiceAccount", "builder", "shop", uid="sa1")
    token = obj("Secret", "builder-token-abc", "shop", uid="t1", owners=["sa1"])
    assert blocking_objects([account, token], set()) == []


def test_an_object_whose_owner_no_longer_exists_is_garbage():
    orphan = obj("Pod", "web-1-a", "shop", uid="p1", owners=["gone-uid"])
    assert blocking_objects([orphan], set()) == []
    # An owner outside the namespace (cluster-scoped) that exists keeps it.
    assert blocking_objects([orphan], set(), outside_owners={"gone-uid"}) == [orphan]


def test_an_endpoints_object_of_a_kept_service_blocks():
    objects = [obj("Service", "web", "shop", uid="s1"), obj("Endpoints", "web", "shop", uid="e1")]
    assert [item["kind"] for item in blocking_objects(objects, set())] == ["Service", "Endpoints"]


@pytest.mark.parametrize("name, protected", [
    ("default", True), ("kube-system", True), ("openshift", True), ("openshift-monitoring", True),
    ("velero", True), ("shop", False), ("openshifty", False),
])
def test_protected_namespaces(name, protected):
    assert protected_namespace(name, "velero") is protected


def test_restore_targets_follow_mapping_and_included_namespaces():
    restore = {"spec": {"includedNamespaces": ["shop", "db", "*"], "namespaceMapping": {"shop": "shop-new", "x": "x-new"}}}
    assert restore_targets(restore) == {"shop-new", "x-new", "db"}
    assert restore_targets({"spec": {"includedNamespaces": ["*"]}}) == set()
    assert restore_targets(None) == set()


def test_split_and_order():
    namespace = obj("Namespace", "shop", restore="r1")
    volume = obj("PersistentVolume", "pv-1", restore="r1")
    owned = obj("Pod", "web-1", "shop", owners=["d1"])
    owner = obj("Deployment", "web", "shop", "apps/v1", uid="d1")
    assert split([namespace, volume, owned, owner]) == ([owned, owner], [namespace], [volume])
    assert deletion_order([owned, owner]) == [owner, owned]


# --- a run over a fake cluster -------------------------------------------------------------


class ApiError:
    def __init__(self, status, reason):
        self.status, self.reason, self.body, self.headers = status, reason, json.dumps({"message": reason}), {}


class FakeResource:
    def __init__(self, cluster, group, version, kind, name, namespaced=True):
        self.cluster, self.group, self.api_version, self.kind, self.name = cluster, group, version, kind, name
        self.group_version = f"{group}/{version}" if group else version
        self.namespaced, self.preferred, self.verbs = namespaced, True, ALL_VERBS

    def _mine(self):
        return [item for item in self.cluster.objects if item["kind"] == self.kind]

    def get(self, name=None, namespace=None, label_selector=None):
        if name is not None:
            for item in self._mine():
                if item["metadata"]["name"] == name and item["metadata"].get("namespace") == namespace:
                    return SimpleNamespace(to_dict=lambda item=item: json.loads(json.dumps(item)))
            raise NotFoundError(ApiError(404, "NotFound"))
        self.cluster.lists.append((self.kind, namespace, label_selector))
        items = [item for item in self._mine() if namespace is None or item["metadata"].get("namespace") == namespace]
        if label_selector:
            values = label_selector.split("(", 1)[1].rstrip(")").split(",")
            items = [item for item in items if carries_label(item, values)]
        # Lists carry no kind per item, as the API server answers.
        stripped = [{key: value for key, value in item.items() if key not in ("kind", "apiVersion")} for item in items]
        return SimpleNamespace(to_dict=lambda: json.loads(json.dumps({"items": stripped})))

    def delete(self, name, namespace=None, body=None):
        for item in self._mine():
            if item["metadata"]["name"] == name and item["metadata"].get("namespace") == namespace:
                if body["preconditions"]["uid"] != item["metadata"]["uid"]:
                    raise ConflictError(ApiError(409, "Conflict"))
                self.cluster.deleted.append((self.kind, namespace, name, body["propagationPolicy"]))
                if not self.cluster.sticky:
                    self.cluster.objects.remove(item)
                if self.kind == "Namespace":
                    self.cluster.objects = [other for other in self.cluster.objects if other["metadata"].get("namespace") != name]
                return
        raise NotFoundError(ApiError(404, "NotFound"))


class FakeCluster:
    def __init__(self, objects, forbidden=(), sticky=False):
        self.objects = [json.loads(json.dumps(item)) for item in objects]
        self.lists, self.deleted, self.sticky = [], [], sticky
        kinds = [("", "v1", "ConfigMap", "configmaps", True), ("", "v1", "ServiceAccount", "serviceaccounts", True),
                 ("apps", "v1", "Deployment", "deployments", True), ("", "v1", "Pod", "pods", True),
                 ("", "v1", "Namespace", "namespaces", False),
                 ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False)]
        self.all = [FakeResource(self, *kind) for kind in kinds]
        for item in self.all:
            if item.kind in forbidden:
                item.get = self._forbid
        self.resources = SimpleNamespace(search=lambda: self.all, get=self._resource)
        self.configuration = SimpleNamespace(host="https://127.0.0.1:26443")

    @staticmethod
    def _forbid(**kwargs):
        raise NotFoundError(ApiError(403, "Forbidden"))

    def _resource(self, api_version, kind):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        for item in self.all:
            if (item.group_version, item.kind) == (api_version, kind):
                return item
        raise ResourceNotFoundError(kind)


def restored_namespace(extra=()):
    return [obj("Namespace", "shop-new", uid="ns1"),
            obj("ServiceAccount", "default", "shop-new"), obj("ConfigMap", "kube-root-ca.crt", "shop-new"),
            obj("Deployment", "web", "shop-new", "apps/v1", uid="d1", restore="r1"),
            obj("Pod", "web-x", "shop-new", uid="p1", owners=["d1"]),
            obj("ConfigMap", "cfg", "shop-new", restore="r1"),
            obj("ConfigMap", "cfg", "elsewhere", restore="r1"),
            obj("ConfigMap", "other-restore", "shop-new", restore="r9"),
            obj("ClusterRoleBinding", "shop-reader", "", "rbac.authorization.k8s.io/v1", restore="r1"),
            *extra]


def refs(rollback):
    return [(entry["kind"], entry["namespace"], entry["name"]) for entry in rollback.deleted]


def test_run_deletes_labelled_objects_then_namespaces_then_cluster_objects():
    cluster = FakeCluster([item for item in restored_namespace() if item["metadata"]["name"] != "other-restore"])
    rollback = Rollback(cluster, ["r1"], pause=lambda seconds: None)
    rollback.run()
    assert refs(rollback) == [("ConfigMap", "elsewhere", "cfg"), ("ConfigMap", "shop-new", "cfg"),
                              ("Deployment", "shop-new", "web"), ("Namespace", "", "shop-new"),
                              ("ClusterRoleBinding", "", "shop-reader")]
    assert [entry[0] for entry in cluster.deleted] == ["ConfigMap", "ConfigMap", "Deployment", "Namespace", "ClusterRoleBinding"]
    assert {entry[3] for entry in cluster.deleted} == {"Background"}
    assert rollback.kept_namespaces == []
    assert rollback.deleted[3] == {"api_version": "v1", "kind": "Namespace", "namespace": "", "name": "shop-new"}


def test_objects_of_another_restore_are_left_and_keep_the_namespace():
    cluster = FakeCluster(restored_namespace())
    rollback = Rollback(cluster, ["r1"], pause=lambda seconds: None)
    rollback.run()
    assert ("ConfigMap", "shop-new", "other-restore") not in refs(rollback)
    assert ("Namespace", "", "shop-new") not in refs(rollback)
    assert rollback.kept_namespaces == [{"name": "shop-new", "reason": "holds ConfigMap shop-new/other-restore"}]
    assert any(item["metadata"]["name"] == "other-restore" for item in cluster.objects)


def test_run_never_deletes_unlabelled_objects_and_keeps_a_namespace_holding_them():
    user = obj("ConfigMap", "user-settings", "shop-new")
    cluster = FakeCluster([item for item in restored_namespace([user]) if item["metadata"]["name"] != "other-restore"])
    rollback = Rollback(cluster, ["r1"], namespaces=["shop-new"], pause=lambda seconds: None)
    rollback.run()
    assert refs(rollback) == [("ConfigMap", "shop-new", "cfg"), ("Deployment", "shop-new", "web"),
                              ("ClusterRoleBinding", "", "shop-reader")]
    assert rollback.kept_namespaces == [{"name": "shop-new", "reason": "holds ConfigMap shop-new/user-settings"}]
    remaining = {(item["kind"], item["metadata"].get("namespace"), item["metadata"]["name"]) for item in cluster.objects}
    assert {("ConfigMap", "shop-new", "user-settings"), ("ConfigMap", "elsewhere", "cfg"), ("Namespace", None, "shop-new"),
            ("Pod", "shop-new", "web-x")} <= remaining
    # The user removes what kept the namespace: the next run deletes it, and only it.
    cluster.objects.remove(next(item for item in cluster.objects if item["metadata"]["name"] == "user-settings"))
    again = Rollback(cluster, ["r1"], namespaces=["shop-new"], pause=lambda seconds: None)
    again.run()
    assert refs(again) == [("Namespace", "", "shop-new")]
    third = Rollback(cluster, ["r1"], namespaces=["shop-new"], pause=lambda seconds: None)
    third.run()
    assert third.deleted == []


def test_check_mode_lists_and_deletes_nothing():
    cluster = FakeCluster([item for item in restored_namespace() if item["metadata"]["name"] != "other-restore"])
    rollback = Rollback(cluster, ["r1"], namespaces=["shop-new"], check_mode=True, pause=lambda seconds: None)
    rollback.run()
    assert refs(rollback) == [("ConfigMap", "shop-new", "cfg"), ("Deployment", "shop-new", "web"),
                              ("Namespace", "", "shop-new"), ("ClusterRoleBinding", "", "shop-reader")]
    assert cluster.deleted == []


def test_options_leave_namespaces_and_cluster_objects():
    cluster = FakeCluster(restored_namespace())
    rollback = Rollback(cluster, ["r1"], namespaces=["shop-new"], delete_namespaces=False, cluster_scoped=False,
                        pause=lambda seconds: None)
    rollback.run()
    assert refs(rollback) == [("ConfigMap", "shop-new", "cfg"), ("Deployment", "shop-new", "web")]
    assert not any(kind == "ClusterRoleBinding" for kind, namespace, selector in cluster.lists)


def test_the_restore_spec_points_to_an_emptied_namespace():
    restore = {"apiVersion": "velero.io/v1", "kind": "Restore",
               "metadata": {"name": "r1", "namespace": "velero", "uid": "restore-uid"},
               "spec": {"namespaceMapping": {"shop": "shop-new"}}}
    cluster = FakeCluster([obj("Namespace", "shop-new", uid="ns1"), obj("ServiceAccount", "default", "shop-new"), restore])
    cluster.all.append(FakeResource(cluster, "velero.io", "v1", "Restore", "restores"))
    rollback = Rollback(cluster, ["r1"], pause=lambda seconds: None)
    rollback.run()
    assert refs(rollback) == [("Namespace", "", "shop-new")]


def test_a_kind_that_cannot_be_listed_is_skipped_and_keeps_the_namespace():
    cluster = FakeCluster([item for item in restored_namespace() if item["metadata"]["name"] != "other-restore"],
                          forbidden=("Pod",))
    rollback = Rollback(cluster, ["r1"], namespaces=["shop-new"], pause=lambda seconds: None)
    rollback.run()
    assert rollback.skipped_kinds == ["pods (403 Forbidden)"]
    assert rollback.kept_namespaces == [{"name": "shop-new", "reason": "not every kind could be listed in it"}]


def test_an_object_replaced_since_it_was_found_is_not_deleted():
    cluster = FakeCluster([obj("ConfigMap", "cfg", "shop-new", restore="r1", uid="old")])
    rollback = Rollback(cluster, ["r1"], delete_namespaces=False, pause=lambda seconds: None)
    rollback.discover()
    found = rollback.labelled()
    cluster.objects[0]["metadata"]["uid"] = "new"  # deleted and created again by someone else
    rollback.delete(found[0][0], found[0][1])
    assert rollback.deleted == [] and cluster.deleted == []


def test_refuses_an_unlabelled_object():
    cluster = FakeCluster([])
    rollback = Rollback(cluster, ["r1"])
    with pytest.raises(RollbackError, match="ConfigMap shop/cfg does not carry velero.io/restore-name"):
        rollback.delete(cluster.all[0], obj("ConfigMap", "cfg", "shop"))


def test_wait_times_out_naming_what_is_left():
    ticks = iter(range(0, 1000, 10))
    cluster = FakeCluster([obj("ConfigMap", "cfg", "shop-new", restore="r1",
                               metadata={"name": "cfg", "namespace": "shop-new", "uid": "c1", "finalizers": ["example.com/hold"],
                                         "labels": {RESTORE_NAME_LABEL: "r1"}})], sticky=True)
    rollback = Rollback(cluster, ["r1"], delete_namespaces=False, clock=lambda: next(ticks), pause=lambda seconds: None)
    with pytest.raises(RollbackTimeout) as caught:
        rollback.run(wait=True, wait_timeout=30)
    assert str(caught.value) == ("1 deleted objects still exist on https://127.0.0.1:26443 after 30 s: ConfigMap shop-new/cfg "
                                 "(finalizers: example.com/hold). Check what holds them (finalizers, a controller), or raise wait_timeout")
    assert refs(rollback) == [("ConfigMap", "shop-new", "cfg")]
