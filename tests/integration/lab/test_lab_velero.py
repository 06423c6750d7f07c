"""Acceptance test of the lab: stock Velero moves the sample namespace between the clusters.

Velero on the source backs the namespace up into the shared bucket, the destination's Velero
finds the backup through backup sync, and a Restore there recreates the objects. The restore maps
the namespace to a new one, so that other tests restoring the sample on the same lab do not
collide with this one.
"""
from __future__ import annotations

import gzip
import json
import time

import boto3
import pytest
from kubernetes.dynamic.exceptions import NotFoundError
from lab_velero_wait import velero, wait_for

# Objects the sample application owns directly (controller-owned children such as the
# ReplicationControllers may be garbage collected after a restore: their owner has a new uid).
EXPECTED = [
    ("v1", "ServiceAccount", "app"),
    ("v1", "Secret", "app-dockercfg-x7k2p"),
    ("v1", "Secret", "backend-credentials"),
    ("v1", "ConfigMap", "frontend-config"),
    ("v1", "Service", "frontend"),
    ("v1", "Service", "public-lb"),
    ("v1", "PersistentVolumeClaim", "data"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "system:image-pullers"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "system:deployers"),
    ("authorization.openshift.io/v1", "RoleBinding", "legacy-edit"),
    ("apps.openshift.io/v1", "DeploymentConfig", "frontend"),
    ("apps/v1", "Deployment", "backend"),
    ("apps/v1", "StatefulSet", "cache"),
    ("apps/v1", "DaemonSet", "log-agent"),
    ("batch/v1", "CronJob", "nightly-report"),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "frontend"),
    ("image.openshift.io/v1", "ImageStream", "frontend"),
    ("image.openshift.io/v1", "ImageStream", "tools"),
    ("image.openshift.io/v1", "ImageStreamTag", "frontend.latest"),
    ("build.openshift.io/v1", "BuildConfig", "frontend"),
    ("build.openshift.io/v1", "Build", "frontend-2"),
    ("route.openshift.io/v1", "Route", "frontend"),
    ("route.openshift.io/v1", "Route", "shop"),
]


@pytest.fixture(scope="module")
def moved(lab, source, destination):
    """Back up the sample namespace on the source and restore it on the destination."""
    namespace = lab["sample"]["namespace"]
    velero_ns = lab["clusters"]["source"]["velero"]["namespace"]
    name = f"lab-{int(time.time())}"
    target = f"{namespace}-{name}"
    velero(source, "Backup").create(namespace=velero_ns, body={
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": name, "namespace": velero_ns},
        "spec": {"includedNamespaces": [namespace], "snapshotVolumes": False,
                 "storageLocation": "default", "ttl": "24h0m0s"},
    })
    backup = wait_for(source, "Backup", name, velero_ns, timeout=300)
    synced = wait_for(destination, "Backup", name, velero_ns, timeout=180,
                      done=lambda obj: obj.get("status", {}).get("phase") == "Completed")
    velero(destination, "Restore").create(namespace=velero_ns, body={
        "apiVersion": "velero.io/v1", "kind": "Restore",
        "metadata": {"name": name, "namespace": velero_ns},
        "spec": {"backupName": name, "includedNamespaces": [namespace],
                 "namespaceMapping": {namespace: target}},
    })
    restore = wait_for(destination, "Restore", name, velero_ns, timeout=300)
    return {"name": name, "backup": backup, "synced": synced, "restore": restore,
            "namespace": namespace, "target": target}


def test_backup_completes_on_source(moved):
    status = moved["backup"]["status"]
    assert status["phase"] == "Completed", status
    assert status.get("errors", 0) == 0, status
    assert status["progress"]["itemsBackedUp"] >= len(EXPECTED)


def test_backup_appears_on_destination_through_sync(moved):
    synced = moved["synced"]
    assert synced["status"]["phase"] == "Completed"
    assert synced["spec"]["includedNamespaces"] == [moved["namespace"]]


def test_restore_completes_on_destination(moved):
    status = moved["restore"]["status"]
    assert status["phase"] == "Completed", status
    assert status.get("errors", 0) == 0, status


@pytest.mark.parametrize(("api_version", "kind", "name"), EXPECTED,
                         ids=[f"{case[1]}/{case[2]}" for case in EXPECTED])
def test_restored_object_exists(moved, source, destination, api_version, kind, name):
    resource = destination.resources.get(api_version=api_version, kind=kind)
    try:
        restored = resource.get(name=name, namespace=moved["target"]).to_dict()
    except NotFoundError:
        pytest.fail(f"{kind} {moved['target']}/{name} was not restored on the destination")
    original = source.resources.get(api_version=api_version, kind=kind).get(
        name=name, namespace=moved["namespace"]).to_dict()
    assert restored["metadata"]["labels"].get("velero.io/restore-name") == moved["name"]
    # Stock Velero, no transforms: the spec comes back as it was (a Service gets a new cluster IP).
    if kind != "Service" and "spec" in original:
        assert restored["spec"] == original["spec"]


def test_bound_volume_restored(moved, destination):
    """The claim's PersistentVolume (cluster-scoped) came along; the first restore of the sample on
    this lab created it, later ones find it there."""
    volumes = destination.resources.get(api_version="v1", kind="PersistentVolume")
    volume = volumes.get(name="sample-app-data").to_dict()
    assert volume["metadata"]["labels"].get("velero.io/restore-name")


def test_backup_in_bucket_lists_the_volume(moved, lab):
    """The source's backup in the shared bucket carries the bound PersistentVolume."""
    s3 = lab["s3"]
    client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                          aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"])
    name = moved["name"]
    key = f"{s3['prefix']}/backups/{name}/{name}-resource-list.json.gz"
    listing = json.loads(gzip.decompress(client.get_object(Bucket=s3["bucket"], Key=key)["Body"].read()))
    assert listing["v1/PersistentVolume"] == ["sample-app-data"]
