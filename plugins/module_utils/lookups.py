"""Cluster look-ups: one small interface, answered from a snapshot or from a live cluster.

Actions read the cluster only through ``get``/``list`` (and the PV backup action writes one
object back through ``update``), so the same action runs in a filter over a list of objects,
in a unit test, and against a real API server.
"""
from __future__ import annotations

import copy
from typing import Any, Protocol

from .errors import LookupFailed
from .labels import parse_equality_selector
from .resources import split_api_version


class Lookup(Protocol):
    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        ...

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | dict | None = None) -> list[dict]:
        ...

    def server_version(self) -> dict | None:
        ...

    def update(self, obj: dict) -> None:
        ...


def _selector_dict(selector: str | dict | None) -> dict[str, str]:
    return dict(selector) if isinstance(selector, dict) else parse_equality_selector(selector)


class SnapshotLookup:
    """Answers from a list of objects; anything not in the list is "not found"."""

    def __init__(self, objects: list[dict] | None = None, version: dict | None = None) -> None:
        self.objects = [obj for obj in (objects or []) if isinstance(obj, dict)]
        self.version = version
        self.updated: list[dict] = []

    @staticmethod
    def _same_type(obj: dict, api_version: str, kind: str) -> bool:
        # Versions differ between clusters and backups; group and kind identify the type.
        return (obj.get("kind") == kind
                and split_api_version(str(obj.get("apiVersion") or ""))[0] == split_api_version(api_version)[0])

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | dict | None = None) -> list[dict]:
        wanted = _selector_dict(label_selector)
        found = []
        for obj in self.objects:
            meta = obj.get("metadata") or {}
            if not self._same_type(obj, api_version, kind):
                continue
            if namespace is not None and (meta.get("namespace") or "") != namespace:
                continue
            labels = meta.get("labels") or {}
            if any(labels.get(key) != value for key, value in wanted.items()):
                continue
            found.append(obj)
        return found

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        for obj in self.list(api_version, kind, namespace or ""):
            if (obj.get("metadata") or {}).get("name") == name:
                return obj
        return None

    def server_version(self) -> dict | None:
        return self.version

    def update(self, obj: dict) -> None:
        meta = obj.get("metadata") or {}
        for index, existing in enumerate(self.objects):
            existing_meta = existing.get("metadata") or {}
            if (self._same_type(existing, str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))
                    and existing_meta.get("name") == meta.get("name")
                    and existing_meta.get("namespace") == meta.get("namespace")):
                self.objects[index] = obj
        self.updated.append(copy.deepcopy(obj))


class LiveLookup:
    """Answers from a live cluster through a kubernetes dynamic client (or kubernetes.core's)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def _resource(self, api_version: str, kind: str) -> Any:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.client.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            return None

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        from kubernetes.dynamic.exceptions import NotFoundError

        resource = self._resource(api_version, kind)
        if resource is None:
            return None
        try:
            found = self.client.get(resource, name=name, namespace=namespace or None)
        except NotFoundError:
            return None
        except Exception as error:
            raise LookupFailed(f"reading {kind} {namespace or ''}/{name} failed: {error}") from error
        return found.to_dict()

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | dict | None = None) -> list[dict]:
        resource = self._resource(api_version, kind)
        if resource is None:
            return []
        selector = label_selector
        if isinstance(selector, dict):
            selector = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
        try:
            found = self.client.get(resource, namespace=namespace or None, label_selector=selector or None)
        except Exception as error:
            raise LookupFailed(f"listing {kind} in {namespace or 'all namespaces'} failed: {error}") from error
        return found.to_dict().get("items") or []

    def server_version(self) -> dict | None:
        # A kubernetes DynamicClient answers /version itself; kubernetes.core's client wraps one.
        for candidate in (self.client, getattr(self.client, "client", None)):
            version = getattr(candidate, "version", None)
            if isinstance(version, dict):
                return version.get("kubernetes", version)
        return None

    def update(self, obj: dict) -> None:
        resource = self._resource(str(obj.get("apiVersion")), str(obj.get("kind")))
        if resource is None:
            raise LookupFailed(f"{obj.get('kind')} is not served by the cluster")
        try:
            self.client.replace(resource, body=obj, name=obj["metadata"]["name"],
                                namespace=obj["metadata"].get("namespace"))
        except Exception as error:
            raise LookupFailed(f"updating {obj.get('kind')} {obj['metadata'].get('name')} failed: {error}") from error
