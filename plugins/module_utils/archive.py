# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Streaming reader and writer of Velero backup archives (``<backup>.tar.gz``, format 1.1.0).

Entries are handled one at a time so that memory stays flat however large the archive is.
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator, NamedTuple

from ansible_collections.openshift_migration.velero.plugins.module_utils.item_index import OTHER_VERSION, PLAIN, PREFERRED
from ansible_collections.openshift_migration.velero.plugins.module_utils.tarstream import (
    ArchiveError,
    TarEntry,
    TarGzWriter,
    inflate_chunks,
    iter_tar,
)

SUPPORTED_FORMAT_VERSIONS = ("1.0.0", "1.1.0")
VERSION_ENTRY = "metadata/version"
PREFERRED_SUFFIX = "-preferredversion"
DEFAULT_COMPRESSLEVEL = 3

_ITEM_PATH = re.compile(
    r"^resources/(?P<resource>[^/]+)/(?:(?P<version>[^/]+)/)?"
    r"(?:namespaces/(?P<namespace>[^/]+)|(?P<cluster>cluster))/(?P<name>[^/]+)\.json$"
)


class ItemPath(NamedTuple):
    """Where one copy of an item sits in the archive (a tuple: cheap to make for every entry)."""

    resource: str  # group-resource as Velero names the folder: "pods", "deployments.apps"
    version_dir: str  # "" for the plain copy, "v1-preferredversion", or another version folder
    namespace: str  # "" for cluster-scoped items
    name: str

    @property
    def is_plain(self) -> bool:
        return not self.version_dir

    @property
    def is_preferred(self) -> bool:
        return self.version_dir.endswith(PREFERRED_SUFFIX)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.resource, self.namespace, self.name)

    @property
    def variant(self) -> int:
        """Which copy this is, as the item index counts them."""
        if self.is_plain:
            return PLAIN
        return PREFERRED if self.is_preferred else OTHER_VERSION

    def render(self) -> str:
        parts = ["resources", self.resource]
        if self.version_dir:
            parts.append(self.version_dir)
        parts += ["namespaces", self.namespace] if self.namespace else ["cluster"]
        return "/".join(parts) + "/" + self.name + ".json"

    def describe(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.resource} {where}"


_new_tuple = tuple.__new__
# Folder of an item's file -> (resource, version folder, namespace), or None when files there are
# no items: an archive has few folders, each with many files. Bounded, for archives with very many.
_FOLDERS: dict[str, tuple[str, str, str] | None] = {}
_FOLDERS_KEPT = 4096


def parse_item_path(path: str) -> ItemPath | None:
    """Return the item location of ``path``, or None when the entry is not an item."""
    folder, _slash, file = path.rpartition("/")
    if file[-5:] != ".json" or len(file) == 5:
        return _parse(path)
    # The regular expression matches a folder the same way whatever <name>.json file is in it,
    # so its answer for the folder is kept: this runs for every entry.
    where = _FOLDERS.get(folder, False)
    if where is False:
        if len(_FOLDERS) >= _FOLDERS_KEPT:
            _FOLDERS.clear()
        probe = _parse(folder + "/item.json")
        where = _FOLDERS[folder] = None if probe is None else probe[:3]
    return None if where is None else _new_tuple(ItemPath, where + (file[:-5],))


def _parse(path: str) -> ItemPath | None:
    match = _ITEM_PATH.match(path)
    if not match:
        return None
    resource, version, namespace, _cluster, name = match.groups()
    # tuple.__new__ skips the Python-level __new__ of the named tuple.
    return _new_tuple(ItemPath, (resource, version or "", namespace or "", name))


def check_format_version(data: bytes) -> str:
    """Return the archive's format version; raise when this reader does not know it."""
    version = data.decode("utf-8", "replace").strip()
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise ArchiveError(
            f"unknown backup format version {version!r} in {VERSION_ENTRY}"
            f" (supported: {', '.join(SUPPORTED_FORMAT_VERSIONS)})"
        )
    return version


def iter_entries(source: BinaryIO, label: str = "archive") -> Iterator[TarEntry]:
    """Yield the regular files of a Velero archive one at a time, in archive order."""
    return iter_tar(inflate_chunks(source, label), label)


class ArchiveWriter(TarGzWriter):
    """Write entries as a Velero-readable tar.gz whose bytes depend only on the entries.

    The codec's own add() is this writer's: it runs for every entry, with no call in between."""

    def __init__(self, target: BinaryIO, compresslevel: int = DEFAULT_COMPRESSLEVEL) -> None:
        super().__init__(target.write, compresslevel)

    def __enter__(self) -> "ArchiveWriter":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
