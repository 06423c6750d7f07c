# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal, fast gzip'd tar codec for streams of many small regular files.

Python's tarfile spends tens of microseconds per entry, which dominates on archives of
100,000+ small JSON files; this codec parses and writes the 512-byte headers directly and
feeds zlib large buffers. It reads ustar, PAX and GNU long-name headers (what Go's
archive/tar and GNU tar write) and writes ustar, with a PAX header for long names.

With the isal library installed, ISA-L inflates and deflates instead of zlib: several times less
CPU for the same gzip format (its compressed bytes differ from zlib's, hence same_content()).
"""
from __future__ import annotations

import hashlib
import queue
import struct
import threading
import zlib
from typing import BinaryIO, Callable, Iterator, NamedTuple

from .errors import MigrationError

try:
    from isal import isal_zlib
except ImportError:  # zlib is enough, only slower
    isal_zlib = None

BLOCK = 512
CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZERO_BLOCK = bytes(BLOCK)
# Type flags, as the byte values of the header's type field.
_REGULAR = (ord("0"), 0, ord("7"))
_REGULAR_FILE, _DIRECTORY, _PAX, _GNU_LONG_NAME = ord("0"), ord("5"), ord("x"), ord("L")
_IGNORED = (ord("g"), ord("K"))  # PAX global headers, GNU long link names
# Every entry gets the same modification time so that a rewrite is byte-for-byte reproducible.
FIXED_MTIME = b"%011o\0" % 0


class ArchiveError(MigrationError):
    """The archive cannot be read or written as a Velero backup archive."""


class TarEntry(NamedTuple):
    name: str
    data: bytes


_new_tuple = tuple.__new__
# ISA-L compresses at levels 1 to 3 where zlib has 1 to 9: each third of zlib's range maps to one.
_ISAL_LEVELS = {level: 1 + (level - 1) // 3 for level in range(1, 10)}
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_CODEC_ERRORS: tuple[type[BaseException], ...] = (zlib.error,) if isal_zlib is None else (zlib.error, isal_zlib.error)


def _inflater():
    return (zlib if isal_zlib is None else isal_zlib).decompressobj(_GZIP_WBITS)


def _raw_deflater(compresslevel: int):
    if isal_zlib is None or compresslevel not in _ISAL_LEVELS:
        return zlib.compressobj(compresslevel, zlib.DEFLATED, -zlib.MAX_WBITS)
    return isal_zlib.compressobj(_ISAL_LEVELS[compresslevel], zlib.DEFLATED, -zlib.MAX_WBITS)


def inflate_chunks(source: BinaryIO, label: str) -> Iterator[bytes]:
    """Yield the decompressed bytes of a (possibly multi-member) gzip stream."""
    data = source.read(CHUNK)
    if not data:
        raise ArchiveError(f"{label} is empty, not a gzip file")
    if data[:2] != _GZIP_MAGIC:
        raise ArchiveError(f"{label} is not a gzip file")
    inflater = _inflater()
    while True:
        try:
            out = inflater.decompress(data, CHUNK)
        except _CODEC_ERRORS as exc:
            raise ArchiveError(f"{label} is corrupt: {exc}") from exc
        if out:
            yield out
        if inflater.unconsumed_tail:
            data = inflater.unconsumed_tail
            continue
        if inflater.eof:
            data = inflater.unused_data or source.read(CHUNK)
            # Trailing zeros are padding; anything else starts the next gzip member.
            while data and not data.strip(b"\0"):
                data = source.read(CHUNK)
            if not data:
                return
            inflater = _inflater()
            continue
        data = source.read(CHUNK)
        if not data:
            raise ArchiveError(f"{label} is truncated (the gzip stream ends early)")


def same_content(first: BinaryIO, second: BinaryIO) -> bool:
    """Whether two gzip streams decompress to the same bytes (False when either is not gzip):
    archives written by zlib and by ISA-L differ in their compressed bytes only."""
    if first.seekable() and second.seekable() and _trailer(first) != _trailer(second):
        # A gzip file ends with the CRC-32 and size of what it holds: different ones, different
        # content (for the single-member files this codec writes), known without inflating.
        return False
    try:
        digests = [hashlib.sha256(), hashlib.sha256()]
        for digest, source in zip(digests, (first, second)):
            for chunk in inflate_chunks(source, "archive"):
                digest.update(chunk)
    except ArchiveError:
        return False
    return digests[0].digest() == digests[1].digest()


def _trailer(source: BinaryIO) -> bytes:
    source.seek(0, 2)
    source.seek(max(source.tell() - 8, 0))
    trailer = source.read(8)
    source.seek(0)
    return trailer


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for values that do not fit in octal
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _pax_records(data: bytes) -> dict[str, str]:
    records = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        key, _equals, value = data[space + 1:pos + length - 1].partition(b"=")
        records[key.decode("utf-8")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _size(buf: bytes, pos: int, pax: dict[str, str], label: str) -> int:
    try:
        return int(pax["size"]) if "size" in pax else _number(buf[pos + 124:pos + 136])
    except ValueError as exc:
        raise ArchiveError(f"{label} is not a valid tar archive (bad header)") from exc


def _fill(buf: bytes, pos: int, chunks: Iterator[bytes], need: int) -> bytes:
    """The unread rest of ``buf`` and as many further chunks as make ``need`` bytes (fewer at the end)."""
    parts = [buf[pos:]]
    have = len(parts[0])
    for chunk in chunks:
        parts.append(chunk)
        have += len(chunk)
        if have >= need:
            break
    return b"".join(parts)


def iter_tar(chunks: Iterator[bytes], label: str) -> Iterator[TarEntry]:
    """Yield the regular files of an uncompressed tar stream; directories are skipped."""
    # Headers are parsed in place in the decompressed chunk (one slice per entry, for its data);
    # a chunk is joined with what is left of the previous one only when an entry crosses the boundary.
    chunks = iter(chunks)
    buf, pos = b"", 0
    long_name = None
    pax: dict[str, str] = {}
    first = True
    while True:
        if len(buf) - pos < BLOCK:
            buf, pos = _fill(buf, pos, chunks, BLOCK), 0
            if len(buf) < BLOCK:
                if buf:
                    raise ArchiveError(f"{label} is truncated (partial tar header)")
                return
        if not buf[pos] and buf[pos:pos + BLOCK] == _ZERO_BLOCK:
            return
        if first:
            # One checksum proves the stream is tar; gzip's CRC already guards the rest.
            _check_first_header(buf[pos:pos + BLOCK], label)
            first = False
        try:
            size = int(buf[pos + 124:pos + 135], 8)  # the common case: 11 octal digits and a NUL
        except ValueError:
            size = -1
        if size < 0 or pax:
            size = _size(buf, pos, pax, label)
        end = pos + BLOCK + size + (-size % BLOCK)
        if end > len(buf):
            end -= pos
            buf, pos = _fill(buf, pos, chunks, end), 0
            if end > len(buf):
                raise ArchiveError(f"{label} is truncated (an entry ends early)")
        header, pos = pos, end
        data = buf[header + BLOCK:header + BLOCK + size] if size > 0 else b""
        kind = buf[header + 156]
        if kind == _REGULAR_FILE and not pax and not long_name and not buf[header + 345]:
            # What follows for a regular file with a plain ustar name, written out: nearly every entry.
            end = buf.find(b"\0", header, header + 100)
            name = buf[header:end if end >= 0 else header + 100].decode("utf-8", "surrogateescape")
            if name[:1] == "/" or ".." in name:
                _check_name(name, label)
            yield _new_tuple(TarEntry, (name, data))
            continue
        if kind == _PAX:
            pax = _pax_records(data)
            continue
        if kind == _GNU_LONG_NAME:
            long_name = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            continue
        if kind in _IGNORED:
            continue
        if pax or long_name:
            name = pax.get("path") or long_name or _ustar_name(buf, header)
            pax, long_name = {}, None
        else:
            name = _ustar_name(buf, header)
        if kind == _DIRECTORY:
            continue
        if kind not in _REGULAR:
            raise ArchiveError(f"{label}: entry {name!r} is not a regular file")
        if name[:1] == "/" or ".." in name:
            _check_name(name, label)
        yield _new_tuple(TarEntry, (name, data))  # TarEntry(name, data) without its Python-level __new__


def _check_first_header(header: bytes, label: str) -> None:
    try:
        checksum = _number(header[148:156])
    except ValueError:
        checksum = -1
    if checksum != sum(header[:148]) + 256 + sum(header[156:]):
        raise ArchiveError(f"{label} is not a valid tar archive (header checksum mismatch)")


def _check_name(name: str, label: str) -> None:
    if name.startswith("/") or ".." in name.split("/"):
        raise ArchiveError(f"{label}: entry {name!r} points outside the archive")


def _ustar_name(buf: bytes, pos: int) -> str:
    end = buf.find(b"\0", pos, pos + 100)
    name = buf[pos:end if end >= 0 else pos + 100]
    if buf[pos + 345] and buf.startswith(b"ustar", pos + 257):
        end = buf.find(b"\0", pos + 345, pos + 500)
        name = buf[pos + 345:end if end >= 0 else pos + 500] + b"/" + name
    return name.decode("utf-8", "surrogateescape")


# Mode 0755 as Velero writes it: its extractor creates parent directories with the file's
# mode, so 0644 would give directories that cannot be entered. Owner ids 0, no user names.
_MODE_IDS = b"0000755\0" + b"0000000\0" + b"0000000\0"
_CHECKSUM_BLANK = b"        "
_AFTER_KIND = bytes(100) + b"ustar\x0000" + bytes(32) + bytes(32) + b"0000000\0" + b"0000000\0" + bytes(167)
# The header checksum is the byte sum with the checksum field read as spaces; only the name,
# the size and the type vary, so the sum of the fixed parts is computed once.
_FIXED_SUM = sum(_MODE_IDS) + sum(FIXED_MTIME) + sum(_CHECKSUM_BLANK) + sum(_AFTER_KIND)
_PADDING = [bytes(size) for size in range(BLOCK)]
_CHECKSUM = b"%06o\0 "
_AFTER_REGULAR = bytes([_REGULAR_FILE]) + _AFTER_KIND


def _header_parts(name: bytes, size: int, kind: int) -> tuple[bytes, ...]:
    """A header of at most a 100-byte name as the parts it is joined from with the entries; the
    writer joins a megabyte of entries at once, so a header needs no bytes object of its own."""
    size_field = b"%011o\0" % size
    # sum(name) + sum(size_field) in C: Adler-32's low half is one plus the byte sum modulo 65521,
    # and a name of at most 100 bytes with a size field of 12 sums to less than that.
    byte_sum = (zlib.adler32(size_field, zlib.adler32(name)) & 0xFFFF) - 1
    checksum = _CHECKSUM % (_FIXED_SUM + byte_sum + kind)
    after = _AFTER_REGULAR if kind == _REGULAR_FILE else bytes([kind]) + _AFTER_KIND
    return name.ljust(100, b"\0"), _MODE_IDS, size_field, FIXED_MTIME, checksum, after


def _pax_header(name: bytes) -> bytes:
    payload = b" path=" + name + b"\n"
    # A PAX record starts with its own total length in decimal, digits included.
    length = len(payload) + 1
    while len(str(length)) + len(payload) != length:
        length = len(str(length)) + len(payload)
    return str(length).encode() + payload


class _Deflater(threading.Thread):
    """Compresses and writes chunks on a second thread: zlib and ISA-L release the GIL while they work,
    so compression overlaps with the item processing of the main thread. Chunks keep their order,
    so the bytes are the same as with inline compression."""

    def __init__(self, write: Callable[[bytes], object], compresslevel: int) -> None:
        super().__init__(name="archive-deflater", daemon=True)
        self._write = write
        self._deflater = _raw_deflater(compresslevel)
        self._queue: queue.Queue = queue.Queue(maxsize=4)  # bounded: memory stays flat
        self.crc = 0
        self.size = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            if self.error is not None:
                continue  # keep draining so that the producer never blocks
            try:
                self.crc = zlib.crc32(data, self.crc)
                self.size += len(data)
                out = self._deflater.compress(data)
                if out:
                    self._write(out)
            except BaseException as exc:  # reported to the producer by put() or finish()
                self.error = exc

    def put(self, data: bytes) -> None:
        if self.error is not None:
            self.stop_worker()
            raise self.error
        self._queue.put(data)

    def stop_worker(self) -> None:
        if self.is_alive():
            self._queue.put(None)
            self.join()

    def finish(self) -> bytes:
        self.stop_worker()
        if self.error is not None:
            raise self.error
        return self._deflater.flush()


class TarGzWriter:
    """Write regular files as a gzip'd tar with reproducible bytes (mode 0755, gzip mtime 0)."""

    def __init__(self, write: Callable[[bytes], object], compresslevel: int) -> None:
        self._write = write
        self._pending: list[bytes] = []
        self._pending_size = 0
        # gzip header: no name, mtime 0, OS "unknown", so equal input gives equal bytes.
        self._write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        self._deflater = _Deflater(write, compresslevel)
        self._deflater.start()

    def add(self, name: str, data: bytes) -> None:
        raw_name = name.encode("utf-8", "surrogateescape")
        if len(raw_name) > 100:
            pax = _pax_header(raw_name)
            self._pending += _header_parts(b"././@PaxHeader", len(pax), _PAX)
            self._pending += (pax, _PADDING[-len(pax) % BLOCK])
            self._pending_size += BLOCK + len(pax) + (-len(pax) % BLOCK)
            raw_name = raw_name[:100]
        size = len(data)
        padding = _PADDING[-size % BLOCK]
        self._pending += _header_parts(raw_name, size, _REGULAR_FILE)
        self._pending += (data, padding)
        self._pending_size += BLOCK + size + len(padding)
        if self._pending_size >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        data = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        self._deflater.put(data)

    def abort(self) -> None:
        """Stop the compression thread without finishing the archive (its bytes are discarded)."""
        self._pending = []
        self._deflater.error = self._deflater.error or ArchiveError("archive writing was aborted")
        self._deflater.stop_worker()

    def close(self) -> None:
        self._pending.append(bytes(2 * BLOCK))  # the end-of-archive marker
        self._flush()
        tail = self._deflater.finish()
        self._write(tail)
        self._write(struct.pack("<II", self._deflater.crc, self._deflater.size & 0xFFFFFFFF))
