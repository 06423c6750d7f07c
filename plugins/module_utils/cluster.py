"""Cluster facts the actions need: server version and internal registry host (plugin-spec §3.1, §3.2)."""
from __future__ import annotations

import json
import re

from .errors import DiscoveryError
from .images import registry_of
from .lookups import Lookup
from .objects import dig

_GIT_VERSION = re.compile(r"v[0-9]+\.[0-9]+\.")


def parse_server_version(version: dict) -> tuple[int, int]:
    """(major, minor) from a /version answer; falls back to gitVersion like the plugin."""
    try:
        return int(str(version.get("major"))), int(str(version.get("minor")).strip("+"))
    except (TypeError, ValueError):
        pass
    git_version = str(version.get("gitVersion") or "")
    if not _GIT_VERSION.search(git_version):
        raise DiscoveryError(f"gitVersion {git_version!r} does not match expected format")
    parts = git_version.split("v")[1].split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError) as error:
        raise DiscoveryError(f"gitVersion {git_version!r} does not match expected format") from error


def discover_server_version(lookup: Lookup) -> str:
    version = lookup.server_version()
    if not version:
        raise DiscoveryError("the cluster's server version is unknown: give cluster.server_version "
                             "(\"MAJOR.MINOR\") or connect to the cluster")
    major, minor = parse_server_version(version)
    return f"{major}.{minor}"


def discover_registry_hostname(lookup: Lookup, server_version: str | None = None) -> str:
    """The internal registry host as image references write it, "" when the cluster has none."""
    streams = lookup.list("image.openshift.io/v1", "ImageStream", "openshift")
    if streams:
        repository = dig(streams[0], "status", "dockerImageRepository", default="")
        if repository:
            return registry_of(repository)
    version = server_version or discover_server_version(lookup)
    major, minor_text = version.partition(".")[::2]
    minor = int(minor_text)
    if major != "1":
        raise DiscoveryError(f"server version {version} not supported. Must be 1.x")
    if minor < 7:
        raise DiscoveryError(f"Kubernetes version 1.{minor} not supported. Must be 1.7 or greater")
    if minor <= 11:
        service = lookup.get("v1", "Service", "docker-registry", "default")
        ports = dig(service, "spec", "ports", default=[])
        if not service or not ports:
            return ""
        return f"{dig(service, 'spec', 'clusterIP', default='')}:{ports[0].get('port')}"
    config = lookup.get("v1", "ConfigMap", "config", "openshift-apiserver")
    if config is None:
        # A plain Kubernetes cluster has no internal registry (the plugin fails here instead).
        return ""
    try:
        parsed = json.loads(dig(config, "data", "config.yaml", default="") or "{}")
    except ValueError as error:
        raise DiscoveryError(f"ConfigMap openshift-apiserver/config: config.yaml is not JSON: {error}") from error
    return str(dig(parsed, "imagePolicyConfig", "internalRegistryHostname", default="") or "")
