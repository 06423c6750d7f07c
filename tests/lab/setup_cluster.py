"""What goes into a running lab cluster: OpenShift CRDs and platform objects, Velero, and the
sample application (with its images pushed to the cluster's internal registry)."""
from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import kube
import openshift_crds
from cluster import Cluster
from images import ImageBuilder
from procs import LabError
from registries import Registry
from velero_lab import VeleroS3, VeleroServer

LAB_DIR = Path(__file__).resolve().parent
SAMPLE_NAMESPACE = "sample-app"
# Images pushed to the source registry for the sample application: (repository, tag).
SAMPLE_IMAGES = {
    "FRONTEND_LATEST": ("sample-app/frontend", "latest"),
    "FRONTEND_V1": ("sample-app/frontend", "v1"),
    "BACKEND_LATEST": ("sample-app/backend", "latest"),
}


def push_image(registry: Registry, work: Path, repository: str, tag: str) -> str:
    """Build repository:tag as an OCI layout and push it to registry; return the digest."""
    options: dict = {"tls_verify": False}
    if registry.tls:
        # skopeo reads *.crt in a cert dir as CAs; the CA folder also holds a key, so copy.
        cert_dir = work / "certs" / registry.address.replace(":", "_")
        cert_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(registry.ca_file, cert_dir / "ca.crt")
        options = {"tls_verify": True, "cert_dir": str(cert_dir)}
    builder = ImageBuilder(work / "layouts")
    name = repository.replace("/", "_")
    return builder.push(name, tag, f"docker://{registry.address}/{repository}:{tag}", **options)


def install_platform(cluster: Cluster, registry: Registry, work: Path,
                     openshift_version: str) -> str:
    """OpenShift CRDs, ClusterVersion, registry Config and openshift/cli; return cli's digest."""
    client = kube.dynamic_client(cluster.kubeconfig)
    crds = openshift_crds.all_crds()
    kube.apply_all(client, crds)
    kube.wait_crds_established(client, [crd["metadata"]["name"] for crd in crds])
    digest = push_image(registry, work, "openshift/cli", "latest")
    cluster_id = hashlib.sha256(cluster.name.encode()).hexdigest()
    substitutions = {
        "REGISTRY": registry.address, "CLI_LATEST": digest,
        "OPENSHIFT_VERSION": openshift_version,
        "OPENSHIFT_MINOR": ".".join(openshift_version.split(".")[:2]),
        "CLUSTER_ID": f"{cluster_id[:8]}-{cluster_id[8:12]}-{cluster_id[12:16]}-"
                      f"{cluster_id[16:20]}-{cluster_id[20:32]}",
    }
    kube.apply_all(client, kube.load_documents(LAB_DIR / "platform.yaml", substitutions))
    return digest


def velero_server(cluster: Cluster, bins: dict, ports: tuple[int, int], s3, bucket: str,
                  prefix: str, credentials: Path) -> VeleroServer:
    return VeleroServer(cluster=cluster, velero_bin=bins["velero"], version=bins["velero-version"],
                        plugin_dir=bins["velero-plugin-dir"], metrics_port=ports[0],
                        profiler_port=ports[1],
                        s3=VeleroS3(endpoint=s3.endpoint, bucket=bucket, prefix=prefix,
                                    region=s3.region, credentials_file=credentials))


def install_velero(server: VeleroServer) -> None:
    client = kube.dynamic_client(server.cluster.kubeconfig)
    server.install(client)
    server.start()
    server.wait_location_available(client)


def install_sample_app(cluster: Cluster, registry: Registry, work: Path, manifests: Path,
                       cli_digest: str) -> dict:
    """Push the sample images, apply tests/lab/sample-app/*.yaml; return what tests need."""
    digests = {key: push_image(registry, work, repository, tag)
               for key, (repository, tag) in SAMPLE_IMAGES.items()}
    substitutions = {"REGISTRY": registry.address, "CLI_LATEST": cli_digest, **digests}
    client = kube.dynamic_client(cluster.kubeconfig)
    for path in sorted(manifests.glob("*.yaml")):
        kube.apply_all(client, kube.load_documents(path, substitutions))
    adopt(client, "v1", "ReplicationController", "apps.openshift.io/v1", "DeploymentConfig",
          "openshift.io/deployment-config.name")
    adopt(client, "build.openshift.io/v1", "Build", "build.openshift.io/v1", "BuildConfig",
          "openshift.io/build-config.name")
    wait_claims_bound(client)
    images = {f"{repo}:{tag}": f"{registry.address}/{repo}@{digests[key]}"
              for key, (repo, tag) in SAMPLE_IMAGES.items()}
    images["openshift/cli:latest"] = f"{registry.address}/openshift/cli@{cli_digest}"
    return {"namespace": SAMPLE_NAMESPACE, "registry": registry.address, "images": images,
            "manifests": str(manifests)}


def wait_claims_bound(client, timeout: float = 90) -> None:
    """Wait for the controller manager to bind the sample's claims (it syncs every 15 s): Velero
    adds a claim's PersistentVolume to a backup only once the claim is Bound."""
    claims = kube.resource_for(client, "v1", "PersistentVolumeClaim")
    deadline = time.monotonic() + timeout
    while True:
        pending = [c["metadata"]["name"] for c in claims.get(namespace=SAMPLE_NAMESPACE).to_dict()["items"]
                   if (c.get("status") or {}).get("phase") != "Bound"]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise LabError(f"claims {pending} in {SAMPLE_NAMESPACE} not Bound after {timeout:.0f} s; "
                           "see the source controller-manager log")
        time.sleep(1)


def adopt(client, child_version: str, child_kind: str, owner_version: str, owner_kind: str,
          owner_label: str) -> None:
    """Give children the owner reference OpenShift's controllers set (it needs the owner's uid)."""
    children = kube.resource_for(client, child_version, child_kind)
    owners = kube.resource_for(client, owner_version, owner_kind)
    for child in children.get(namespace=SAMPLE_NAMESPACE).to_dict()["items"]:
        owner_name = (child["metadata"].get("labels") or {}).get(owner_label)
        if not owner_name:
            continue
        owner = owners.get(name=owner_name, namespace=SAMPLE_NAMESPACE).to_dict()
        reference = {"apiVersion": owner_version, "kind": owner_kind, "name": owner_name,
                     "uid": owner["metadata"]["uid"], "controller": True,
                     "blockOwnerDeletion": True}
        children.patch(name=child["metadata"]["name"], namespace=SAMPLE_NAMESPACE,
                       body={"metadata": {"ownerReferences": [reference]}},
                       content_type="application/merge-patch+json")
