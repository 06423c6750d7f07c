# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the item transforms of a large archive on a second CPU core.

The main process reads the archive and writes the new one; one forked process runs the actions.
Forking mid-run hands the worker the exact state of the run (contexts, caches, look-up
snapshots), and one worker sees every item that actions may change in archive order, so it
computes what a serial run would. The main process keeps what needs no actions: the repeated
copies of an item (their record is the one before) and the items of resources the worker found
no action or migration step applies to (parsing them is all their transform does). It applies
the outcomes in archive order, so the output bytes, the index, the report and the first error are
those of a serial run, and spends the time it waits for the worker on the report's diffs. At the
end the worker sends back what the actions changed in the contexts (planned image copies,
look-up snapshot updates, discovered cluster facts), for the additional items the main process
then reads and transforms.

Only runs whose contexts answer look-ups from snapshots and copy no images fork: live look-ups
and image copies keep their connections and side effects in the main process, serially.

The process is forked with os.fork and talks over two pipes: multiprocessing would add its
import, its process bookkeeping and its exit handlers to every run for nothing this needs.
"""
from __future__ import annotations

import fcntl
import gc
import os
import pickle
import queue
import select
import signal
import struct
import sys
import threading
import warnings
from collections import deque
from typing import Any, BinaryIO, NamedTuple

from .archive import ItemPath, parse_item_path
from .errors import MigrationError
from .lookups import SnapshotLookup

# Entries read before a worker is forked: small archives do not pay for the process.
PARALLEL_AFTER = 1000
# Archives of at least this many compressed bytes hold far more than PARALLEL_AFTER entries:
# they fork before their first entry, so that the worker transforms every item.
PARALLEL_SIZE = 256 << 10
_BATCH = 256  # entries per message: small enough that the pipeline fills and drains quickly
_IN_FLIGHT = 4  # batches sent and not yet applied: bounds the memory of the pipeline
# Before the first results, while the worker loads the actions, the main process reads further ahead.
_FIRST_IN_FLIGHT = 16
_FINISH = None
_LENGTH = struct.Struct("<Q")  # each message on a pipe: its length, then its pickled bytes
_PIPE_SIZE = 1 << 20
_new_tuple = tuple.__new__


def wants_worker(settings: Any, entries: int, source_size: int = 0) -> bool:
    """Whether to fork the worker now, after ``entries`` entries were read serially from a source
    of ``source_size`` compressed bytes (0: unknown)."""
    now = entries == PARALLEL_AFTER + 1 or (entries == 1 and source_size >= PARALLEL_SIZE)
    if not now or not settings.parallel or not hasattr(os, "fork"):
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


def _write_message(pipe: BinaryIO, data: bytes) -> None:
    # Unbuffered, so that nothing is left to flush into a pipe the other side may have closed.
    for part in (_LENGTH.pack(len(data)), data):
        view = memoryview(part)
        while view:
            view = view[pipe.write(view):]


def _read_exactly(pipe: BinaryIO, size: int) -> bytearray:
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        count = pipe.readinto(view[got:])
        if not count:
            raise EOFError("the pipe was closed")
        got += count
    return data


def _read_message(pipe: BinaryIO) -> Any:
    # Unbuffered too: select() then tells truly whether a message has begun to arrive.
    return pickle.loads(_read_exactly(pipe, _LENGTH.unpack(_read_exactly(pipe, _LENGTH.size))[0]))


def _pickled(value: Any) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _same_item(previous: tuple, variant: int) -> tuple:
    """The record of another copy of the item just recorded, from the bytes of that copy."""
    row = previous[0]
    return ((row[0], row[1], row[2], variant) + row[4:],) + previous[1:]


class _Inert(NamedTuple):
    """An item of a resource the worker found inert: the main process transforms it itself."""

    path: ItemPath


def _transform_items(items: Any, batch: list) -> tuple[list, tuple | None]:
    """The records of a batch of (item path fields, bytes); on an error, those before it and the error."""
    done: list = []
    try:
        for fields, data in batch:
            done.append(items.record(_new_tuple(ItemPath, fields), data))
    except Exception as exc:  # re-raised by the main process where a serial run raises it
        return done, _error_state(exc)
    return done, None


def _serve(items: Any, tasks: BinaryIO, results: BinaryIO) -> None:
    # Everything inherited stays alive and unfinalized: a collected leftover of the parent could
    # otherwise flush a buffer into a file the parent writes (the archive, the report spool).
    gc.freeze()
    items.load_actions()  # while the main process reads the first batches
    seen: set[str] = set()
    while True:
        batch = _read_message(tasks)
        if batch is _FINISH:
            _write_message(results, _pickled(_context_state(items.settings)))
            return
        done, failure = _transform_items(items, batch)
        # Resources seen for the first time whose items only need parsing: the main process, which
        # has time to spare, transforms their next items itself.
        new = {fields[0] for fields, _data in batch} - seen
        seen |= new
        _write_message(results, _pickled((done, failure, [resource for resource in new if items.inert(resource)])))


def _pipe() -> tuple[int, int]:
    read, write = os.pipe()
    if sys.platform.startswith("linux"):  # room for a few batches: neither side waits on the other to write
        try:
            fcntl.fcntl(write, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE)  # the constant is Python 3.10+
        except OSError:
            pass  # the default size is only slower
    return read, write


def _fork(items: Any) -> tuple[int, BinaryIO, BinaryIO]:
    """Fork the worker; the pid, and the pipes to send it tasks and to read its results."""
    tasks_in, tasks_out = _pipe()
    results_in, results_out = _pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns when forking beside threads (the deflate thread): the child only runs
        # item transforms and touches none of the locks, streams or files that thread uses.
        warnings.filterwarnings("ignore", ".*multi-threaded.*fork", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the worker: it never returns to the caller's code, whatever happens
        code = 1
        try:
            os.close(tasks_out)
            os.close(results_in)
            _serve(items, open(tasks_in, "rb", buffering=0), open(results_out, "wb", buffering=0))
            code = 0
        except EOFError:
            pass  # the main process stopped first; it reports why
        except BaseException:
            import traceback  # only for this report of an unexpected failure
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(tasks_in)
    os.close(results_out)
    return pid, open(tasks_out, "wb", buffering=0), open(results_in, "rb", buffering=0)


class ItemWorker:
    """The forked process, and the ordered pipeline of batches between it and the archive pass."""

    def __init__(self, transform: Any, writer: Any) -> None:
        self._transform = transform
        self._writer = writer
        self._pid, self._tasks, self._results = _fork(transform.items)
        self._exited = False
        # Sending on a thread: the worker blocks on sending results while the main process sends.
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name="archive-item-sender", daemon=True)
        self._sender.start()
        self._pending: deque[list] = deque()
        self._entries: list[tuple] = []
        self._inert: set[str] = set()  # resources whose items the main process transforms
        self._record: tuple | None = None  # the record applied last
        self._applied = False
        self._broken = False

    def _send_all(self) -> None:
        while True:
            batch = self._outbox.get()
            if batch is None:  # close(): nothing more to send
                return
            try:
                _write_message(self._tasks, batch)
            except OSError:
                return  # the worker is gone; the main process finds out when it reads results

    def consume(self, entries: Any, stats: Any) -> None:
        """Hand the worker the rest of the archive's entries, counting them in ``stats``.

        The worker is sent the items only, less the copies with the key and the bytes of the entry
        just before them (the usual plain and preferred-version pair): ItemTransformer would only
        repeat that record, so the main process copies it (an int: the copy's variant)."""
        # One loop with its names bound locally: this runs for every entry of a large archive.
        pending, inert, flush, batch = self._entries, self._inert, self._flush, _BATCH
        last_key = last_data = None
        while True:
            try:
                entry = next(entries, None)
            except Exception:
                self.drain()  # errors of earlier entries come first, as in a serial run
                raise
            if entry is None:
                return
            stats.entries_in += 1
            name, data = entry
            if name[:2] == "./":  # as GNU tar repacks
                name = name[2:]
            path = parse_item_path(name)
            task: ItemPath | int | _Inert | None = path
            if path is not None:
                resource, version_dir, namespace, item_name = path
                key = (resource, namespace, item_name)
                if key == last_key and data == last_data:
                    task = path.variant
                elif resource in inert:
                    task = _new_tuple(_Inert, (path,))
                last_key, last_data = key, data
            else:
                last_key = last_data = None
            pending.append((name, data, task))
            if len(pending) >= batch:
                flush()
                pending = self._entries

    def _flush(self) -> None:
        if not self._entries:
            return
        sent = [(tuple(task), data) for _name, data, task in self._entries if task.__class__ is ItemPath]
        self._outbox.put(_pickled(sent))
        self._pending.append(self._entries)
        self._entries = []
        if len(self._pending) > (_IN_FLIGHT if self._applied else _FIRST_IN_FLIGHT):
            while len(self._pending) > _IN_FLIGHT:
                self._apply_oldest()

    def _receive(self) -> Any:
        # Results not there yet: the main process does what it would do at the end meanwhile.
        while not select.select([self._results], [], [], 0)[0] and self._transform.use_idle_time():
            pass
        try:
            return _read_message(self._results)
        except (EOFError, OSError) as exc:
            self._broken = True
            raise MigrationError("the archive item worker process stopped unexpectedly") from exc

    def _apply_oldest(self) -> None:
        entries = self._pending.popleft()
        done, failure, inert = self._receive()
        self._inert.update(inert)
        transform, writer = self._transform, self._writer
        records, record = iter(done), self._record
        try:
            for name, data, task in entries:
                if task is None:  # not an item: the main process handles it
                    transform.entry(writer, name, data)
                    continue
                if task.__class__ is int:
                    record = _same_item(record, task)
                elif task.__class__ is _Inert:
                    record = transform.items.record_inert(task.path, data)
                else:
                    record = next(records, None)
                    if record is None:  # the worker stopped at this item
                        raise _rebuild_error(failure)
                transform.apply(writer, name, data, record)
        except BaseException:
            self._broken = True
            raise
        self._record = record  # a copy first in the next batch repeats it
        self._applied = True
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
        self._outbox.put(_pickled(_FINISH))
        _adopt_state(self._transform.settings, self._receive())
        self._wait()

    def _wait(self, block: bool = True) -> bool:
        """Whether the worker has exited (reaped once, here)."""
        if not self._exited:
            try:
                self._exited = os.waitpid(self._pid, 0 if block else os.WNOHANG)[0] != 0
            except ChildProcessError:  # reaped by someone else: gone all the same
                self._exited = True
        return self._exited

    def close(self) -> None:
        if not self._wait(block=False):
            os.kill(self._pid, signal.SIGTERM)
            self._wait()
        self._outbox.put(None)
        self._sender.join()
        self._tasks.close()
        self._results.close()
