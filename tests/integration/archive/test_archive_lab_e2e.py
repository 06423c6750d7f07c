"""End to end on the lab: Velero backup on the source, backup_transform, sync and restore on the destination.

The lab must be up (``make lab-up``; ``make integration`` does it); a missing lab is an error.
The new backup reaches the destination only through Velero's own backup sync, and the restored
objects must carry what the actions did to the archive.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from kubernetes import config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster_options import cluster_from_option
from ansible_collections.openshift_migration.velero.plugins.module_utils.storage import S3Settings, S3Store
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform_job import JobSpec, run_job

SOURCE_NAMESPACE = "sample-app"
VELERO = "velero.io/v1"
DONE = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")


@pytest.fixture(scope="module")
def lab() -> dict:
    state = Path(os.environ.get("LAB_STATE", Path.home() / ".cache/openshift-migration-velero/lab-state"))
    path = state / "lab.json"
    if not path.exists():
        pytest.fail(f"the lab is not up ({path} is missing): run `make lab-up` first")
    return json.loads(path.read_text())


def client(lab: dict, name: str) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(config_file=lab["clusters"][name]["kubeconfig"]))


def velero_api(cluster: DynamicClient, kind: str):
    return cluster.resources.get(api_version=VELERO, kind=kind)


def wait_for(what: str, probe, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def phase_of(cluster: DynamicClient, kind: str, name: str, namespace: str) -> str:
    try:
        found = velero_api(cluster, kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return ""
    return (found.get("status") or {}).get("phase") or ""


def ensure_velero_deployment(cluster: DynamicClient, namespace: str, version: str) -> None:
    """Velero's pod-volume restore action reads the Deployment "velero" for its image, as in an
    in-cluster install; the lab runs Velero outside the cluster, so a scaled-down stand-in is
    created when the lab does not provide one (no kubelet runs, so it never starts anything)."""
    deployments = cluster.resources.get(api_version="apps/v1", kind="Deployment")
    try:
        deployments.get(name="velero", namespace=namespace)
        return
    except NotFoundError:
        pass
    labels = {"component": "velero"}
    deployments.create(namespace=namespace, body={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "velero", "namespace": namespace},
        "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "velero", "image": f"velero/velero:{version}"}]}}}})


def test_transformed_backup_syncs_and_restores_with_the_transforms(lab):
    source, destination = client(lab, "source"), client(lab, "destination")
    velero_ns = lab["clusters"]["source"]["velero"]["namespace"]
    ensure_velero_deployment(destination, velero_ns, lab["versions"]["velero_version"])
    location = lab["clusters"]["source"]["velero"]["backup_storage_location"]
    suffix = uuid.uuid4().hex[:6]
    original, migrated, restore_name = f"bt-e2e-{suffix}", f"bt-e2e-{suffix}-migrated", f"bt-e2e-{suffix}"
    target_namespace = f"sample-app-{suffix}"

    velero_api(source, "Backup").create(namespace=velero_ns, body={
        "apiVersion": VELERO, "kind": "Backup", "metadata": {"name": original, "namespace": velero_ns},
        "spec": {"includedNamespaces": [SOURCE_NAMESPACE], "storageLocation": location,
                 "snapshotVolumes": False, "ttl": "24h0m0s"}})
    phase = wait_for(f"backup {original} on the source",
                     lambda: phase_of(source, "Backup", original, velero_ns) in DONE
                     and phase_of(source, "Backup", original, velero_ns), 300)
    assert phase == "Completed"

    s3 = lab["s3"]
    store = S3Store(S3Settings(bucket=s3["bucket"], prefix=s3["prefix"], endpoint_url=s3["endpoint"],
                               region=s3["region"], access_key=s3["access_key"], secret_key=s3["secret_key"]))
    restore = {"apiVersion": VELERO, "kind": "Restore", "metadata": {"name": restore_name, "namespace": velero_ns},
               "spec": {"backupName": migrated, "namespaceMapping": {SOURCE_NAMESPACE: target_namespace},
                        "restorePVs": False}}
    result = run_job(JobSpec(
        store=store, backup_name=original, new_backup_name=migrated, restore=restore,
        source_cluster=cluster_from_option({"kubeconfig": lab["clusters"]["source"]["kubeconfig"]}, "source"),
        destination_cluster=cluster_from_option({"kubeconfig": lab["clusters"]["destination"]["kubeconfig"]},
                                                "destination")))
    kinds = result["report"]["kinds"]
    assert result["new_backup"]["changed"] is True
    assert kinds["builds.build.openshift.io"]["skipped"] >= 1
    assert kinds["routes.route.openshift.io"]["changed"] >= 1

    try:
        synced = wait_for(f"backup {migrated} synced to the destination",
                          lambda: phase_of(destination, "Backup", migrated, velero_ns), 180)
        assert synced == "Completed"
        velero_api(destination, "Restore").create(namespace=velero_ns, body=restore)
        outcome = wait_for(f"restore {restore_name} on the destination",
                           lambda: phase_of(destination, "Restore", restore_name, velero_ns) in DONE
                           and phase_of(destination, "Restore", restore_name, velero_ns), 300)
        assert outcome == "Completed", velero_api(destination, "Restore").get(
            name=restore_name, namespace=velero_ns).to_dict().get("status")

        routes = destination.resources.get(api_version="route.openshift.io/v1", kind="Route")
        frontend = routes.get(name="frontend", namespace=target_namespace).to_dict()
        assert "host" not in frontend["spec"]  # generated host dropped by the route restore action
        shop = routes.get(name="shop", namespace=target_namespace).to_dict()
        assert shop["spec"]["host"] == "shop.example.org"  # a chosen host is kept
        assert frontend["metadata"]["labels"]["velero.io/backup-name"] == migrated
        builds = destination.resources.get(api_version="build.openshift.io/v1", kind="Build")
        assert builds.get(namespace=target_namespace).to_dict()["items"] == []  # skipped, so not in the archive
        dcs = destination.resources.get(api_version="apps.openshift.io/v1", kind="DeploymentConfig")
        frontend_dc = dcs.get(name="frontend", namespace=target_namespace).to_dict()
        notes = frontend_dc["metadata"].get("annotations") or {}
        assert notes.get("openshift.io/backup-registry-hostname") == lab["clusters"]["source"]["registry_hostname"]
    finally:
        try:
            destination.resources.get(api_version="v1", kind="Namespace").delete(name=target_namespace)
        except NotFoundError:
            pass
