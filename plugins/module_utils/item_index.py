# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An index of the items seen while streaming an archive, on disk when it is large.

Answering "is this item in the archive?" and "which items does the new backup hold?" needs
every item's key; past MEMORY_ROWS items an SQLite file in a private temporary folder keeps them
off the heap, so memory stays flat as archives grow (smaller archives never open it). Whether the
plain and preferred-version copies of an item match is checked as they stream by: they usually
follow each other, so only copies still waiting for their other half are held in memory.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from sys import intern
from typing import Iterator

PLAIN, PREFERRED, OTHER_VERSION = 0, 1, 2
_BATCH = 5000
# Rows held in memory before the index moves to its SQLite file (a few megabytes).
MEMORY_ROWS = 20000
# Copies waiting in memory for their other half; more go to disk, and are compared there at the end
# (archives whose copies are far apart, or that have no preferred-version copies at all).
WAITING_LIMIT = 10000


def _sealed(copy: tuple) -> tuple:
    """A waiting copy with the digest of its bytes in place of the bytes."""
    kept, written, number = copy
    return kept, hashlib.blake2b(written, digest_size=16).digest(), number


class ItemIndex:
    def __init__(self) -> None:
        self._dir: str | None = None
        self._db = None  # the SQLite connection, once the index is on disk
        # One row per plain copy (listed: kept), and per other copy unless it follows one of its item.
        self._rows: list[tuple] = []
        self._flush_at = MEMORY_ROWS
        self._keys: set | None = None  # of the rows in memory, once asked for
        self._diverging: list[tuple] = []  # (copy, resource, namespace, name) while in memory
        self._indexed = False
        # (resource, namespace, name) -> [plain copy, preferred copy], each (kept, digest, number) or None;
        # a copy is compared by its digest, or by its bytes while it is fresh (below)
        self._unmatched: dict[tuple[str, str, str], list] = {}
        self._copies = 0
        self._last_key: tuple[str, str, str] | None = None
        # The pair added last, whose copy still holds its bytes rather than their digest: most
        # copies are followed by their other half, and are compared by their bytes, never hashed.
        self._fresh: list | None = None

    def _database(self):
        """The SQLite file, created with what the index held in memory on first use."""
        if self._db is None:
            import sqlite3  # only archives past MEMORY_ROWS items (or far-apart copies) need it
            self._dir = tempfile.mkdtemp(prefix="backup-transform-index-")
            self._db = sqlite3.connect(os.path.join(self._dir, "items.db"))
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-4000", "temp_store=FILE"):
                self._db.execute(f"PRAGMA {pragma}")
            self._db.execute("CREATE TABLE items (resource TEXT, namespace TEXT, name TEXT, listed INTEGER,"
                             " gvk TEXT)")
            self._db.execute("CREATE TABLE diverging (copy INTEGER, resource TEXT, namespace TEXT, name TEXT)")
            self._db.execute("CREATE TABLE waiting (resource TEXT, namespace TEXT, name TEXT, variant INTEGER,"
                             " kept INTEGER, digest BLOB, copy INTEGER)")
            self._db.executemany("INSERT INTO diverging VALUES (?, ?, ?, ?)", self._diverging)
        return self._db

    def add(self, resource: str, namespace: str, name: str, variant: int, kept: bool,
            written: bytes, gvk: str) -> None:
        self.add_row((resource, namespace, name, variant, int(kept), gvk), written)

    def add_row(self, row: tuple, written: bytes) -> None:
        """add() with the item's fields as one tuple ("kept" as 0 or 1) and the bytes written."""
        resource, namespace, name, variant, kept, gvk = row
        key = (resource, namespace, name)
        copy = (kept, written, self._copies)
        self._copies += 1
        if variant == PLAIN or key != self._last_key:
            # Few resources, namespaces and kinds: one string of each is kept (rows stay small).
            self._rows.append((intern(resource), intern(namespace), name, kept if variant == PLAIN else 0, intern(gvk)))
            if self._keys is not None:
                self._keys.add(key)
            if len(self._rows) >= self._flush_at:
                self._flush()
        self._last_key = key
        if variant == OTHER_VERSION:
            return
        pair = self._unmatched.get(key)
        if pair is None:
            if self._fresh is not None:
                self._seal()
            if len(self._unmatched) >= WAITING_LIMIT:
                self._spill()
            self._unmatched[key] = [copy, None] if variant == PLAIN else [None, copy]
            self._fresh = self._unmatched[key]
            return
        if pair[variant] is not None:  # a repeated copy in one folder is not compared again
            return
        del self._unmatched[key]
        if pair is self._fresh:  # the usual case, one copy right after the other: bytes against bytes
            self._fresh = None
        else:  # the other copy waited with its digest
            copy = _sealed(copy)
        pair[variant] = copy
        plain, preferred = pair
        if plain[:2] != preferred[:2]:
            if self._db is None:
                self._diverging.append((plain[2], *key))
            else:
                self._db.execute("INSERT INTO diverging VALUES (?, ?, ?, ?)", (plain[2], *key))

    def _seal(self) -> None:
        """The fresh copy, waiting for its other half since the previous add(), keeps a digest of
        its bytes rather than the bytes: memory stays small however many copies wait."""
        self._fresh[:] = [copy if copy is None else _sealed(copy) for copy in self._fresh]
        self._fresh = None

    def _spill(self) -> None:
        if self._fresh is not None:
            self._seal()
        self._database().executemany("INSERT INTO waiting VALUES (?, ?, ?, ?, ?, ?, ?)",
                                     [(*key, variant, *copy) for key, pair in self._unmatched.items()
                                      for variant, copy in enumerate(pair) if copy is not None])
        self._unmatched.clear()

    def _flush(self) -> None:
        """Move the rows to the database; from then on they go there in batches."""
        self._database().executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)", self._rows)
        self._rows, self._keys, self._flush_at = [], None, _BATCH

    def contains(self, resource: str, namespace: str, name: str) -> bool:
        if self._db is None:
            if self._keys is None:
                self._keys = {row[:3] for row in self._rows}
            return (resource, namespace, name) in self._keys
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
        if self._db is None:  # no copy went to disk: every pair was compared in memory
            return [entry[1:] for entry in sorted(self._diverging)[:limit]]
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
        if self._db is None:  # sorted as SQLite sorts text: by code point
            yield from sorted((gvk, f"{namespace}/{name}" if namespace else name)
                              for _resource, namespace, name, listed, gvk in self._rows if listed)
            return
        self._flush()
        query = ("SELECT gvk, CASE namespace WHEN '' THEN name ELSE namespace || '/' || name END AS entry"
                 " FROM items WHERE listed = 1 ORDER BY gvk, entry")
        yield from self._db.execute(query)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            shutil.rmtree(self._dir, ignore_errors=True)
