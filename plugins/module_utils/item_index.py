# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A disk-backed index of the items seen while streaming an archive.

Answering "is this item in the archive?" and "which items does the new backup hold?" needs
every item's key; an SQLite file in a private temporary folder keeps that off the heap, so memory
stays flat as archives grow. Whether the plain and preferred-version copies of an item match is
checked as they stream by: they usually follow each other, so only copies still waiting for
their other half are held in memory.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from typing import Iterator

PLAIN, PREFERRED, OTHER_VERSION = 0, 1, 2
_BATCH = 5000
# Copies waiting in memory for their other half; more go to disk, and are compared there at the end
# (archives whose copies are far apart, or that have no preferred-version copies at all).
WAITING_LIMIT = 10000


class ItemIndex:
    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="backup-transform-index-")
        self._db = sqlite3.connect(os.path.join(self._dir, "items.db"))
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-4000", "temp_store=FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        # One row per plain copy (listed: kept), and per other copy unless it follows one of its item.
        self._db.execute("CREATE TABLE items (resource TEXT, namespace TEXT, name TEXT, listed INTEGER, gvk TEXT)")
        self._db.execute("CREATE TABLE diverging (copy INTEGER, resource TEXT, namespace TEXT, name TEXT)")
        self._db.execute("CREATE TABLE waiting (resource TEXT, namespace TEXT, name TEXT, variant INTEGER,"
                         " kept INTEGER, digest BLOB, copy INTEGER)")
        self._rows: list[tuple] = []
        self._indexed = False
        # (resource, namespace, name) -> [plain copy, preferred copy], each (kept, digest, number) or None
        self._unmatched: dict[tuple[str, str, str], list] = {}
        self._copies = 0
        self._last_key: tuple[str, str, str] | None = None

    def add(self, resource: str, namespace: str, name: str, variant: int, kept: bool,
            digest: bytes, gvk: str) -> None:
        self.add_row((resource, namespace, name, variant, int(kept), digest, gvk))

    def add_row(self, row: tuple) -> None:
        """add() with its arguments as one tuple, kept as given ("kept" as 0 or 1)."""
        resource, namespace, name, variant, kept, digest, gvk = row
        key = (resource, namespace, name)
        copy = (kept, digest, self._copies)
        self._copies += 1
        if variant == PLAIN:
            self._rows.append((resource, namespace, name, kept, gvk))
        elif key != self._last_key:
            self._rows.append((resource, namespace, name, 0, gvk))
        self._last_key = key
        if len(self._rows) >= _BATCH:
            self._flush()
        if variant == OTHER_VERSION:
            return
        pair = self._unmatched.get(key)
        if pair is None:
            if len(self._unmatched) >= WAITING_LIMIT:
                self._spill()
            self._unmatched[key] = [copy, None] if variant == PLAIN else [None, copy]
            return
        if pair[variant] is None:  # a repeated copy in one folder is not compared again
            pair[variant] = copy
        plain, preferred = pair
        if plain is not None and preferred is not None:
            del self._unmatched[key]
            if plain[:2] != preferred[:2]:
                self._db.execute("INSERT INTO diverging VALUES (?, ?, ?, ?)", (plain[2], *key))

    def _spill(self) -> None:
        self._db.executemany("INSERT INTO waiting VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(*key, variant, *copy) for key, pair in self._unmatched.items()
                              for variant, copy in enumerate(pair) if copy is not None])
        self._unmatched.clear()

    def _flush(self) -> None:
        if self._rows:
            self._db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)", self._rows)
            self._rows = []

    def contains(self, resource: str, namespace: str, name: str) -> bool:
        self._flush()
        if not self._indexed:
            self._db.execute("CREATE INDEX items_key ON items (resource, namespace, name)")
            self._indexed = True
        row = self._db.execute(
            "SELECT 1 FROM items WHERE resource = ? AND namespace = ? AND name = ? LIMIT 1",
            (resource, namespace, name)).fetchone()
        return row is not None

    def diverging_copies(self, limit: int = 5) -> list[tuple[str, str, str]]:
        """Items whose plain and preferred-version copies differ after the transform, in archive order."""
        self._spill()
        self._db.execute("CREATE INDEX IF NOT EXISTS waiting_key ON waiting (resource, namespace, name, variant)")
        return self._db.execute(
            "SELECT resource, namespace, name FROM (SELECT * FROM diverging UNION ALL"
            " SELECT a.copy, a.resource, a.namespace, a.name FROM waiting a JOIN waiting b"
            " ON a.resource = b.resource AND a.namespace = b.namespace AND a.name = b.name"
            " WHERE a.variant = 0 AND b.variant = 1 AND (a.digest IS NOT b.digest OR a.kept != b.kept))"
            " ORDER BY copy LIMIT ?", (limit,)).fetchall()

    def resource_list(self) -> Iterator[tuple[str, str]]:
        """(apiVersion/Kind, "ns/name" or "name") of kept items, as Velero's resource list sorts them."""
        self._flush()
        query = ("SELECT gvk, CASE namespace WHEN '' THEN name ELSE namespace || '/' || name END AS entry"
                 " FROM items WHERE listed = 1 ORDER BY gvk, entry")
        yield from self._db.execute(query)

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)
