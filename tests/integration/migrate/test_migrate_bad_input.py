"""migrate.yml on bad input: one clear message, and nothing created on either cluster."""
from __future__ import annotations

import uuid

import pytest
from migrate_helpers import get, names

from tests.lab.migrate_vars import migrate_vars
from tests.lab.playbook_run import run_playbook

HOOKED_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "hooked", "annotations": {
        # Velero runs the hook in the pod; no kubelet runs on the lab, so the hook fails and the
        # backup ends PartiallyFailed, as it does on a real cluster when a hook breaks.
        "pre.hook.backup.velero.io/command": '["/bin/true"]',
        "pre.hook.backup.velero.io/on-error": "Continue"}},
    "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
}


@pytest.fixture
def name() -> str:
    return f"bad-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def namespace_with(source, destination, request):
    """Creates a namespace on a cluster with the given objects; removes it afterwards."""
    created = []

    def make(cluster_name: str, namespace: str, objects: list[dict]):
        cluster = {"source": source, "destination": destination}[cluster_name]
        cluster.resources.get(api_version="v1", kind="Namespace").create(
            body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        created.append((cluster, namespace))
        for obj in objects:
            cluster.resources.get(api_version=obj["apiVersion"], kind=obj["kind"]).create(
                namespace=namespace, body=obj)

    yield make
    for cluster, namespace in created:
        cluster.resources.get(api_version="v1", kind="Namespace").delete(name=namespace)


def assert_nothing_created(lab, source, destination, name: str) -> None:
    velero = lab["clusters"]["source"]["velero"]["namespace"]
    assert f"{name}-stage" not in names(source, "velero.io/v1", "Backup", velero)
    assert f"{name}-stage" not in names(destination, "velero.io/v1", "Restore", velero)


def test_a_source_namespace_that_does_not_exist(lab, tmp_path, name, source, destination):
    run = run_playbook("migrate", migrate_vars(lab, name, "stage", [f"{name}-missing"]), tmp_path)
    assert run.returncode != 0
    assert "preflight found" in run.output and f"namespace {name}-missing" in run.output
    assert_nothing_created(lab, source, destination, name)


def test_a_mapping_onto_a_namespace_that_holds_other_objects(lab, tmp_path, name, source, destination,
                                                             namespace_with):
    taken = f"{name}-taken"
    namespace_with("destination", taken, [{"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "someone-elses"}, "data": {"a": "b"}}])
    run = run_playbook("migrate", migrate_vars(lab, name, "stage", ["sample-app"], {"sample-app": taken}), tmp_path)
    assert run.returncode != 0
    assert "preflight found" in run.output and taken in run.output and "someone-elses" in run.output
    assert_nothing_created(lab, source, destination, name)


def test_an_unreachable_destination(lab, tmp_path, name, source, destination):
    variables = dict(migrate_vars(lab, name), migrate_destination_kubeconfig=None,
                     migrate_destination_host="https://127.0.0.1:1", migrate_destination_api_key="not-a-token",
                     migrate_destination_validate_certs=False)
    run = run_playbook("migrate", variables, tmp_path)
    assert run.returncode != 0
    assert "preflight found" in run.output and "[destination]" in run.output and "127.0.0.1:1" in run.output
    assert "not-a-token" not in run.output
    assert_nothing_created(lab, source, destination, name)


def test_a_backup_that_ends_partially_failed_stops_before_the_restore(lab, tmp_path, name, source, destination,
                                                                      namespace_with):
    namespace_with("source", name, [HOOKED_POD])
    run = run_playbook("migrate", migrate_vars(lab, name, "stage", [name], {name: f"{name}-moved"}), tmp_path)
    assert run.returncode != 0
    assert f"backup velero/{name}-stage ended PartiallyFailed" in run.output
    assert "Error executing hook" in run.output  # Velero's own reason, from the backup log
    velero = lab["clusters"]["destination"]["velero"]["namespace"]
    assert f"{name}-stage" not in names(destination, "velero.io/v1", "Restore", velero)
    assert get(destination, "v1", "Namespace", f"{name}-moved") is None
