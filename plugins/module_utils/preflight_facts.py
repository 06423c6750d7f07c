# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster facts the preflight learns on its way: the internal registry's hostname.

The preflight already holds each cluster's raw API and discovery, so reading the registry
hostname here spares the migration a separate cluster_info call per cluster.
"""
from __future__ import annotations

from typing import Any

from .cluster import discover_registry_hostname
from .errors import MigrationError


class ApiLookup:
    """The read side of ``lookups.Lookup`` over the preflight's raw API and its discovery."""

    def __init__(self, api: Any, kinds: list) -> None:
        self.api = api
        self.kinds = {(kind.group_version, kind.kind): kind for kind in kinds}

    def _path(self, api_version: str, kind: str, namespace: str | None, name: str | None = None) -> str | None:
        found = self.kinds.get((api_version, kind))
        return found.path(namespace, name) if found is not None else None

    def _read(self, path: str) -> dict | None:
        try:
            return self.api.get(path)
        except MigrationError as error:
            if getattr(error, "status", None) == 404:
                return None
            raise

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        path = self._path(api_version, kind, namespace, name)
        return self._read(path) if path else None

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        path = self._path(api_version, kind, namespace)
        answer = self._read(path) if path else None
        return list((answer or {}).get("items") or [])

    def server_version(self) -> dict | None:
        return self._read("/version")


def internal_registry(api: Any, kinds: list) -> str:
    """The registry host image references use; "" when the cluster has none.

    A look-up that fails (a 403 on the openshift ImageStreams, say) raises MigrationError: taking
    it for "no registry" would leave every image reference of the migration unrewritten.
    """
    try:
        return discover_registry_hostname(ApiLookup(api, kinds))
    except ValueError as error:  # an unreadable answer
        raise MigrationError(str(error)) from error
