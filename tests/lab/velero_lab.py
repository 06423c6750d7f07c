"""Velero for one lab cluster: CRDs, namespace, backup storage location, and `velero server`.

The server runs outside the cluster against the cluster's kubeconfig, with velero-plugin-for-aws
in its plugin folder, and reads the S3 credentials from a shared-credentials file in the lab
state. Both clusters' locations point at the same bucket and prefix, so a backup made on the
source appears on the destination through backup sync.
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import kube
import procs
import yaml
from cluster import Cluster

NAMESPACE = "velero"
LOCATION = "default"
# Short periods keep tests quick: a new backup in the bucket shows up within seconds.
SYNC_PERIOD = "5s"
VALIDATION_FREQUENCY = "10s"


@dataclass
class VeleroS3:
    endpoint: str
    bucket: str
    prefix: str
    region: str
    credentials_file: Path


@dataclass
class VeleroServer:
    cluster: Cluster
    velero_bin: str
    version: str
    plugin_dir: str
    metrics_port: int
    profiler_port: int
    s3: VeleroS3

    @property
    def process_name(self) -> str:
        return self.cluster.process("velero")

    def install(self, client) -> None:
        """Apply Velero's own CRDs (as its CLI prints them), the namespace and the location."""
        printed = subprocess.run([self.velero_bin, "install", "--crds-only", "--dry-run", "-o", "yaml"],
                                 capture_output=True, text=True, check=False)
        if printed.returncode != 0:
            raise procs.LabError(f"velero install --crds-only --dry-run failed: {printed.stderr}")
        docs = [doc for doc in yaml.safe_load_all(printed.stdout) if doc]
        kube.apply_all(client, docs)
        names = [item["metadata"]["name"] for doc in docs for item in doc.get("items", [doc])
                 if item.get("kind") == "CustomResourceDefinition"]
        kube.wait_crds_established(client, names)
        kube.ensure_namespace(client, NAMESPACE)
        kube.apply(client, self.location())
        kube.create_if_missing(client, self.placeholder_deployment())

    def placeholder_deployment(self) -> dict:
        """A scaled-to-zero `velero` Deployment: the server runs outside the cluster, but restore
        actions read the server's image from this Deployment and fail every restore without it."""
        labels = {"component": "velero", "deploy": "velero"}
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "velero", "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "replicas": 0, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                    "name": "velero", "image": f"velero/velero:{self.version}",
                    "command": ["/velero"], "args": ["server"]}]}},
            },
        }

    def location(self) -> dict:
        return {
            "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": LOCATION, "namespace": NAMESPACE},
            "spec": {
                "provider": "aws", "default": True, "accessMode": "ReadWrite",
                "objectStorage": {"bucket": self.s3.bucket, "prefix": self.s3.prefix},
                "config": {"region": self.s3.region, "s3ForcePathStyle": "true",
                           "s3Url": self.s3.endpoint},
            },
        }

    def start(self) -> None:
        if procs.running_pid(self.cluster.state, self.process_name) is None:
            tmp = self.cluster.root / "velero-tmp"
            tmp.mkdir(parents=True, exist_ok=True)
            procs.start(self.cluster.state, self.process_name, [
                self.velero_bin, "server", "--kubeconfig", str(self.cluster.kubeconfig),
                "--namespace", NAMESPACE, "--plugin-dir", self.plugin_dir,
                "--metrics-address", f"127.0.0.1:{self.metrics_port}",
                "--profiler-address", f"127.0.0.1:{self.profiler_port}",
                "--backup-sync-period", SYNC_PERIOD,
                "--store-validation-frequency", VALIDATION_FREQUENCY,
                "--default-backup-storage-location", LOCATION, "--log-level", "info",
            ], env={
                "AWS_SHARED_CREDENTIALS_FILE": str(self.s3.credentials_file),
                # Velero writes location credentials below TMPDIR; keep the two servers apart.
                "TMPDIR": str(tmp), "VELERO_NAMESPACE": NAMESPACE,
            })
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        procs.wait_until(lambda: procs.http_ok(url), f"serve metrics on {url}", 90,
                         self.cluster.state, self.process_name)

    def wait_location_available(self, client, timeout: float = 90) -> None:
        locations = kube.resource_for(client, "velero.io/v1", "BackupStorageLocation")
        deadline = time.monotonic() + timeout
        phase = None
        while time.monotonic() < deadline:
            status = locations.get(name=LOCATION, namespace=NAMESPACE).to_dict().get("status") or {}
            phase = status.get("phase")
            if phase == "Available":
                return
            if procs.running_pid(self.cluster.state, self.process_name) is None:
                break
            time.sleep(1)
        log = procs.log_file(self.cluster.state, self.process_name)
        raise procs.LabError(f"{self.cluster.name}: BackupStorageLocation {LOCATION} is {phase!r}, "
                             f"not Available, after {timeout:.0f} s; log: {log}\n{procs.tail(log)}")

    def stop(self) -> None:
        procs.stop(self.cluster.state, self.process_name)
