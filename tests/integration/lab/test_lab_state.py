"""The lab's state file describes live endpoints, and the sample images really exist."""
from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest


def test_clusters_ready(lab, source, destination):
    for client in (source, destination):
        namespaces = client.resources.get(api_version="v1", kind="Namespace")
        names = {item["metadata"]["name"] for item in namespaces.get().to_dict()["items"]}
        assert {"openshift", "velero"} <= names


def test_openshift_imagestream_names_internal_registry(lab, source, destination):
    for name, client in (("source", source), ("destination", destination)):
        stream = client.resources.get(api_version="image.openshift.io/v1", kind="ImageStream").get(
            name="cli", namespace="openshift").to_dict()
        registry = lab["clusters"][name]["registry_hostname"]
        assert stream["status"]["dockerImageRepository"] == f"{registry}/openshift/cli"


def test_s3_endpoint_answers(lab):
    with urllib.request.urlopen(lab["s3"]["endpoint"] + "/minio/health/live", timeout=5) as reply:
        assert reply.status == 200


@pytest.mark.parametrize("image", ["sample-app/frontend:latest", "sample-app/frontend:v1",
                                   "sample-app/backend:latest", "openshift/cli:latest"])
def test_sample_images_in_source_registry(lab, image):
    reference = lab["sample"]["images"][image]
    result = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                             f"docker://{reference}"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["schemaVersion"] == 2
