"""Helpers of the image copy tests: registries, images, ImageStreams, running the module.

Registries are read through their HTTP API (RegistryClient), independently of the code under
test; the module runs as Ansible runs it, with its arguments in a JSON file.
"""
from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

COLLECTION_ROOT = Path(__file__).resolve().parents[3]
if str(COLLECTION_ROOT) not in sys.path:
    sys.path.insert(0, str(COLLECTION_ROOT))

from tests.lab.images import ImageBuilder, image_stream  # noqa: E402
from tests.lab.registries import Registry, start_registry  # noqa: E402

MODULE = "ansible_collections.openshift_migration.velero.plugins.modules.imagestream_copy"
# How the source cluster's images are named in ImageStreams; the source registry serves them.
INTERNAL = "image-registry.openshift-image-registry.svc:5000"
MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


class RegistryClient:
    """Reads a registry over its HTTP API, independently of the code under test."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def _get(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.registry.url}/v2/{path}", method=method,
                                         headers={"Accept": MANIFEST_TYPES})
        if self.registry.username:
            pair = f"{self.registry.username}:{self.registry.password}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        context = ssl.create_default_context(cafile=self.registry.ca_file) \
            if self.registry.tls else None
        return urllib.request.urlopen(request, timeout=10, context=context)

    def digest(self, repository: str, reference: str) -> str | None:
        """Digest of ``repository:reference`` (a tag or a digest), None when absent."""
        try:
            with self._get(f"{repository}/manifests/{reference}", method="HEAD") as response:
                return response.headers["Docker-Content-Digest"]
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def tags(self, repository: str) -> list[str]:
        try:
            with self._get(f"{repository}/tags/list") as response:
                return sorted(json.load(response).get("tags") or [])
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return []
            raise

    def repositories(self) -> list[str]:
        with self._get("_catalog") as response:
            return sorted(json.load(response).get("repositories") or [])


@dataclass
class Lab:
    source: Registry  # plain HTTP, plays the source cluster's internal registry
    migration: Registry  # htpasswd
    destination: Registry  # TLS with its own CA

    def client(self, registry: Registry) -> RegistryClient:
        return RegistryClient(registry)


def start_lab(root: Path) -> Lab:
    source = start_registry("source-internal", root)
    migration = start_registry("migration", root, htpasswd=True)
    destination = start_registry("destination-internal", root, tls=True)
    return Lab(source, migration, destination)


def src_auth(lab: Lab) -> dict:
    return {"tls_verify": False}


def migration_auth(lab: Lab, password: str | None = None) -> dict:
    return {"username": lab.migration.username, "password": password or lab.migration.password,
            "tls_verify": False}


def destination_auth(lab: Lab) -> dict:
    return {"ca_file": lab.destination.ca_file}


@dataclass
class SourceApp:
    """ImageStreams of the sample namespaces, their images pushed to the source registry."""

    streams: list[dict]
    digests: dict[str, str]  # "repo:tag" pushed -> digest


def push_source_app(lab: Lab, builder: ImageBuilder) -> SourceApp:
    """Images and streams covering the copy rules.

    * app/web: ``latest`` with a history of two images (v2 newest), ``v1`` with one;
    * app/api: ``latest``, and ``stable`` tracking ImageStreamTag web:latest (by digest only);
    * app/ruby-app: ``latest`` pulled through from openshift/ruby (another repository);
    * app/ext: ``nginx`` from docker.io (external, never copied);
    * shop/cart: ``latest``, in a second namespace.
    """
    pushed: dict[str, str] = {}

    def push(repository: str, tag: str) -> str:
        name = repository.replace("/", "-")
        digest = builder.push(name, tag, f"docker://{lab.source.address}/{repository}:{tag}",
                              tls_verify=False)
        pushed[f"{repository}:{tag}"] = digest
        return f"{INTERNAL}/{repository}@{digest}"

    web_v1, web_v2 = push("app/web", "v1"), push("app/web", "v2")
    api = push("app/api", "latest")
    ruby = push("openshift/ruby", "3.1")
    cart = push("shop/cart", "latest")
    external = "docker.io/library/nginx@sha256:" + "e" * 64
    streams = [
        image_stream("app", "web", {"latest": [web_v2, web_v1], "v1": [web_v1]},
                     internal_registry=INTERNAL),
        image_stream("app", "api", {"latest": [api], "stable": [web_v2]},
                     spec_tags={"stable": {"kind": "ImageStreamTag", "name": "web:latest"}},
                     internal_registry=INTERNAL),
        image_stream("app", "ruby-app", {"latest": [ruby]}, internal_registry=INTERNAL),
        image_stream("app", "ext", {"nginx": [external]},
                     spec_tags={"nginx": {"kind": "DockerImage", "name": "nginx:1.25"}},
                     internal_registry=INTERNAL),
        image_stream("shop", "cart", {"latest": [cart]}, internal_registry=INTERNAL),
    ]
    return SourceApp(streams, pushed)


def backup_args(lab: Lab, streams: list[dict], **extra) -> dict:
    return {"mode": "backup", "imagestreams": streams, "internal_registry": INTERNAL,
            "src_registry": lab.source.address, "src_auth": src_auth(lab),
            "dest_registry": lab.migration.address, "dest_auth": migration_auth(lab),
            "retry_delay": 0.05, **extra}


def restore_args(lab: Lab, streams: list[dict], **extra) -> dict:
    return {"mode": "restore", "imagestreams": streams, "internal_registry": INTERNAL,
            "src_registry": lab.migration.address, "src_auth": migration_auth(lab),
            "dest_registry": lab.destination.address, "dest_auth": destination_auth(lab),
            "retry_delay": 0.05, **extra}


def run_module(args: dict, tmp_path: Path, check_mode: bool = False) -> dict:
    """Run the module as Ansible does (arguments in a JSON file); return its result."""
    args_file = tmp_path / "module-args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**args,
                                                             "_ansible_check_mode": check_mode}}))
    scratch = tmp_path / "module-tmp"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    process = subprocess.run([sys.executable, "-m", MODULE, str(args_file)], env=env,
                             capture_output=True, text=True, check=False, timeout=600)
    args_file.unlink()
    try:
        result = json.loads(process.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"module printed no JSON (rc {process.returncode}): "
                    f"{process.stdout}\n{process.stderr}")
    # Credential files are private temporary files, gone once the module ends.
    assert list(scratch.iterdir()) == [], list(scratch.iterdir())
    return result
