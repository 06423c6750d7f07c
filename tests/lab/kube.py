"""Apply manifests to a lab cluster with the kubernetes Python client (no kubectl needed).

Objects are server-side applied, so running the lab setup twice changes nothing; ``status`` is
written afterwards through the status subresource, because OpenShift objects in the lab carry
the status OpenShift would have given them (ImageStream tags, Build phases).
"""
from __future__ import annotations

import time
from pathlib import Path

import yaml
from kubernetes import config
from kubernetes.client import ApiClient
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

FIELD_MANAGER = "openshift-migration-velero-lab"


def dynamic_client(kubeconfig: Path) -> DynamicClient:
    api_client: ApiClient = config.new_client_from_config(config_file=str(kubeconfig))
    return DynamicClient(api_client)


def load_documents(path: Path, substitutions: dict[str, str] | None = None) -> list[dict]:
    """YAML documents of a file, with ${NAME} placeholders replaced first."""
    text = path.read_text()
    for name, value in (substitutions or {}).items():
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        raise ValueError(f"{path}: unreplaced placeholder near {text[text.index('${'):][:40]!r}")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def resource_for(client: DynamicClient, api_version: str, kind: str, retries: int = 20):
    """The API resource of a kind; waits for discovery to list a kind that was just defined."""
    for attempt in range(retries):
        try:
            return client.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            if attempt == retries - 1:
                raise
            client.resources.invalidate_cache()
            time.sleep(0.5)
    raise AssertionError("unreachable")


def apply(client: DynamicClient, doc: dict) -> dict:
    """Server-side apply one object, then its status (if any); return the stored object."""
    resource = resource_for(client, doc["apiVersion"], doc["kind"])
    metadata = doc["metadata"]
    namespace = metadata.get("namespace") if resource.namespaced else None
    status = doc.get("status")
    body = {k: v for k, v in doc.items() if k != "status"}
    stored = resource.server_side_apply(body=body, name=metadata["name"], namespace=namespace,
                                        field_manager=FIELD_MANAGER, force_conflicts=True)
    if status and "status" in resource.subresources:
        path = resource.path(name=metadata["name"], namespace=namespace) + "/status"
        stored = client.request("patch", path, body={"status": status},
                                content_type="application/merge-patch+json")
    return stored.to_dict()


def create_if_missing(client: DynamicClient, doc: dict) -> None:
    """Create an object unless one of that name exists (whoever made it, whatever it holds)."""
    resource = resource_for(client, doc["apiVersion"], doc["kind"])
    namespace = doc["metadata"].get("namespace") if resource.namespaced else None
    try:
        resource.get(name=doc["metadata"]["name"], namespace=namespace)
    except NotFoundError:
        resource.create(body=doc, namespace=namespace)


def apply_all(client: DynamicClient, docs: list[dict]) -> None:
    for doc in docs:
        if doc.get("kind") == "List":
            apply_all(client, doc.get("items") or [])
            continue
        apply(client, doc)


def wait_crds_established(client: DynamicClient, names: list[str], timeout: float = 60) -> None:
    crds = client.resources.get(api_version="apiextensions.k8s.io/v1",
                                kind="CustomResourceDefinition")
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            try:
                conditions = crds.get(name=name).to_dict().get("status", {}).get("conditions") or []
            except NotFoundError:
                continue
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"CRDs not established within {timeout:.0f} s: {sorted(pending)}")
        time.sleep(0.3)
    client.resources.invalidate_cache()


def ensure_namespace(client: DynamicClient, name: str) -> None:
    apply(client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
