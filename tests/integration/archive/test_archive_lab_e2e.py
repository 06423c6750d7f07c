"""End to end on the lab: Velero backup on the source, backup_transform, sync and restore on the destination.

The lab must be up (``make lab-up``; ``make integration`` does it); a missing lab is an error.
The new backup reaches the destination through Velero's own backup sync, or registered by
backup_transform at once; either way the restored objects must carry what the actions did to the
archive.
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

from ansible_collections.openshift_migration.velero.plugins.module_utils.backup_register import RegisterTarget
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


class Migration:
    """One sample-app backup on the source, rewritten under a new name, restored under a mapped namespace."""

    def __init__(self, lab: dict) -> None:
        self.lab = lab
        self.source, self.destination = client(lab, "source"), client(lab, "destination")
        self.velero_ns = lab["clusters"]["source"]["velero"]["namespace"]
        self.location = lab["clusters"]["source"]["velero"]["backup_storage_location"]
        suffix = uuid.uuid4().hex[:6]
        self.original, self.migrated = f"bt-e2e-{suffix}", f"bt-e2e-{suffix}-migrated"
        self.restore_name, self.target_namespace = f"bt-e2e-{suffix}", f"sample-app-{suffix}"
        self.restore = {"apiVersion": VELERO, "kind": "Restore",
                        "metadata": {"name": self.restore_name, "namespace": self.velero_ns},
                        "spec": {"backupName": self.migrated,
                                 "namespaceMapping": {SOURCE_NAMESPACE: self.target_namespace}, "restorePVs": False}}
        ensure_velero_deployment(self.destination, self.velero_ns, lab["versions"]["velero_version"])

    def back_up_source(self) -> None:
        velero_api(self.source, "Backup").create(namespace=self.velero_ns, body={
            "apiVersion": VELERO, "kind": "Backup", "metadata": {"name": self.original, "namespace": self.velero_ns},
            "spec": {"includedNamespaces": [SOURCE_NAMESPACE], "storageLocation": self.location,
                     "snapshotVolumes": False, "ttl": "24h0m0s"}})
        phase = wait_for(f"backup {self.original} on the source",
                         lambda: phase_of(self.source, "Backup", self.original, self.velero_ns) in DONE
                         and phase_of(self.source, "Backup", self.original, self.velero_ns), 300)
        assert phase == "Completed"

    def transform(self, register: bool) -> dict:
        s3 = self.lab["s3"]
        store = S3Store(S3Settings(bucket=s3["bucket"], prefix=s3["prefix"], endpoint_url=s3["endpoint"],
                                   region=s3["region"], access_key=s3["access_key"], secret_key=s3["secret_key"]))
        destination = cluster_from_option({"kubeconfig": self.lab["clusters"]["destination"]["kubeconfig"]},
                                          "destination")
        target = RegisterTarget(destination.lookup.client, self.location, self.velero_ns) if register else None
        result = run_job(JobSpec(
            store=store, backup_name=self.original, new_backup_name=self.migrated, restore=self.restore,
            source_cluster=cluster_from_option({"kubeconfig": self.lab["clusters"]["source"]["kubeconfig"]}, "source"),
            destination_cluster=destination, register=target))
        kinds = result["report"]["kinds"]
        assert result["new_backup"]["changed"] is True
        assert kinds["builds.build.openshift.io"]["skipped"] >= 1
        assert kinds["routes.route.openshift.io"]["changed"] >= 1
        return result

    def restore_and_check(self) -> None:
        destination, velero_ns = self.destination, self.velero_ns
        velero_api(destination, "Restore").create(namespace=velero_ns, body=self.restore)
        outcome = wait_for(f"restore {self.restore_name} on the destination",
                           lambda: phase_of(destination, "Restore", self.restore_name, velero_ns) in DONE
                           and phase_of(destination, "Restore", self.restore_name, velero_ns), 300)
        assert outcome == "Completed", velero_api(destination, "Restore").get(
            name=self.restore_name, namespace=velero_ns).to_dict().get("status")

        routes = destination.resources.get(api_version="route.openshift.io/v1", kind="Route")
        frontend = routes.get(name="frontend", namespace=self.target_namespace).to_dict()
        assert "host" not in frontend["spec"]  # generated host dropped by the route restore action
        shop = routes.get(name="shop", namespace=self.target_namespace).to_dict()
        assert shop["spec"]["host"] == "shop.example.org"  # a chosen host is kept
        assert frontend["metadata"]["labels"]["velero.io/backup-name"] == self.migrated
        builds = destination.resources.get(api_version="build.openshift.io/v1", kind="Build")
        assert builds.get(namespace=self.target_namespace).to_dict()["items"] == []  # skipped, not in the archive
        dcs = destination.resources.get(api_version="apps.openshift.io/v1", kind="DeploymentConfig")
        frontend_dc = dcs.get(name="frontend", namespace=self.target_namespace).to_dict()
        notes = frontend_dc["metadata"].get("annotations") or {}
        source_registry = self.lab["clusters"]["source"]["registry_hostname"]
        assert notes.get("openshift.io/backup-registry-hostname") == source_registry

    def backup_on_destination(self) -> dict:
        return velero_api(self.destination, "Backup").get(name=self.migrated, namespace=self.velero_ns).to_dict()

    def last_sync(self) -> str:
        found = velero_api(self.destination, "BackupStorageLocation").get(name=self.location, namespace=self.velero_ns)
        return (found.to_dict().get("status") or {}).get("lastSyncedTime") or ""

    def clean_up(self) -> None:
        try:
            self.destination.resources.get(api_version="v1", kind="Namespace").delete(name=self.target_namespace)
        except NotFoundError:
            pass


def test_transformed_backup_syncs_and_restores_with_the_transforms(lab):
    migration = Migration(lab)
    migration.back_up_source()
    migration.transform(register=False)
    try:
        synced = wait_for(f"backup {migration.migrated} synced to the destination",
                          lambda: phase_of(migration.destination, "Backup", migration.migrated, migration.velero_ns),
                          180)
        assert synced == "Completed"
        migration.restore_and_check()
    finally:
        migration.clean_up()


def test_registered_backup_restores_at_once_and_the_sync_keeps_it(lab):
    migration = Migration(lab)
    migration.back_up_source()
    result = migration.transform(register=True)
    try:
        assert result["new_backup"]["registration"]["registered"] is True
        # Known to the destination's Velero the moment the module returns, without any sync.
        backup = migration.backup_on_destination()
        assert backup["status"]["phase"] == "Completed"
        assert backup["spec"]["storageLocation"] == migration.location
        assert backup["metadata"]["labels"]["velero.io/storage-location"] == migration.location
        migration.restore_and_check()
        # The next sync finds the backup known: it neither replaces nor removes it.
        registered_at = backup["metadata"]["creationTimestamp"]
        wait_for("the destination's next backup sync", lambda: migration.last_sync() > registered_at, 150)
        after_sync = migration.backup_on_destination()
        assert after_sync["metadata"]["uid"] == backup["metadata"]["uid"]
        assert after_sync["status"]["phase"] == "Completed"
    finally:
        migration.clean_up()
