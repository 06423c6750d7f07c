# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the backup and/or restore actions over every item of a Velero archive, streaming.

Velero stores each item twice (plain folder and ``<version>-preferredversion``), usually one
right after the other. The transform of an item depends only on its bytes and the contexts,
so both copies come out identical; a small cache keyed by the item's bytes saves running the
actions twice, and the index checks at the end that no two copies diverged.
"""
from __future__ import annotations

import itertools
import os
import stat
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Collection

from . import jsoncodec
from .archive import (PREFERRED_SUFFIX, VERSION_ENTRY, ArchiveError, ArchiveWriter, ItemPath, check_format_version,
                      iter_entries, parse_item_path)
from .context import BackupContext, RestoreContext
from .item_index import PLAIN, ItemIndex
from .report import TransformReport
from .resources import parse_resource
from .transform_worker import ItemWorker, wants_worker
from .volume_mapping import VOLUME_RESOURCES, VolumeMapping, map_volume

# Kinds that backup actions name as additional items, for archives that hold none of them.
_ADDITIONAL_KINDS = {
    "securitycontextconstraints.security.openshift.io": ("security.openshift.io/v1", "SecurityContextConstraints"),
    "imagestreamtags.image.openshift.io": ("image.openshift.io/v1", "ImageStreamTag"),
}
# Kinds a final migration's quiesce scales down or suspends.
QUIESCED_RESOURCES = frozenset({
    "deploymentconfigs.apps.openshift.io", "deployments.apps", "statefulsets.apps", "replicasets.apps",
    "replicationcontrollers", "cronjobs.batch"})
VOLUME_MAPPING_STEP = "volume-mapping"
RESUME_STEP = "resume-quiesced-workload"
_CACHE_SIZE = 64
_PROGRESS_EVERY = 10.0  # seconds between progress lines


@dataclass
class Outcome:
    data: bytes | None  # None: the item is removed from the archive
    status: str  # kept, changed or skipped
    actions: list[str]
    additional: list[dict]
    gvk: str


@dataclass
class TransformSettings:
    backup_ctx: BackupContext | None = None
    restore_ctx: RestoreContext | None = None
    disabled: Collection[str] = ()
    progress: Callable[[str], None] | None = None
    volume_mapping: VolumeMapping = field(default_factory=VolumeMapping)
    resume_workloads: bool = False
    # Transform the items of large archives on a second core (see transform_worker.py).
    parallel: bool = True


@dataclass
class TransformStats:
    entries_in: int = 0
    entries_out: int = 0
    format_version: str = ""
    seconds: float = 0.0
    seen_resources: dict[str, tuple[str, str]] = field(default_factory=dict)


class ItemTransformer:
    """Transforms one item copy; identical copies of one item share one run of the actions."""

    def __init__(self, settings: TransformSettings) -> None:
        self.settings = settings
        self._cache: OrderedDict[tuple, Outcome] = OrderedDict()
        self._phases_for: dict[str, tuple[bool, bool]] = {}
        # The actions are loaded on first use (_phases): when the forked worker transforms every
        # item, the main process never loads them and the worker does, beside the main process.
        self._runner: Any = None
        self._registry: Any = None
        self._quiesce: Any = None
        self._disabled = self._load().normalise_disabled(settings.disabled) if settings.disabled else frozenset()

    def load_actions(self) -> None:
        """Load the actions now rather than for the first item."""
        self._load()

    def _load(self) -> Any:
        """The action runner, loaded with the action registry and the workload resume."""
        if self._runner is None:
            from . import quiesce, runner
            from .actions import registry
            self._runner, self._registry, self._quiesce = runner, registry, quiesce
        return self._runner

    def _phases(self, resource: str) -> tuple[bool, bool]:
        """Whether any enabled backup / restore action applies to ``resource``, so that items no
        action touches (events, endpoints, ...) skip the runner's per-item work entirely."""
        known = self._phases_for.get(resource)
        if known is None:
            target, runner, registry = parse_resource(resource), self._load(), self._registry

            def applies(*lists) -> bool:
                return any(action.name not in self._disabled
                           for actions in lists for action in runner.applicable_actions(actions, target))

            known = (self.settings.backup_ctx is not None
                     and applies(registry.BACKUP_ACTIONS, registry.ITEM_BLOCK_ACTIONS),
                     self.settings.restore_ctx is not None and applies(registry.RESTORE_ACTIONS))
            self._phases_for[resource] = known
        return known

    def _migration_steps(self, item: dict, resource: str, actions: list[str]) -> dict:
        """What a migration tool does to the archived items between the two phases: volume
        annotations from the mappings, and workloads given back the replicas they had before the
        final migration's quiesce (the source was backed up at zero)."""
        mapped = map_volume(item, resource, self.settings.volume_mapping)
        if mapped is not None:
            item = mapped
            actions.append(VOLUME_MAPPING_STEP)
        if self.settings.resume_workloads and resource in QUIESCED_RESOURCES:
            resumed = self._quiesce.resume_workload(item)
            if resumed is not None:
                item = resumed
                actions.append(RESUME_STEP)
        return item

    def inert(self, resource: str) -> bool:
        """Whether nothing changes the items of ``resource`` (no enabled action and no migration
        step applies), so that transforming one is only parsing it: see record_inert()."""
        settings = self.settings
        return (self._phases(resource) == (False, False)
                and not (resource in VOLUME_RESOURCES and settings.volume_mapping)
                and not (settings.resume_workloads and resource in QUIESCED_RESOURCES))

    def record(self, path: ItemPath, raw: bytes) -> tuple:
        """What the archive pass keeps of one item copy: its index row, status, actions, additional
        items and new bytes; plain values, several times cheaper to send from a worker than objects."""
        outcome = self.transform(path, raw)
        row = (path.resource, path.namespace, path.name, path.variant, int(outcome.status != "skipped"), outcome.gvk)
        return row, outcome.status, outcome.actions, outcome.additional, outcome.data

    def record_inert(self, path: ItemPath, raw: bytes) -> tuple:
        """record() of an item whose resource is inert(), without the actions (nor loading them)."""
        row = (path.resource, path.namespace, path.name, path.variant, 1, _gvk(self._parse(path, raw)))
        return row, "kept", [], [], None

    def transform(self, path: ItemPath, raw: bytes) -> Outcome:
        key = (path.key, raw)
        outcome = self._cache.get(key)
        if outcome is None:
            outcome = self._run(path, raw)
            self._cache[key] = outcome
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return outcome

    def _run(self, path: ItemPath, raw: bytes) -> Outcome:
        original = self._parse(path, raw)
        # Parsing the bytes again gives an independent copy several times faster than copying objects.
        return self.transform_object(path, original, fresh=lambda: jsoncodec.loads(raw))

    @staticmethod
    def _parse(path: ItemPath, raw: bytes) -> dict:
        try:
            original = jsoncodec.loads(raw)
        except ValueError as exc:
            raise ArchiveError(f"item {path.render()} is not valid JSON: {exc}") from exc
        if not isinstance(original, dict):
            raise ArchiveError(f"item {path.render()} is not a JSON object")
        return original

    def transform_object(self, path: ItemPath, original: dict, fresh: Callable[[], dict] | None = None) -> Outcome:
        """``fresh`` returns a new copy of ``original`` for the actions to change in place."""
        settings = self.settings
        backup_applies, restore_applies = self._phases(path.resource)
        runner = self._runner
        fresh = fresh or (lambda: runner.copy_json(original))
        item, actions, additional = original, [], []
        if backup_applies:
            result = runner.run_backup_item(fresh(), settings.backup_ctx, resource=path.resource,
                                            disabled=settings.disabled, owned=True)
            item, actions, additional = result.item, list(result.actions), list(result.additional_items)
            if result.skip:
                return Outcome(None, "skipped", actions, additional, _gvk(original))
        item = self._migration_steps(item, path.resource, actions)
        if restore_applies:
            working = fresh() if item is original else jsoncodec.copy(item, runner.copy_json)
            result = runner.run_restore_item(working, settings.restore_ctx, item_from_backup=item,
                                             resource=path.resource, disabled=settings.disabled, owned=True)
            actions += result.actions
            if result.skip:
                return Outcome(None, "skipped", actions, additional, _gvk(original))
            item = result.item
        if item == original:
            return Outcome(None, "kept", actions, additional, _gvk(original))
        data = jsoncodec.dumps_compact(item)
        return Outcome(data, "changed", actions, additional, _gvk(item))


def _size_of(source: BinaryIO) -> int:
    """The size of a source that is a regular file; 0 for a stream of unknown length."""
    try:
        status = os.fstat(source.fileno())
    except (AttributeError, OSError, ValueError):  # no file descriptor (io.BytesIO, a download)
        return 0
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


def _gvk(item: dict) -> str:
    return f"{item.get('apiVersion', '')}/{item.get('kind', '')}"


class ArchiveTransform:
    """One pass over an archive: transform, write, count; then add the missing additional items."""

    def __init__(self, settings: TransformSettings, report: TransformReport, index: ItemIndex) -> None:
        self.settings = settings
        self.report = report
        self.index = index
        self.items = ItemTransformer(settings)
        self.stats = TransformStats()
        self._wanted: list[dict] = []
        self._last_progress = time.monotonic()

    def run(self, source: BinaryIO, writer: ArchiveWriter, label: str, fetch: Callable | None) -> TransformStats:
        started = time.monotonic()
        entries = iter_entries(source, label)
        size = _size_of(source)
        worker: ItemWorker | None = None
        try:
            for entry in entries:
                if wants_worker(self.settings, self.stats.entries_in + 1, size):
                    worker = ItemWorker(self, writer)
                    worker.consume(itertools.chain((entry,), entries), self.stats)  # this entry and every further one
                    break
                self.stats.entries_in += 1
                name = entry.name[2:] if entry.name.startswith("./") else entry.name  # as GNU tar repacks
                self.entry(writer, name, entry.data)
            if worker is not None:
                worker.finish()
        finally:
            if worker is not None:
                worker.close()
        if not self.stats.format_version:
            raise ArchiveError(f"{label} has no {VERSION_ENTRY}: it is not a Velero backup archive")
        self._add_additional_items(writer, fetch)
        self._check_copies(label)
        self.stats.seconds = time.monotonic() - started
        return self.stats

    def entry(self, writer: ArchiveWriter, name: str, data: bytes) -> None:
        path = parse_item_path(name)
        if path is None:
            if name == VERSION_ENTRY:
                self.stats.format_version = check_format_version(data)
            self._write(writer, name, data)  # anything Velero may add later is kept
            return
        record = self.items.record(path, data)
        self.apply(writer, name, data, record)
        self.maybe_progress()

    def _write(self, writer: ArchiveWriter, name: str, data: bytes) -> None:
        writer.add(name, data)
        self.stats.entries_out += 1

    def apply(self, writer: ArchiveWriter, name: str, raw: bytes, record: tuple, added: bool = False) -> None:
        """Write, index and report one item copy from what ItemTransformer.record made of it."""
        row, status, actions, additional, data = record
        resource, namespace, item_name, variant, kept, gvk = row
        written = b""
        if kept:
            written = raw if data is None else data
            writer.add(name, written)  # self._write() written out: this runs for every item copy
            self.stats.entries_out += 1
        self.index.add_row(row, written)
        if variant == PLAIN:
            if resource not in self.stats.seen_resources:
                self.stats.seen_resources[resource] = tuple(gvk.rsplit("/", 1))
            status = "added" if added and kept else status
            # The diff is made from both versions only when a report needs it (see report.py).
            self.report.record(resource, namespace, item_name, status, actions,
                               raw if status == "changed" else b"", data or b"")
            for extra in additional:
                if extra not in self._wanted:
                    self._wanted.append(extra)

    def _add_additional_items(self, writer: ArchiveWriter, fetch: Callable | None) -> None:
        """Fetch what backup actions named as additional items and add those the archive lacks."""
        done = 0
        while done < len(self._wanted):
            ref = self._wanted[done]
            done += 1
            group, resource = ref.get("group") or "", ref.get("resource") or ""
            folder = f"{resource}.{group}" if group else resource
            namespace, name = ref.get("namespace") or "", ref.get("name") or ""
            if self.index.contains(folder, namespace, name):
                continue
            label = f"{folder} {namespace + '/' if namespace else ''}{name}"
            api_kind = self.stats.seen_resources.get(folder) or _ADDITIONAL_KINDS.get(folder)
            obj = fetch(api_kind[0], api_kind[1], name, namespace) if (fetch and api_kind) else None
            if obj is None:
                self.report.warn(f"additional item {label} is not in the archive and could not be read "
                                 "from the source cluster; it is left out")
                continue
            version = str(obj.get("apiVersion", "")).rpartition("/")[2] or "v1"
            raw = jsoncodec.dumps_compact(obj)
            for version_dir in ("", version + PREFERRED_SUFFIX):
                path = ItemPath(folder, version_dir, namespace, name)
                self.apply(writer, path.render(), raw, self.items.record(path, raw), added=True)

    def _check_copies(self, label: str) -> None:
        diverging = self.index.diverging_copies()
        if diverging:
            names = ", ".join(f"{r} {n + '/' if n else ''}{m}" for r, n, m in diverging)
            raise ArchiveError(f"{label}: the plain and preferred-version copies of {names} differ after "
                               "the transform; both copies must be identical for Velero to restore them")

    def use_idle_time(self) -> bool:
        """Do a little of the work left for the end while the archive pass would wait (on the
        worker); False when there is none."""
        return self.report.prepare_diff()

    def maybe_progress(self) -> None:
        now = time.monotonic()
        if self.settings.progress and now - self._last_progress >= _PROGRESS_EVERY:
            self._last_progress = now
            totals = self.report.totals
            self.settings.progress(f"{self.stats.entries_in} entries read; items so far: "
                                   + ", ".join(f"{count} {status}" for status, count in totals.items()))
