# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A disk-backed index of the items seen while streaming an archive.

Answering "is this item in the archive?", "do both copies of every item match?" and
"which items does the new backup hold?" needs every item's key; an SQLite file in a private
temporary folder keeps that off the heap, so memory stays flat as archives grow.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from typing import Iterator

PLAIN, PREFERRED, OTHER_VERSION = 0, 1, 2
_BATCH = 5000


class ItemIndex:
    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="backup-transform-index-")
        self._db = sqlite3.connect(os.path.join(self._dir, "items.db"))
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-4000", "temp_store=FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE copies (resource TEXT, namespace TEXT, name TEXT, variant INTEGER,"
            " kept INTEGER, digest BLOB, gvk TEXT)")
        self._rows: list[tuple] = []
        self._indexed = False

    def add(self, resource: str, namespace: str, name: str, variant: int, kept: bool,
            digest: bytes, gvk: str) -> None:
        self.add_row((resource, namespace, name, variant, int(kept), digest, gvk))

    def add_row(self, row: tuple) -> None:
        """add() with its arguments as one tuple, kept as given ("kept" as 0 or 1)."""
        self._rows.append(row)
        if len(self._rows) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._db.executemany("INSERT INTO copies VALUES (?, ?, ?, ?, ?, ?, ?)", self._rows)
            self._rows = []

    def _ready(self) -> None:
        self._flush()
        if not self._indexed:
            self._db.execute("CREATE INDEX copies_key ON copies (resource, namespace, name, variant)")
            self._indexed = True

    def contains(self, resource: str, namespace: str, name: str) -> bool:
        self._ready()
        row = self._db.execute(
            "SELECT 1 FROM copies WHERE resource = ? AND namespace = ? AND name = ? LIMIT 1",
            (resource, namespace, name)).fetchone()
        return row is not None

    def diverging_copies(self, limit: int = 5) -> list[tuple[str, str, str]]:
        """Items whose plain and preferred-version copies differ after the transform."""
        self._ready()
        return self._db.execute(
            "SELECT a.resource, a.namespace, a.name FROM copies a JOIN copies b"
            " ON a.resource = b.resource AND a.namespace = b.namespace AND a.name = b.name"
            " WHERE a.variant = 0 AND b.variant = 1 AND (a.digest IS NOT b.digest OR a.kept != b.kept)"
            " LIMIT ?", (limit,)).fetchall()

    def resource_list(self) -> Iterator[tuple[str, str]]:
        """(apiVersion/Kind, "ns/name" or "name") of kept items, as Velero's resource list sorts them."""
        self._ready()
        query = ("SELECT gvk, CASE namespace WHEN '' THEN name ELSE namespace || '/' || name END AS entry"
                 " FROM copies WHERE variant = 0 AND kept = 1 ORDER BY gvk, entry")
        yield from self._db.execute(query)

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)
