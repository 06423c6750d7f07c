"""What an action sees besides the item: the Velero Backup/Restore, cluster facts, look-ups."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .cluster import discover_registry_hostname, discover_server_version
from .lookups import Lookup, SnapshotLookup
from .objects import namespace_mapping

# Copies a list of image_plan.ImageCopy and returns one result per copy (.digest, .status, .error).
ImageCopier = Callable[[list], list]


class ClusterFacts:
    """Server version and internal registry of one cluster, discovered on first use when not given."""

    def __init__(self, server_version: str | None = None, registry_hostname: str | None = None,
                 lookup: Lookup | None = None) -> None:
        self._server_version = server_version
        self._registry_hostname = registry_hostname
        self.lookup: Lookup = lookup if lookup is not None else SnapshotLookup()

    @property
    def server_version(self) -> str:
        if self._server_version is None:
            self._server_version = discover_server_version(self.lookup)
        return self._server_version

    @property
    def registry_hostname(self) -> str:
        if self._registry_hostname is None:
            self._registry_hostname = discover_registry_hostname(self.lookup, self._server_version)
        return self._registry_hostname


def facts_from_dict(cluster: dict | None) -> ClusterFacts:
    """Facts from the filter contract: server_version, registry_hostname, objects (all optional)."""
    cluster = cluster or {}
    version = cluster.get("server_version")
    registry = cluster.get("registry_hostname")
    return ClusterFacts(
        server_version=str(version) if version is not None else None,
        registry_hostname=str(registry) if registry is not None else None,
        lookup=SnapshotLookup(cluster.get("objects") or [], cluster.get("version")),
    )


@dataclass
class BackupContext:
    backup: dict
    cluster: ClusterFacts
    image_copier: ImageCopier | None = None
    # In-image registry host -> address this machine reaches it at (a route, a port-forward).
    registry_addresses: dict[str, str] | None = None
    planned_copies: list = field(default_factory=list)

    @property
    def velero_object(self) -> dict:
        return self.backup


@dataclass
class RestoreContext:
    restore: dict
    cluster: ClusterFacts
    backup: dict | None = None
    image_copier: ImageCopier | None = None
    registry_addresses: dict[str, str] | None = None
    planned_copies: list = field(default_factory=list)
    item_from_backup: dict = field(default_factory=dict)

    @property
    def velero_object(self) -> dict:
        return self.restore

    @property
    def mapping(self) -> dict[str, str]:
        return namespace_mapping(self.restore)

    def for_item(self, item_from_backup: dict) -> "RestoreContext":
        # A shallow copy shares planned_copies and the facts; only the item from the backup differs.
        # Made directly rather than by copy.copy, which costs several times more per item.
        per_item = object.__new__(type(self))
        vars(per_item).update(vars(self))
        per_item.item_from_backup = item_from_backup
        return per_item


def address_of(ctx: Any, registry: str) -> str:
    """Where to reach ``registry`` from here; itself unless the caller mapped it."""
    return (ctx.registry_addresses or {}).get(registry, registry)
