"""restore_rollback after a real Velero restore on the lab.

A small namespace of this run is backed up on the source (with a ClusterRole and ClusterRoleBinding
that Velero takes along because they name its ServiceAccount). The destination's Velero imports the
backup through its backup sync, and a Restore maps the namespace to another name there. Then an
unlabelled ConfigMap is added to the restored namespace, as a user would.
"""
from __future__ import annotations

import subprocess

import pytest
from workload_helpers import RESTORE_NAME_LABEL, create, delete, labelled, read, run_module, wait_for

# The kinds the small application and Velero's restore of it put on the destination.
RESTORED_KINDS = [("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), ("v1", "Service"), ("v1", "Endpoints"),
                  ("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("discovery.k8s.io/v1", "EndpointSlice"),
                  ("rbac.authorization.k8s.io/v1", "ClusterRole"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")]


def application(namespace: str, cluster_name: str) -> list[dict]:
    labels = {"app": "web"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": namespace}, "data": {"mode": "live"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "credentials", "namespace": namespace},
         "stringData": {"password": "not-a-real-one"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app", "namespace": namespace}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": namespace},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"serviceAccountName": "app",
                                        "containers": [{"name": "web", "image": "127.0.0.1:5001/sample-app/backend:latest"}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": namespace},
         "spec": {"selector": labels, "ports": [{"port": 8080}]}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": cluster_name},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": cluster_name},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_name},
         "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": namespace}]},
    ]


def velero_cli(lab: dict, cluster: str, *arguments: str) -> None:
    """Best effort: the Velero CLI removes a backup from the object store too, so no other cluster syncs it again."""
    subprocess.run([lab["tools"]["velero"], "--kubeconfig", lab["clusters"][cluster]["kubeconfig"], "-n",
                    lab["clusters"][cluster]["velero"]["namespace"], *arguments], capture_output=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def restored(lab, source, destination, suffix):
    names = {"source": f"rb-{suffix}", "target": f"rb-{suffix}-restored", "cluster": f"rb-{suffix}-reader",
             "backup": f"rb-{suffix}", "restore": f"rb-{suffix}", "velero": lab["clusters"]["destination"]["velero"]["namespace"]}
    try:
        for doc in application(names["source"], names["cluster"]):
            create(source, doc)
        backup = run_module("velero_backup", {
            "kubeconfig": lab["clusters"]["source"]["kubeconfig"], "name": names["backup"], "included_namespaces": [names["source"]],
            "snapshot_volumes": False, "ttl": "24h", "wait": True, "wait_timeout": 300, "wait_sleep": 1})
        assert backup.get("phase") == "Completed", backup
        restore = run_module("velero_restore", {
            "kubeconfig": lab["clusters"]["destination"]["kubeconfig"], "name": names["restore"], "backup_name": names["backup"],
            "namespace_mapping": {names["source"]: names["target"]}, "restore_pvs": False,
            "wait": True, "wait_timeout": 300, "wait_sleep": 1})
        assert restore.get("phase") == "Completed", restore
        create(destination, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "user-notes", "namespace": names["target"]},
                             "data": {"note": "added after the restore"}})
        names["labelled"] = labelled(destination, RESTORED_KINDS, names["restore"])
        names["kubeconfig"] = lab["clusters"]["destination"]["kubeconfig"]
        yield names
    finally:
        for client in (source, destination):
            delete(client, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", names["cluster"])
            delete(client, "rbac.authorization.k8s.io/v1", "ClusterRole", names["cluster"])
        delete(source, "v1", "Namespace", names["source"])
        delete(destination, "v1", "Namespace", names["target"])
        delete(destination, "velero.io/v1", "Restore", names["restore"], names["velero"])
        velero_cli(lab, "source", "backup", "delete", names["backup"], "--confirm")


def args(restored, **extra) -> dict:
    return dict({"kubeconfig": restored["kubeconfig"], "restore_names": [restored["restore"]], "wait_timeout": 120}, **extra)


def deleted_set(result) -> set[tuple[str, str, str]]:
    return {(entry["kind"], entry["namespace"], entry["name"]) for entry in result["deleted"]}


def test_the_restore_labelled_what_it_created(restored):
    target = restored["target"]
    assert {("ConfigMap", target, "settings"), ("Secret", target, "credentials"), ("ServiceAccount", target, "app"),
            ("Deployment", target, "web"), ("Service", target, "web"), ("ClusterRole", "", restored["cluster"]),
            ("ClusterRoleBinding", "", restored["cluster"])} <= restored["labelled"]
    assert ("ConfigMap", target, "user-notes") not in restored["labelled"]


def test_velero_does_not_label_the_namespaces_it_creates(destination, restored):
    """Why the module decides on a namespace by what it holds: Velero 1.18 leaves the Namespace unlabelled."""
    namespace = read(destination, "v1", "Namespace", restored["target"])
    assert RESTORE_NAME_LABEL not in (namespace["metadata"].get("labels") or {})


def test_check_mode_lists_and_deletes_nothing(destination, restored):
    result = run_module("restore_rollback", args(restored), check=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert deleted_set(result) == restored["labelled"]
    assert result["kept_namespaces"] == [{"name": restored["target"], "reason": f"holds ConfigMap {restored['target']}/user-notes"}]
    assert labelled(destination, RESTORED_KINDS, restored["restore"]) == restored["labelled"]


def test_rollback_deletes_exactly_the_labelled_objects(destination, restored):
    result = run_module("restore_rollback", args(restored))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert deleted_set(result) == restored["labelled"]
    # Namespaced objects first, cluster-scoped ones last.
    kinds = [entry["kind"] for entry in result["deleted"]]
    assert kinds.index("ClusterRoleBinding") > max(index for index, entry in enumerate(result["deleted"]) if entry["namespace"])
    assert {"api_version": "apps/v1", "kind": "Deployment", "namespace": restored["target"], "name": "web"} in result["deleted"]
    assert labelled(destination, RESTORED_KINDS, restored["restore"]) == set()
    # The unlabelled object keeps its namespace.
    assert read(destination, "v1", "ConfigMap", "user-notes", restored["target"]) is not None
    assert read(destination, "v1", "Namespace", restored["target"]) is not None
    assert result["kept_namespaces"] == [{"name": restored["target"], "reason": f"holds ConfigMap {restored['target']}/user-notes"}]
    assert result["skipped_kinds"] == []


def test_a_second_rollback_changes_nothing(restored):
    result = run_module("restore_rollback", args(restored))
    assert not result.get("failed"), result
    assert (result["changed"], result["deleted"]) == (False, [])
    assert result["kept_namespaces"] == [{"name": restored["target"], "reason": f"holds ConfigMap {restored['target']}/user-notes"}]


def test_once_the_user_object_is_gone_the_namespace_goes(destination, restored):
    delete(destination, "v1", "ConfigMap", "user-notes", restored["target"])
    wait_for(lambda: read(destination, "v1", "ConfigMap", "user-notes", restored["target"]) is None, what="user-notes deleted")
    checked = run_module("restore_rollback", args(restored), check=True)
    assert not checked.get("failed"), checked
    assert checked["deleted"] == [{"api_version": "v1", "kind": "Namespace", "namespace": "", "name": restored["target"]}]
    assert read(destination, "v1", "Namespace", restored["target"])["status"]["phase"] == "Active"
    result = run_module("restore_rollback", args(restored))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["deleted"] == checked["deleted"]
    assert result["kept_namespaces"] == []
    assert read(destination, "v1", "Namespace", restored["target"]) is None  # wait: true waited until it was gone


def test_a_third_rollback_changes_nothing(restored):
    result = run_module("restore_rollback", args(restored))
    assert not result.get("failed"), result
    assert (result["changed"], result["deleted"], result["kept_namespaces"]) == (False, [], [])
