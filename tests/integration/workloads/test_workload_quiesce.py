"""workload_quiesce on the lab's source cluster, over a copy of the sample application's controllers.

The copy lives in a namespace of this run. Its ReplicationControllers are owned by the
DeploymentConfig, as OpenShift's controllers leave them; a Deployment at zero, a suspended CronJob,
an unsuspended CronJob and a ReplicationController without owner are added.
"""
from __future__ import annotations

import pytest
from workload_helpers import create, delete, read, run_module, sample_workloads, wait_for

REPLICAS = "migration.openshift.io/preQuiesceReplicas"
SUSPEND = "migration.openshift.io/preQuiesceSuspend"
KINDS = {"DeploymentConfig": "apps.openshift.io/v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1",
         "ReplicaSet": "apps/v1", "ReplicationController": "v1", "CronJob": "batch/v1"}


def extra_workloads(namespace: str) -> list[dict]:
    template = {"metadata": {"labels": {"app": "extra"}},
                "spec": {"containers": [{"name": "main", "image": "127.0.0.1:5001/sample-app/backend:latest"}]}}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "idle", "namespace": namespace},
         "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "extra"}}, "template": template}},
        {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy", "namespace": namespace},
         "spec": {"replicas": 2, "selector": {"app": "extra"}, "template": template}},
        # 03:00 on January 1st: the lab's controller manager starts no job while the tests run.
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "yearly", "namespace": namespace},
         "spec": {"schedule": "0 3 1 1 *", "suspend": False,
                  "jobTemplate": {"spec": {"template": {"spec": dict(template["spec"], restartPolicy="Never")}}}}},
    ]


@pytest.fixture(scope="module")
def app(lab, source, suffix):
    namespace = f"wq-{suffix}"
    create(source, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        for doc in sample_workloads(lab, namespace) + extra_workloads(namespace):
            create(source, doc)
        dc = read(source, "apps.openshift.io/v1", "DeploymentConfig", "frontend", namespace)
        owner = {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "name": "frontend",
                 "uid": dc["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
        controllers = source.resources.get(api_version="v1", kind="ReplicationController")
        for name in ("frontend-1", "frontend-2"):
            controllers.patch(name=name, namespace=namespace, body={"metadata": {"ownerReferences": [owner]}},
                              content_type="application/merge-patch+json")
        source.resources.get(api_version="apps/v1", kind="Deployment").patch(
            name="backend", namespace=namespace, body={"spec": {"replicas": 3}}, content_type="application/merge-patch+json")
        replicaset = wait_for(lambda: owned_replicaset(source, namespace), what="the backend ReplicaSet")
        yield {"namespace": namespace, "kubeconfig": lab["clusters"]["source"]["kubeconfig"], "replicaset": replicaset,
               "api_url": lab["clusters"]["source"]["api_url"]}
    finally:
        delete(source, "v1", "Namespace", namespace)


def owned_replicaset(client, namespace: str) -> str | None:
    """The backend Deployment's ReplicaSet, once its controller has scaled it to the Deployment's 3 replicas."""
    items = client.resources.get(api_version="apps/v1", kind="ReplicaSet").get(namespace=namespace).to_dict()["items"]
    names = [item["metadata"]["name"] for item in items
             if item["metadata"]["name"].startswith("backend-") and item["spec"]["replicas"] == 3]
    return names[0] if names else None


def state(client, app) -> dict:
    """(kind, name) -> (replicas or suspend, the quiesce annotations) of every workload of the namespace."""
    found = {}
    for kind, api_version in KINDS.items():
        for item in client.resources.get(api_version=api_version, kind=kind).get(namespace=app["namespace"]).to_dict()["items"]:
            value = item["spec"]["suspend"] if kind == "CronJob" else item["spec"]["replicas"]
            notes = {key: value for key, value in (item["metadata"].get("annotations") or {}).items() if key in (REPLICAS, SUSPEND)}
            found[(kind, item["metadata"]["name"])] = (value, notes)
    return found


def quiesced_entries(namespace: str) -> list[dict]:
    def entry(kind, name, before, after):
        return {"kind": kind, "namespace": namespace, "name": name, "before": before, "after": after}

    return [entry("DeploymentConfig", "frontend", {"replicas": 1}, {"replicas": 0}),
            entry("Deployment", "backend", {"replicas": 3}, {"replicas": 0}),
            entry("StatefulSet", "cache", {"replicas": 1}, {"replicas": 0}),
            entry("CronJob", "yearly", {"suspend": False}, {"suspend": True}),
            entry("ReplicationController", "legacy", {"replicas": 2}, {"replicas": 0})]


def args(app, **extra) -> dict:
    return dict({"kubeconfig": app["kubeconfig"], "namespaces": [app["namespace"]]}, **extra)


@pytest.fixture(scope="module")
def original(source, app) -> dict:
    return state(source, app)


def test_the_copy_starts_as_the_sample(original, app):
    assert original[("DeploymentConfig", "frontend")] == (1, {})
    assert original[("ReplicationController", "frontend-2")] == (1, {})
    assert original[("CronJob", "nightly-report")] == (True, {})
    assert original[("ReplicaSet", app["replicaset"])] == (3, {})


def test_check_mode_reports_and_changes_nothing(source, app, original):
    result = run_module("workload_quiesce", args(app), check=True, diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["workloads"] == quiesced_entries(app["namespace"])
    assert [(entry["before_header"], entry["before"], entry["after"]) for entry in result["diff"]][1] == (
        f"Deployment {app['namespace']}/backend",
        {"kind": "Deployment", "namespace": app["namespace"], "name": "backend", "replicas": 3},
        {"kind": "Deployment", "namespace": app["namespace"], "name": "backend", "replicas": 0})
    assert state(source, app) == original


def test_quiesce_scales_to_zero_and_records(source, app, original):
    result = run_module("workload_quiesce", args(app))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["workloads"] == quiesced_entries(app["namespace"])
    now = state(source, app)
    assert now[("DeploymentConfig", "frontend")] == (0, {REPLICAS: "1"})
    assert now[("Deployment", "backend")] == (0, {REPLICAS: "3"})
    assert now[("StatefulSet", "cache")] == (0, {REPLICAS: "1"})
    assert now[("ReplicationController", "legacy")] == (0, {REPLICAS: "2"})
    assert now[("CronJob", "yearly")] == (True, {SUSPEND: "false"})
    # Left alone: already at zero or suspended, and what a controller owns.
    for key in [("Deployment", "idle"), ("CronJob", "nightly-report"), ("ReplicationController", "frontend-1"),
                ("ReplicationController", "frontend-2")]:
        assert now[key] == original[key], key
    # The Deployment's controller scales its ReplicaSet and copies the Deployment's annotations to it.
    wait_for(lambda: state(source, app)[("ReplicaSet", app["replicaset"])] == (0, {REPLICAS: "3"}),
             what="the ReplicaSet scaled down by its Deployment")


def test_a_second_quiesce_changes_nothing(source, app):
    before = state(source, app)
    result = run_module("workload_quiesce", args(app))
    assert not result.get("failed"), result
    assert (result["changed"], result["workloads"]) == (False, [])
    assert state(source, app) == before


def test_check_mode_resume_changes_nothing(source, app):
    before = state(source, app)
    result = run_module("workload_quiesce", args(app, state="resumed"), check=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [(entry["kind"], entry["name"], entry["before"], entry["after"]) for entry in result["workloads"]] == [
        ("DeploymentConfig", "frontend", {"replicas": 0}, {"replicas": 1}),
        ("Deployment", "backend", {"replicas": 0}, {"replicas": 3}),
        ("StatefulSet", "cache", {"replicas": 0}, {"replicas": 1}),
        ("CronJob", "yearly", {"suspend": True}, {"suspend": False}),
        # Only the copied record is removed; the Deployment scales its ReplicaSet.
        ("ReplicaSet", app["replicaset"], {"replicas": 0}, {"replicas": 0}),
        ("ReplicationController", "legacy", {"replicas": 0}, {"replicas": 2}),
    ]
    assert state(source, app) == before


def test_resume_restores_the_original_and_removes_the_records(source, app, original):
    result = run_module("workload_quiesce", args(app, state="resumed"))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [entry["kind"] for entry in result["workloads"]] == [
        "DeploymentConfig", "Deployment", "StatefulSet", "CronJob", "ReplicaSet", "ReplicationController"]
    wait_for(lambda: state(source, app) == original, what="the original replicas and no quiesce annotation")


def test_a_second_resume_changes_nothing(source, app, original):
    result = run_module("workload_quiesce", args(app, state="resumed"))
    assert not result.get("failed"), result
    assert (result["changed"], result["workloads"]) == (False, [])
    assert state(source, app) == original


def test_a_missing_namespace_fails_before_anything_changes(source, app, original, suffix):
    missing = f"absent-{suffix}"
    result = run_module("workload_quiesce", args(app, namespaces=[app["namespace"], missing]))
    assert result["failed"]
    assert result["msg"] == (f"workload_quiesce: namespace '{missing}' does not exist on {app['api_url']}: "
                             "check the names in namespaces")
    assert state(source, app) == original
