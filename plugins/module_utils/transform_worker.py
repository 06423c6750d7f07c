# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the item transforms of a large archive on a second CPU core.

The main process reads the archive and writes the new one; one forked process runs the actions.
Forking mid-run hands the worker the exact state of the run (contexts, caches, look-up
snapshots), and one worker sees every item in archive order, so it computes what a serial run
would. The main process applies the outcomes in archive order, so the output bytes, the index,
the report and the first error are those of a serial run. At the end the worker sends back what
the actions changed in the contexts (planned image copies, look-up snapshot updates, discovered
cluster facts), for the additional items the main process then reads and transforms.

Only runs whose contexts answer look-ups from snapshots and copy no images fork: live look-ups
and image copies keep their connections and side effects in the main process, serially.
"""
from __future__ import annotations

import gc
import multiprocessing
import pickle
import queue
import threading
import warnings
from collections import deque
from typing import Any

from .archive import parse_item_path
from .errors import MigrationError
from .lookups import SnapshotLookup

# Entries read before a worker is forked: small archives do not pay for the process.
PARALLEL_AFTER = 1000
_BATCH = 256  # entries per message: small enough that the pipeline fills and drains quickly
_IN_FLIGHT = 4  # batches sent and not yet applied: bounds the memory of the pipeline
_FINISH = None


def wants_worker(settings: Any, entries: int) -> bool:
    """Whether to fork the worker now, after ``entries`` entries were read serially."""
    if entries != PARALLEL_AFTER + 1 or not settings.parallel or "fork" not in multiprocessing.get_all_start_methods():
        return False
    return all(isinstance(ctx.cluster.lookup, SnapshotLookup) and ctx.image_copier is None for ctx in _contexts(settings))


def _contexts(settings: Any) -> list:
    return [ctx for ctx in (settings.backup_ctx, settings.restore_ctx) if ctx is not None]


def _context_state(settings: Any) -> list[tuple]:
    """What actions may change in the contexts: planned copies, facts found on first use, snapshots."""
    return [(ctx.planned_copies, {k: v for k, v in vars(ctx.cluster).items() if k != "lookup"},
             vars(ctx.cluster.lookup)) for ctx in _contexts(settings)]


def _adopt_state(settings: Any, state: list[tuple]) -> None:
    # Updated in place: callers hold these objects (a job's ClusterFacts, its planned copies).
    for ctx, (planned, facts, lookup) in zip(_contexts(settings), state):
        ctx.planned_copies[:] = planned
        vars(ctx.cluster).update(facts)
        vars(ctx.cluster.lookup).update(lookup)


def _error_state(exc: BaseException) -> tuple:
    state = (type(exc), exc.args, dict(vars(exc)))
    try:
        pickle.dumps(state)
    except Exception:  # an attribute that cannot cross processes: the message still does
        state = (MigrationError, (str(exc),), {})
    return state


def _rebuild_error(state: tuple) -> BaseException:
    cls, args, attributes = state
    error = cls.__new__(cls)
    error.args = args
    vars(error).update(attributes)
    return error


def _serve(items: Any, tasks: Any, results: Any, unused: tuple) -> None:
    # Everything inherited stays alive and unfinalized: a collected leftover of the parent could
    # otherwise flush a buffer into a file the parent writes (the archive, the report spool).
    gc.freeze()
    for connection in unused:
        connection.close()
    while True:
        batch = pickle.loads(tasks.recv_bytes())
        if batch is _FINISH:
            results.send_bytes(pickle.dumps(_context_state(items.settings), pickle.HIGHEST_PROTOCOL))
            return
        done, failure, data = [], None, b""
        try:
            for name, new_data in batch:
                data = data if new_data is None else new_data
                path = parse_item_path(name)
                if path is None:
                    done.append(None)
                    continue
                done.append(items.record(path, data))
        except Exception as exc:  # re-raised by the main process where a serial run raises it
            failure = _error_state(exc)
        results.send_bytes(pickle.dumps((done, failure), pickle.HIGHEST_PROTOCOL))


class ItemWorker:
    """The forked process, and the ordered pipeline of batches between it and the archive pass."""

    def __init__(self, transform: Any, writer: Any) -> None:
        self._transform = transform
        self._writer = writer
        context = multiprocessing.get_context("fork")
        tasks_out, self._tasks = context.Pipe(duplex=False)
        self._results, results_in = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, name="archive-item-worker", daemon=True,
                                        args=(transform.items, tasks_out, results_in, (self._tasks, self._results)))
        with warnings.catch_warnings():
            # Python 3.12+ warns when forking beside threads (the deflate thread): the child only runs
            # item transforms and touches none of the locks, streams or files that thread uses.
            warnings.filterwarnings("ignore", ".*multi-threaded.*fork", DeprecationWarning)
            self._process.start()
        tasks_out.close()
        results_in.close()
        # Sending on a thread: the worker blocks on sending results while the main process sends.
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name="archive-item-sender", daemon=True)
        self._sender.start()
        self._pending: deque[list] = deque()
        self._entries: list[tuple] = []
        self._broken = False

    def _send_all(self) -> None:
        while True:
            data = self._outbox.get()
            if data is None:
                return
            try:
                self._tasks.send_bytes(data)
            except OSError:
                return  # the worker is gone; the main process finds out when it reads results

    def submit(self, name: str, data: bytes) -> None:
        self._entries.append((name, data))
        if len(self._entries) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._entries:
            return
        # An item's copies usually follow each other with equal bytes: those are sent once (None: as before).
        sent, previous = [], None
        for name, data in self._entries:
            sent.append((name, None if data == previous else data))
            previous = data
        self._outbox.put(pickle.dumps(sent, pickle.HIGHEST_PROTOCOL))
        self._pending.append(self._entries)
        self._entries = []
        if len(self._pending) > _IN_FLIGHT:
            self._apply_oldest()

    def _receive(self) -> Any:
        try:
            return pickle.loads(self._results.recv_bytes())
        except (EOFError, OSError) as exc:
            self._broken = True
            raise MigrationError("the archive item worker process stopped unexpectedly") from exc

    def _apply_oldest(self) -> None:
        entries = self._pending.popleft()
        done, failure = self._receive()
        transform, writer = self._transform, self._writer
        try:
            for index, (name, data) in enumerate(entries):
                if index == len(done):
                    raise _rebuild_error(failure)
                if done[index] is None:  # not an item: the main process handles it
                    transform.entry(writer, name, data)
                else:
                    transform.apply(writer, name, data, done[index])
        except BaseException:
            self._broken = True
            raise
        transform.maybe_progress()

    def drain(self) -> None:
        """Apply every entry submitted so far."""
        if self._broken:
            return
        self._flush()
        while self._pending:
            self._apply_oldest()

    def finish(self) -> None:
        self.drain()
        self._outbox.put(pickle.dumps(_FINISH))
        _adopt_state(self._transform.settings, self._receive())
        self._process.join()

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._outbox.put(None)
        self._sender.join()
        self._tasks.close()
        self._results.close()
