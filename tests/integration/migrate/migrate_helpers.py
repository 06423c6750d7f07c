"""Reading the lab's clusters in the migration playbook tests."""
from __future__ import annotations

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError


def get(cluster: DynamicClient, api_version: str, kind: str, name: str, namespace: str | None = None):
    try:
        return cluster.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def names(cluster: DynamicClient, api_version: str, kind: str, namespace: str | None = None,
          label_selector: str = "") -> list[str]:
    listed = cluster.resources.get(api_version=api_version, kind=kind).get(
        namespace=namespace, label_selector=label_selector).to_dict()
    return sorted(item["metadata"]["name"] for item in listed["items"])
