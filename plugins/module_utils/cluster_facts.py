# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cluster_info module reports: version, OpenShift or not, registry, Velero and its locations."""
from __future__ import annotations

from typing import Any

from .cluster import discover_registry_hostname, discover_server_version
from .lookups import LiveLookup
from .objects import dig
from .velero import VELERO_API, cluster_of, namespace_exists, served_velero_kinds

# Served only by OpenShift's API servers (or, on the lab, by CRDs standing in for them).
OPENSHIFT_APIS = (("image.openshift.io/v1", "ImageStream"), ("apps.openshift.io/v1", "DeploymentConfig"))


def location_summary(location: dict) -> dict:
    """The parts of a BackupStorageLocation a playbook decides on."""
    storage = dig(location, "spec", "objectStorage", default={}) or {}
    return {
        "name": dig(location, "metadata", "name", default=""),
        "phase": dig(location, "status", "phase", default="Unknown"),
        "provider": dig(location, "spec", "provider", default=""),
        "bucket": storage.get("bucket", ""),
        "prefix": storage.get("prefix", ""),
        "config": dig(location, "spec", "config", default={}) or {},
        "default": bool(dig(location, "spec", "default", default=False)),
        "access_mode": dig(location, "spec", "accessMode", default="ReadWrite"),
        "last_validation_time": dig(location, "status", "lastValidationTime"),
    }


def openshift_version(cluster_version: dict | None) -> str | None:
    """The version a ClusterVersion reports: the desired one, else the latest in its history."""
    if not cluster_version:
        return None
    return dig(cluster_version, "status", "desired", "version") or dig(cluster_version, "status", "history", 0, "version")


def _served(client: Any, api_version: str, kind: str) -> bool:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        client.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        return False
    return True


def gather(client: Any, velero_namespace: str) -> dict:
    """Facts of the cluster behind a kubernetes.core client (read only)."""
    lookup = LiveLookup(client)
    version = lookup.server_version() or {}
    server_version = discover_server_version(lookup)
    cluster_version = lookup.get("config.openshift.io/v1", "ClusterVersion", "version")
    is_openshift = cluster_version is not None or any(_served(client, *api) for api in OPENSHIFT_APIS)
    crds = served_velero_kinds(client)
    ns_exists = namespace_exists(client, velero_namespace)
    locations = []
    if crds["BackupStorageLocation"] and ns_exists:
        locations = [location_summary(item) for item in lookup.list(VELERO_API, "BackupStorageLocation", velero_namespace)]
    return {
        "api_url": cluster_of(client),
        "server_version": server_version,
        "git_version": str(version.get("gitVersion") or ""),
        "openshift": is_openshift,
        "openshift_version": openshift_version(cluster_version),
        "registry_hostname": discover_registry_hostname(lookup, server_version),
        "velero": {
            "namespace": velero_namespace,
            "namespace_exists": ns_exists,
            "crds": crds,
            "installed": all(crds.values()) and ns_exists,
            "backup_storage_locations": sorted(locations, key=lambda bsl: bsl["name"]),
        },
    }
