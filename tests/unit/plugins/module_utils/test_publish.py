"""Publishing a transformed backup under a new name in a location (here a local folder store)."""
import gzip
import hashlib
import io
import json
import os

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils import tarstream
from ansible_collections.openshift_migration.velero.plugins.module_utils.archive import ArchiveError, ArchiveWriter, iter_entries
from ansible_collections.openshift_migration.velero.plugins.module_utils.context import facts_from_dict
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.publish import (
    PublishError,
    check_backup_name,
    rename_backup_object,
    rename_pod_volume_backups,
    renamed,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.storage import LocalStore, StorageError
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform_job import JobSpec, run_job

from .backup_archives import (
    DESTINATION_FACTS,
    SOURCE_FACTS,
    build_archive,
    read_archive,
    sample_objects,
    source_scc,
    velero_backup,
)

RESTORE = {"metadata": {"name": "r1"}, "spec": {"backupName": "b1-new", "namespaceMapping": {"app": "app-new"}}}


def tree(root):
    """Every file under root with its SHA-256: proves what was (not) written."""
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return found


class RecordingStore(LocalStore):
    def __init__(self, *args, fail_on=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.uploads, self.fail_on = [], fail_on

    def upload(self, backup, filename, path):
        if filename == self.fail_on:
            raise StorageError(f"uploading {filename} failed: simulated outage")
        self.uploads.append(filename)
        super().upload(backup, filename, path)


def spec(store, **overrides):
    values = dict(store=store, backup_name="b1", new_backup_name="b1-new", restore=RESTORE,
                  source_cluster=facts_from_dict(dict(SOURCE_FACTS, objects=[source_scc()])),
                  destination_cluster=facts_from_dict(DESTINATION_FACTS))
    values.update(overrides)
    return JobSpec(**values)


def gz_json(path):
    with open(path, "rb") as handle:
        return json.loads(gzip.decompress(handle.read()))


def test_publish_renames_every_file_and_uploads_metadata_last(bucket, tmp_path):
    source_before = tree(bucket / "velero" / "backups" / "b1")
    store = RecordingStore(str(bucket), "velero")
    result = run_job(spec(store, report=str(tmp_path / "reports") + "/"))
    assert result["changed"] is True and result["new_backup"]["changed"] is True
    new = bucket / "velero" / "backups" / "b1-new"
    assert sorted(os.listdir(new)) == sorted([
        "velero-backup.json", "b1-new.tar.gz", "b1-new-podvolumebackups.json.gz", "b1-new-volumesnapshots.json.gz",
        "b1-new-resource-list.json.gz", "b1-new-results.gz", "b1-new-volumeinfo.json.gz", "b1-new-logs.gz"])
    assert store.uploads[-1] == "velero-backup.json" and len(store.uploads) == 8
    assert tree(bucket / "velero" / "backups" / "b1") == source_before  # the source is only read
    metadata = json.loads((new / "velero-backup.json").read_text())
    assert metadata["metadata"]["name"] == "b1-new" and metadata["metadata"]["namespace"] == "velero"
    assert "uid" not in metadata["metadata"] and "resourceVersion" not in metadata["metadata"]
    assert metadata["status"]["phase"] == "Completed" and metadata["status"]["formatVersion"] == "1.1.0"
    pvb = gz_json(new / "b1-new-podvolumebackups.json.gz")[0]
    assert pvb["metadata"]["name"] == "b1-new-x7k2p"
    assert pvb["metadata"]["labels"]["velero.io/backup-name"] == "b1-new"
    assert pvb["metadata"]["ownerReferences"][0]["name"] == "b1-new"
    assert pvb["spec"]["snapshotID"] == "snap1" and pvb["spec"]["pod"] == {"namespace": "app", "name": "web-1"}
    assert gz_json(new / "b1-new-volumesnapshots.json.gz")[0]["spec"]["backupName"] == "b1-new"
    resources = gz_json(new / "b1-new-resource-list.json.gz")
    assert "build.openshift.io/v1/Build" not in resources  # skipped
    assert resources["security.openshift.io/v1/SecurityContextConstraints"] == ["app-anyuid"]  # added
    assert resources["v1/Pod"] == ["app/web-1"]
    assert gzip.decompress((new / "b1-new-logs.gz").read_bytes()) == b"time=now level=info msg=done\n"
    archive = read_archive(str(new / "b1-new.tar.gz"))
    assert "resources/routes.route.openshift.io/namespaces/app/web.json" in archive
    report = json.loads((tmp_path / "reports" / "b1-new-transform.json").read_text())
    assert report["totals"]["skipped"] == 1 and report["totals"]["added"] == 1
    assert any(item["status"] == "changed" for item in report["items"])
    markdown = (tmp_path / "reports" / "b1-new-transform.md").read_text()
    assert "| builds.build.openshift.io | 0 | 0 | 1 | 0 |" in markdown
    assert "c2VjcmV0" not in markdown + json.dumps(report)  # the Secret's value


def test_second_run_is_unchanged_and_uploads_nothing(bucket):
    run_job(spec(LocalStore(str(bucket), "velero")))
    before = tree(bucket)
    store = RecordingStore(str(bucket), "velero")
    result = run_job(spec(store))
    assert result["changed"] is False and store.uploads == []
    assert tree(bucket) == before


def test_a_backup_compressed_by_the_other_library_counts_as_identical(bucket, tmp_path, monkeypatch):
    dest = tmp_path / "out.tar.gz"
    monkeypatch.setattr(tarstream, "isal_zlib", None)
    run_job(spec(LocalStore(str(bucket), "velero"), dest=str(dest)))
    before, local = tree(bucket), dest.read_bytes()
    monkeypatch.undo()  # the next run compresses with ISA-L: other bytes, the same archive
    store = RecordingStore(str(bucket), "velero")
    result = run_job(spec(store, dest=str(dest)))
    assert result["changed"] is False and store.uploads == []
    assert tree(bucket) == before and dest.read_bytes() == local
    rewritten = io.BytesIO()
    with open(dest, "rb") as source, ArchiveWriter(rewritten) as writer:
        for entry in iter_entries(source):
            writer.add(entry.name, entry.data)
    assert rewritten.getvalue() != local  # what this run wrote: the same entries compressed otherwise


def test_existing_backup_with_other_content_is_an_error(bucket):
    run_job(spec(LocalStore(str(bucket), "velero")))
    before = tree(bucket)
    store = RecordingStore(str(bucket), "velero")
    with pytest.raises(PublishError, match="backup b1-new already exists .* with different content"):
        run_job(spec(store, restore={"spec": {"namespaceMapping": {"app": "other"}}}))
    assert store.uploads == [] and tree(bucket) == before


def test_check_mode_computes_everything_and_writes_nothing(bucket, tmp_path):
    before = tree(bucket)
    result = run_job(spec(LocalStore(str(bucket), "velero"), check_mode=True, dest=str(tmp_path / "out.tar.gz"),
                          report=str(tmp_path / "report")))
    assert result["changed"] is True and result["report"]["totals"]["changed"] > 0
    assert tree(bucket) == before
    assert sorted(os.listdir(tmp_path)) == ["bucket"]


def test_failed_upload_leaves_no_partial_backup(bucket):
    store = RecordingStore(str(bucket), "velero", fail_on="b1-new-resource-list.json.gz")
    with pytest.raises(StorageError, match="simulated outage"):
        run_job(spec(store))
    assert os.listdir(bucket / "velero" / "backups" / "b1-new") == []


def test_interrupted_publish_is_replaced_with_a_warning(bucket):
    leftover = bucket / "velero" / "backups" / "b1-new"
    leftover.mkdir(parents=True)
    (leftover / "b1-new.tar.gz").write_bytes(b"partial")
    result = run_job(spec(LocalStore(str(bucket), "velero")))
    assert result["changed"] is True
    assert any("interrupted publish" in warning for warning in result["report"]["warnings"])
    assert "velero-backup.json" in os.listdir(leftover)


def test_unknown_backup_names_the_backups_there_and_writes_nothing(bucket):
    before = tree(bucket)
    with pytest.raises(StorageError, match=r"backup nope was not found in folder .* \(backups there: b1\)"):
        run_job(spec(LocalStore(str(bucket), "velero"), backup_name="nope"))
    assert tree(bucket) == before


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.write_bytes(b"not gzip"), "not a gzip file"),
    (lambda path: path.write_bytes(path.read_bytes()[:-100]), "truncated"),
    (lambda path: build_archive(str(path), sample_objects(), version=None), "has no metadata/version"),
    (lambda path: build_archive(str(path), sample_objects(), version=b"3.0.0\n"), "unknown backup format version"),
    (lambda path: build_archive(str(path), sample_objects(), extra=[("resources/pods/namespaces/app/bad.json",
                                                                     b"not json")]), "is not valid JSON"),
])
def test_corrupt_archive_in_location_writes_nothing(bucket, damage, message):
    damage(bucket / "velero" / "backups" / "b1" / "b1.tar.gz")
    before = tree(bucket)
    with pytest.raises(ArchiveError, match=message):
        run_job(spec(LocalStore(str(bucket), "velero")))
    assert tree(bucket) == before


def test_local_archive_to_dest_is_replaced_only_when_it_changes(tmp_path):
    src = build_archive(str(tmp_path / "b1.tar.gz"), sample_objects())
    dest = tmp_path / "out.tar.gz"
    job = spec(None, backup_name=None, new_backup_name=None, src=src, dest=str(dest))
    assert run_job(job)["changed"] is True
    first = dest.stat()
    assert run_job(job)["changed"] is False
    assert dest.stat().st_mtime_ns == first.st_mtime_ns and dest.stat().st_ino == first.st_ino
    assert sorted(os.listdir(tmp_path)) == ["b1.tar.gz", "out.tar.gz"]  # no temporary file left


def test_local_archive_published_with_a_given_backup_object(tmp_path):
    (tmp_path / "bucket").mkdir()
    src = build_archive(str(tmp_path / "b1.tar.gz"), sample_objects())
    store = LocalStore(str(tmp_path / "bucket"))
    run_job(spec(store, backup_name=None, src=src, backup=velero_backup("b1")))
    assert sorted(os.listdir(tmp_path / "bucket" / "backups" / "b1-new")) == [
        "b1-new-resource-list.json.gz", "b1-new.tar.gz", "velero-backup.json"]
    with pytest.raises(PublishError, match="needs the Velero Backup object"):
        run_job(spec(store, backup_name=None, src=src, new_backup_name="b2"))


@pytest.mark.parametrize("overrides, message", [
    ({"new_backup_name": "b1"}, "must differ from backup_name"),
    ({"new_backup_name": "Bad_Name"}, "not a valid backup name"),
    ({"destination_cluster": None}, "restore phase needs destination_cluster"),
    ({"phases": []}, "phases must name"),
    ({"new_backup_name": None}, "give an output"),
])
def test_invalid_jobs_are_refused_before_any_work(bucket, overrides, message):
    before = tree(bucket)
    with pytest.raises(MigrationError, match=message):
        run_job(spec(LocalStore(str(bucket), "velero"), **overrides))
    assert tree(bucket) == before


def test_renaming_helpers():
    assert renamed("b1-podvolumebackups.json.gz", "b1", "b2") == "b2-podvolumebackups.json.gz"
    assert renamed("b1.tar.gz", "b1", "b2") == "b2.tar.gz"
    assert renamed("b10-logs.gz", "b1", "b2") == "b10-logs.gz"
    renamed_backup = rename_backup_object(velero_backup("b1"), "b2")
    assert renamed_backup["metadata"]["annotations"]["openshift-migration.io/transformed-from-backup"] == "b1"
    pvbs = rename_pod_volume_backups([{"metadata": {"name": "other"}}], "b1", "b2")
    assert pvbs[0]["metadata"]["name"] == "b2-other"
    check_backup_name("a" * 63)
    with pytest.raises(PublishError):
        check_backup_name("a" * 64)


def test_expired_backup_is_published_with_a_warning(tmp_path):
    (tmp_path / "bucket").mkdir()
    src = build_archive(str(tmp_path / "b1.tar.gz"), sample_objects())
    expired = velero_backup("b1")
    expired["status"]["expiration"] = "2020-01-01T00:00:00Z"
    lines = []
    result = run_job(spec(LocalStore(str(tmp_path / "bucket")), backup_name=None, src=src, backup=expired,
                          progress=lines.append))
    assert any("expired at 2020-01-01T00:00:00Z" in warning for warning in result["report"]["warnings"])
    assert lines[-1].startswith(f"transformed {src} in ") and "items:" in lines[-1]


def test_a_dropped_download_is_one_storage_error():
    from ansible_collections.openshift_migration.velero.plugins.module_utils.storage import _StreamReader

    class Dropped:
        closed = False

        def read(self, size=-1):
            raise ConnectionResetError("Connection reset by peer")

        def close(self):
            self.closed = True

    body = Dropped()
    with pytest.raises(StorageError, match="reading backups/b1/b1.tar.gz failed: Connection reset by peer"):
        with _StreamReader(body, "reading backups/b1/b1.tar.gz") as stream:
            stream.read(10)
    assert body.closed
