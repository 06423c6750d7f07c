# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a transform did: counts per resource kind and one record per changed, skipped or added item.

Item records go to a private spool file as they come, so a report on a very large archive
never sits in memory. A changed item's record holds both versions; its diff is made when the
record is read, so diffs cost only what a result or a report file actually shows (those of the
first records may be made ahead, while the archive pass waits: see prepare_diff).
"""
from __future__ import annotations

import collections
import itertools
import json
import os
import struct
import tempfile
from typing import Any, Iterator

from . import jsoncodec

STATUSES = ("kept", "changed", "skipped", "added")
# A spool record: the lengths of its three parts, then the item's entry as JSON and both versions
# as they are, so that recording never encodes an item a second time.
_LENGTHS = struct.Struct("<III")
# Item versions held for diffs made ahead (prepare_diff), at most: the rest are made when read.
_AHEAD_BYTES = 4 << 20


def _diff(before: bytes, after: bytes, resource: str, namespace: str, name: str) -> str:
    from .item_diff import item_diff  # loaded only by runs that show diffs
    where = f"{namespace}/{name}" if namespace else name
    return item_diff(jsoncodec.loads(before), jsoncodec.loads(after), f"{resource} {where}")


class TransformReport:
    def __init__(self, diffs_ahead: int = 0) -> None:
        """``diffs_ahead``: how many of the first records may have their diffs made before they
        are read, in time the archive pass would spend waiting (see prepare_diff)."""
        self.kinds: dict[str, dict[str, int]] = {}
        # namespace ("" for cluster-scoped items) -> resource -> status -> count
        self.namespaces: dict[str, dict[str, dict[str, int]]] = {}
        self.warnings: list[str] = []
        self.planned_copies: list[dict] = []
        self.info: dict[str, Any] = {}
        handle, self._spool_path = tempfile.mkstemp(prefix="backup-transform-report-", suffix=".spool")
        self._spool = os.fdopen(handle, "w+b", buffering=1 << 20)
        self.records = 0
        self._diffs_ahead = diffs_ahead
        self._to_diff: collections.deque[tuple] = collections.deque()  # (record number, diff arguments)
        self._to_diff_bytes = 0
        self._diffs: dict[int, str] = {}  # record number -> diff made ahead

    def count(self, resource: str, status: str) -> None:
        counts = self.kinds.get(resource)
        if counts is None:
            counts = self.kinds[resource] = dict.fromkeys(STATUSES, 0)
        counts[status] += 1

    def record(self, resource: str, namespace: str, name: str, status: str, actions: list[str],
               before: bytes = b"", after: bytes = b"") -> None:
        """Count an item and, unless it was kept as is, remember what happened to it."""
        self.count(resource, status)
        per_kind = self.namespaces.setdefault(namespace, {})
        counts = per_kind.get(resource)
        if counts is None:
            counts = per_kind[resource] = dict.fromkeys(STATUSES, 0)
        counts[status] += 1
        if status == "kept":
            return
        for version in (before, after):  # item versions must be UTF-8 text, as in a report file
            if not version.isascii():
                version.decode("utf-8")
        entry = jsoncodec.dumps_record({"resource": resource, "namespace": namespace, "name": name,
                                        "status": status, "actions": actions})
        self._spool.write(_LENGTHS.pack(len(entry), len(before), len(after)) + entry + before + after)
        if before and after and self.records < self._diffs_ahead and self._to_diff_bytes < _AHEAD_BYTES:
            self._to_diff.append((self.records, (before, after, resource, namespace, name)))
            self._to_diff_bytes += len(before) + len(after)
        self.records += 1

    def prepare_diff(self) -> bool:
        """Make one of the diffs the first records will show; False when there is none to make."""
        if not self._to_diff:
            return False
        number, arguments = self._to_diff.popleft()
        self._to_diff_bytes -= len(arguments[0]) + len(arguments[1])
        self._diffs[number] = _diff(*arguments)
        return True

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(STATUSES, 0)
        for counts in self.kinds.values():
            for status in STATUSES:
                totals[status] += counts[status]
        return totals

    @property
    def changed_anything(self) -> bool:
        totals = self.totals
        return bool(totals["changed"] or totals["skipped"] or totals["added"])

    def items(self) -> Iterator[dict]:
        """The item records in archive order, each with the diff of the item's changes."""
        self._spool.flush()
        with open(self._spool_path, "rb") as spool:
            for number in itertools.count():
                lengths = spool.read(_LENGTHS.size)
                if not lengths:
                    return
                size, before_size, after_size = _LENGTHS.unpack(lengths)
                entry = jsoncodec.loads(spool.read(size))
                before, after = spool.read(before_size), spool.read(after_size)
                entry["diff"] = ""
                if number in self._diffs:
                    entry["diff"] = self._diffs[number]
                elif before and after:
                    entry["diff"] = _diff(before, after, entry["resource"], entry["namespace"], entry["name"])
                yield entry

    def summary(self) -> str:
        totals = self.totals
        return (f"{sum(totals.values())} items: {totals['kept']} kept, {totals['changed']} changed, "
                f"{totals['skipped']} skipped, {totals['added']} added; "
                f"{len(self.planned_copies)} image copies planned; {len(self.warnings)} warnings")

    def as_result(self, max_items: int) -> dict:
        """The part of the report a module returns: counts, and at most max_items item records."""
        items = list(itertools.islice(self.items(), max(max_items, 0)))  # diffs of these items only
        return {"summary": self.summary(), "totals": self.totals,
                "kinds": {name: dict(counts) for name, counts in sorted(self.kinds.items())},
                "namespaces": {namespace: {name: dict(counts) for name, counts in sorted(kinds.items())}
                               for namespace, kinds in sorted(self.namespaces.items())},
                "items": items, "items_total": self.records,
                "planned_copies": self.planned_copies, "warnings": list(self.warnings)}

    def write_files(self, json_path: str, markdown_path: str) -> None:
        """Write the JSON and the Markdown report in one pass over the item records."""
        with _replace(json_path) as as_json, _replace(markdown_path) as as_markdown:
            head = {"info": self.info, "summary": self.summary(), "totals": self.totals,
                    "kinds": {name: self.kinds[name] for name in sorted(self.kinds)},
                    "planned_copies": self.planned_copies, "warnings": self.warnings}
            as_json.write(json.dumps(head, indent=2, sort_keys=True)[:-2] + ',\n  "items": [')
            self._markdown_head(as_markdown)
            for number, entry in enumerate(self.items()):
                as_json.write(("," if number else "") + "\n    " + json.dumps(entry, sort_keys=True))
                self._markdown_item(as_markdown, entry)
            as_json.write("\n  ]\n}\n")

    def _markdown_head(self, out) -> None:
        out.write("# Backup transform report\n\n")
        for key, value in sorted(self.info.items()):
            out.write(f"- **{key}**: {value}\n")
        out.write(f"\n{self.summary()}\n\n## Items per resource\n\n")
        out.write("| resource | kept | changed | skipped | added |\n|---|---:|---:|---:|---:|\n")
        for name in sorted(self.kinds):
            counts = self.kinds[name]
            out.write(f"| {name} | " + " | ".join(str(counts[s]) for s in STATUSES) + " |\n")
        if self.warnings:
            out.write("\n## Warnings\n\n" + "".join(f"- {w}\n" for w in self.warnings))
        if self.planned_copies:
            out.write("\n## Image copies needed\n\n")
            out.write("".join(f"- `{c['src']}` -> `{c['dest']}`\n" for c in self.planned_copies))
        out.write("\n## Changed, skipped and added items\n")

    @staticmethod
    def _markdown_item(out, entry: dict) -> None:
        where = f"{entry['namespace']}/{entry['name']}" if entry["namespace"] else entry["name"]
        out.write(f"\n### {entry['status']}: {entry['resource']} {where}\n\n")
        out.write("Actions: " + (", ".join(entry["actions"]) or "none") + "\n")
        if entry["diff"]:
            out.write("\n```diff\n" + entry["diff"] + "```\n")

    def close(self) -> None:
        self._spool.close()
        if os.path.exists(self._spool_path):
            os.unlink(self._spool_path)


class _replace:
    """Write a text file next to its final path and rename it there only when complete."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __enter__(self):
        folder = os.path.dirname(os.path.abspath(self._path))
        handle, self._tmp = tempfile.mkstemp(dir=folder, prefix=".report-", suffix=".tmp")
        self._out = os.fdopen(handle, "w", encoding="utf-8")
        return self._out

    def __exit__(self, exc_type, exc, tb) -> None:
        self._out.close()
        if exc_type is None:
            os.chmod(self._tmp, 0o644)
            os.replace(self._tmp, self._path)
        else:
            os.unlink(self._tmp)
