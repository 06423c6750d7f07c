"""The streaming archive codec: Velero item paths, reading, writing, and every kind of bad input."""
import gzip
import io
import random
import tarfile
import threading

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils import tarstream
from ansible_collections.openshift_migration.velero.plugins.module_utils.archive import (
    _ITEM_PATH,
    ArchiveError,
    ArchiveWriter,
    ItemPath,
    check_format_version,
    iter_entries,
    parse_item_path,
)

from .backup_archives import tar_bytes

LONG = "resources/deployments.apps/v1-preferredversion/namespaces/" + "n" * 60 + "/" + "w" * 120 + ".json"


def entries_of(data: bytes) -> list[tuple[str, bytes]]:
    return [(entry.name, entry.data) for entry in iter_entries(io.BytesIO(data))]


@pytest.mark.parametrize("path, expected", [
    ("resources/pods/namespaces/app/web-1.json", ItemPath("pods", "", "app", "web-1")),
    ("resources/deployments.apps/v1-preferredversion/namespaces/app/web.json",
     ItemPath("deployments.apps", "v1-preferredversion", "app", "web")),
    ("resources/persistentvolumes/cluster/pv-1.json", ItemPath("persistentvolumes", "", "", "pv-1")),
    ("resources/hpa.autoscaling/v2beta1/namespaces/app/h.json", ItemPath("hpa.autoscaling", "v2beta1", "app", "h")),
    ("metadata/version", None),
    ("resources/pods/namespaces/app/web-1.yaml", None),
])
def test_parse_item_path(path, expected):
    parsed = parse_item_path(path)
    assert parsed == expected
    if parsed:
        assert parsed.render() == path


def test_item_path_variants():
    plain = ItemPath("pods", "", "app", "web")
    preferred = ItemPath("pods", "v1-preferredversion", "app", "web")
    other = ItemPath("pods", "v1beta1", "app", "web")
    assert (plain.is_plain, preferred.is_preferred, other.is_plain, other.is_preferred) == (True, True, False, False)
    assert plain.key == preferred.key
    assert ItemPath("persistentvolumes", "", "", "pv").describe() == "persistentvolumes pv"


def test_format_version():
    assert check_format_version(b"1.1.0\n") == "1.1.0"
    with pytest.raises(ArchiveError, match="unknown backup format version '2.0.0'"):
        check_format_version(b"2.0.0\n")


def test_reads_ustar_pax_and_gnu_long_names_and_skips_directories():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        folder = tarfile.TarInfo("resources/")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in (("metadata/version", b"1.1.0\n"), (LONG, b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    expected = [("metadata/version", b"1.1.0\n"), (LONG, b"{}")]
    assert entries_of(gzip.compress(raw.getvalue())) == expected
    assert entries_of(gzip.compress(tar_bytes(expected))) == expected  # PAX long name


def test_reads_empty_files_and_entries_of_exact_block_size(codec):
    expected = [("a", b""), ("b", b"x" * 512), ("c", b"y" * 1025)]
    assert entries_of(gzip.compress(tar_bytes(expected))) == expected


def test_reads_multi_member_gzip_with_trailing_padding(codec):
    tar = tar_bytes([("a", b"1"), ("b", b"2")])
    data = gzip.compress(tar[:1024]) + gzip.compress(tar[1024:]) + bytes(100)
    assert entries_of(data) == [("a", b"1"), ("b", b"2")]


def write(entries, level=3) -> bytes:
    out = io.BytesIO()
    writer = ArchiveWriter(out, level)
    for name, data in entries:
        writer.add(name, data)
    writer.close()
    return out.getvalue()


def test_writer_output_is_what_velero_extracts(codec):
    entries = [("metadata/version", b"1.1.0\n"), (LONG, b'{"a":1}'), ("resources/pods/cluster/x.json", b"x" * 700)]
    data = write(entries)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [name for name, _body in entries]
        assert all(m.isreg() and m.mode == 0o755 for m in members)
        assert [tar.extractfile(m).read() for m in members] == [body for _name, body in entries]
    assert entries_of(data) == entries


def test_writer_is_reproducible(codec):
    entries = [("metadata/version", b"1.1.0\n"), ("resources/pods/namespaces/a/b.json", b"{}")]
    first, second = write(entries), write(entries)
    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # gzip mtime
    assert write(entries, level=1) != write(entries + [("c", b"")], level=1)


@pytest.mark.parametrize("data, message", [
    (b"", "empty, not a gzip file"),
    (b"PK\x03\x04 a zip file", "not a gzip file"),
    (gzip.compress(tar_bytes([("a", b"1" * 5000)]))[:-30], "truncated"),
    (gzip.compress(b"this is not a tar archive at all" * 40), "not a valid tar archive"),
    (gzip.compress(tar_bytes([("a", b"1" * 5000)])[:2048]), "truncated"),
    (gzip.compress(tar_bytes([("a", b"1")]))[:10] + b"\xff" * 40, "corrupt"),
])
def test_bad_archives_raise_one_clear_error(data, message, codec):
    with pytest.raises(ArchiveError, match=message):
        entries_of(data)


def test_rejects_links_and_paths_outside_the_archive():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        link = tarfile.TarInfo("resources/pods/cluster/x.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(ArchiveError, match="not a regular file"):
        entries_of(gzip.compress(raw.getvalue()))
    with pytest.raises(ArchiveError, match="points outside the archive"):
        entries_of(gzip.compress(tar_bytes([("../evil.json", b"{}")])))


def test_write_errors_reach_the_caller(codec):
    class Full(io.BytesIO):
        def write(self, data):
            if self.tell() > 100:
                raise OSError(28, "No space left on device")
            return super().write(data)

    noise = random.Random(7).randbytes(2048)
    writer = ArchiveWriter(Full(), 1)
    # Chunks are compressed on the writer's thread, so the error surfaces in a later add or in close.
    with pytest.raises(OSError, match="No space left"):
        for number in range(3000):
            writer.add(f"resources/configmaps/namespaces/a/c{number}.json", noise)
        writer.close()
    assert not [thread for thread in threading.enumerate() if thread.name == "archive-deflater"]


def test_header_checksums_hold_for_names_of_the_largest_byte_sum():
    # The 100 bytes a ustar name holds, each 0xff (the checksum adds bytes through Adler-32).
    entries = [("\udcff" * 100, b"x" * 511), ("\udcff" * 99 + "/" + "é" * 60, b"")]
    with tarfile.open(fileobj=io.BytesIO(write(entries)), mode="r:gz") as tar:
        assert [m.name for m in tar.getmembers()] == [name for name, _body in entries]


@pytest.mark.parametrize("folder", ["resources/pods/namespaces/app", "resources/pods/v1-preferredversion/cluster",
                                    "resources/pods/namespaces", "resources/pods/namespaces/app/extra", "metadata"])
def test_item_paths_of_one_folder_parse_as_the_expression_says(folder):
    # Folders are looked at once (then remembered); every file in them must parse as on its own.
    for name in ("web.json", "a.json.json", ".json", "x.json\n", "web.yaml", "web.json", "é.json"):
        path = f"{folder}/{name}"
        match = _ITEM_PATH.match(path)
        expected = None if not match else ItemPath(match["resource"], match["version"] or "",
                                                   match["namespace"] or "", match["name"])
        assert parse_item_path(path) == expected, path


def test_archives_of_either_library_read_back_with_the_other(monkeypatch):
    pods = [(f"resources/pods/namespaces/a/p{n}.json", b"{}" * n) for n in range(2000)]
    entries = [("metadata/version", b"1.1.0\n")] + pods
    by_isal = write(entries)
    monkeypatch.setattr(tarstream, "isal_zlib", None)
    by_zlib = write(entries)
    assert by_isal != by_zlib  # other compressed bytes ...
    assert entries_of(by_isal) == entries  # ... read by zlib
    assert tarstream.same_content(io.BytesIO(by_isal), io.BytesIO(by_zlib))  # the same content
    monkeypatch.undo()
    assert entries_of(by_zlib) == entries  # and read by ISA-L
    shorter = write(entries[:-1])
    assert not tarstream.same_content(io.BytesIO(by_zlib), io.BytesIO(shorter))  # told by the gzip trailers
    assert not tarstream.same_content(io.BytesIO(by_zlib), io.BytesIO(b"not gzip"))
    # Streams that cannot seek (a download) are inflated and compared in full.
    assert tarstream.same_content(Unseekable(by_isal), Unseekable(by_zlib))
    assert not tarstream.same_content(Unseekable(by_zlib), Unseekable(shorter))


class Unseekable(io.BytesIO):
    def seekable(self):
        return False


def test_each_zlib_level_maps_to_an_isal_level(codec):
    entries = [("resources/pods/namespaces/a/p.json", b'{"spec": "%s"}' % (b"x" * 5000))]
    sizes = [len(write(entries, level)) for level in range(1, 10)]
    assert all(entries_of(write(entries, level)) == entries for level in (1, 5, 9))
    assert sizes[-1] <= sizes[0]
    if codec == "isal":
        assert [tarstream._ISAL_LEVELS[level] for level in range(1, 10)] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
