"""The tar parser reads headers in place in decompressed chunks: entries may cross chunk boundaries anywhere."""
import io
import tarfile

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.tarstream import (
    ArchiveError,
    TarEntry,
    iter_tar,
)

from .backup_archives import tar_bytes

ENTRIES = [("metadata/version", b"1.1.0\n"), ("a", b""), ("b", b"x" * 512), ("c", b"y" * 1025),
           ("resources/pods/namespaces/" + "n" * 60 + "/" + "p" * 120 + ".json", b'{"kind":"Pod"}'),
           ("d", bytes(range(256)) * 9)]


def split(data: bytes, size: int) -> list[bytes]:
    return [data[start:start + size] for start in range(0, len(data), size)]


def read(chunks) -> list[tuple[str, bytes]]:
    return [(entry.name, entry.data) for entry in iter_tar(iter(chunks), "archive")]


@pytest.mark.parametrize("size", [1, 7, 100, 511, 512, 513, 1000, 1024, 1536, 4096, 1 << 20])
def test_entries_crossing_chunk_boundaries(size):
    assert read(split(tar_bytes(ENTRIES), size)) == ENTRIES


def test_entries_are_tar_entries_and_empty_chunks_are_skipped():
    data = tar_bytes(ENTRIES)
    entries = list(iter_tar(iter([b"", data[:700], b"", data[700:]]), "archive"))
    assert all(isinstance(entry, TarEntry) for entry in entries)
    assert [tuple(entry) for entry in entries] == ENTRIES


def test_ustar_prefix_and_gnu_long_names():
    raw = io.BytesIO()
    long_name = "resources/" + "r" * 120 + "/x.json"
    prefixed = "resources/" + "q" * 80 + "/namespaces/app/" + "y" * 40 + ".json"
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(prefixed)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    assert read(split(raw.getvalue(), 300)) == [(prefixed, b"{}")]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo(long_name)
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    assert read(split(raw.getvalue(), 333)) == [(long_name, b"abc")]


@pytest.mark.parametrize("cut, message", [
    (100, "partial tar header"),
    (512 + 100, "an entry ends early"),
    (512 + 1024 + 100, "partial tar header"),
])
def test_truncation_across_chunks(cut, message):
    data = tar_bytes([("a", b"1" * 1000), ("b", b"2")])[:cut]
    with pytest.raises(ArchiveError, match=message):
        read(split(data, 64))


def test_stream_without_end_marker_ends_after_last_entry():
    data = tar_bytes([("a", b"1"), ("b", b"2")])
    assert read(split(data[:2048], 500)) == [("a", b"1"), ("b", b"2")]


def test_bad_size_field_is_a_bad_header():
    data = bytearray(tar_bytes([("a", b"1"), ("b", b"2")]))
    data[1024 + 124:1024 + 136] = b"zzzzzzzzzzz\0"  # the first header's checksum is checked, not this one's
    with pytest.raises(ArchiveError, match="bad header"):
        read([bytes(data[:1100]), bytes(data[1100:])])
