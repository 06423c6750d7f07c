"""Registering a published backup on the destination cluster as Velero's backup sync would."""
import os

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.backup_register import (
    RegisterError,
    RegisterTarget,
    backup_object,
    check_same_bucket,
    pod_volume_backup_objects,
    register_backup,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.storage import LocalStore
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform_job import run_job

from .backup_archives import pod_volume_backups, velero_backup
from .test_publish import spec
from .velero_fakes import VELERO_KINDS, FakeClient

SERVED = {("velero.io/v1", kind) for kind in VELERO_KINDS + ("PodVolumeBackup",)}


def location(name="default", bucket_name="velero-bucket", prefix=""):
    return {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": name, "namespace": "velero"},
            "spec": {"provider": "aws", "objectStorage": {"bucket": bucket_name, "prefix": prefix}}}


def give_uid(obj):
    obj["metadata"]["uid"] = f"uid-of-{obj['metadata']['name']}"


def destination(*objects, on_create=give_uid):
    return FakeClient([location(), *objects], served=SERVED, on_create=on_create)


def stored(client, kind, name):
    return client.objects.get((kind, "velero", name))


def test_published_backup_is_created_as_the_sync_creates_it(bucket):
    client = destination()
    result = run_job(spec(LocalStore(str(bucket), "velero"), register=RegisterTarget(client, "default")))
    registration = result["new_backup"]["registration"]
    assert registration["registered"] is True and registration["pod_volume_backups"] == 1
    assert registration["storage_location"] == "default" and registration["namespace"] == "velero"
    backup = stored(client, "Backup", "b1-new")
    assert backup["metadata"]["namespace"] == "velero" and "resourceVersion" not in backup["metadata"]
    assert backup["spec"]["storageLocation"] == "default"
    assert backup["metadata"]["labels"]["velero.io/storage-location"] == "default"
    # The status travels as the sync keeps it: a Completed backup Velero's backup controller leaves alone.
    assert backup["status"]["phase"] == "Completed" and backup["status"]["expiration"] == "2099-01-01T00:00:00Z"
    assert backup["spec"]["includedNamespaces"] == ["app"]
    pvb = stored(client, "PodVolumeBackup", "b1-new-x7k2p")
    assert pvb["metadata"]["labels"] == {"velero.io/backup-name": "b1-new", "velero.io/backup-uid": "uid-of-b1-new"}
    assert pvb["metadata"]["ownerReferences"][0] == {"apiVersion": "velero.io/v1", "kind": "Backup",
                                                     "name": "b1-new", "uid": "uid-of-b1-new"}
    assert pvb["spec"]["backupStorageLocation"] == "default" and pvb["spec"]["snapshotID"] == "snap1"
    assert [obj["kind"] for obj in client.created] == ["Backup", "PodVolumeBackup"]


def test_second_run_finds_the_backup_known_and_creates_nothing(bucket):
    client = destination()
    run_job(spec(LocalStore(str(bucket), "velero"), register=RegisterTarget(client, "default")))
    created = len(client.created)
    result = run_job(spec(LocalStore(str(bucket), "velero"), register=RegisterTarget(client, "default")))
    assert result["changed"] is False
    assert result["new_backup"]["registration"]["registered"] is False
    assert result["new_backup"]["registration"]["reason"] == "the cluster knows the backup already"
    assert len(client.created) == created


def test_check_mode_says_it_would_register_and_creates_nothing(bucket):
    client = destination()
    result = run_job(spec(LocalStore(str(bucket), "velero"), register=RegisterTarget(client, "default"),
                          check_mode=True))
    assert result["new_backup"]["registration"]["registered"] is True
    assert result["new_backup"]["registration"]["pod_volume_backups"] == 1
    assert client.created == [] and not os.path.exists(bucket / "velero" / "backups" / "b1-new")


def test_a_backup_the_sync_imported_meanwhile_is_left_as_it_is():
    synced = backup_object(velero_backup("b1-new"), RegisterTarget(None, "default"))

    def sync_got_there_first(obj):
        class AlreadyExists(Exception):
            status = 409
        client.objects[("Backup", "velero", "b1-new")] = synced
        raise AlreadyExists("backups.velero.io \"b1-new\" already exists")

    client = destination(on_create=sync_got_there_first)
    result = register_backup(RegisterTarget(client, "default"), velero_backup("b1-new"), pod_volume_backups("b1-new"),
                             check_mode=False)
    assert result["registered"] is False and result["reason"] == "the cluster knows the backup already"
    assert len(client.created) == 1  # the one attempt; no PodVolumeBackups of its own


def test_a_pod_volume_backup_the_sync_made_meanwhile_is_left_and_not_counted():
    def sync_made_the_pod_volume_backups(obj):
        give_uid(obj)
        if obj["kind"] == "PodVolumeBackup":
            class AlreadyExists(Exception):
                status = 409
            raise AlreadyExists(f"podvolumebackups.velero.io \"{obj['metadata']['name']}\" already exists")

    client = destination(on_create=sync_made_the_pod_volume_backups)
    result = register_backup(RegisterTarget(client, "default"), velero_backup("b1-new"), pod_volume_backups("b1-new"),
                             check_mode=False)
    assert result["registered"] is True and result["pod_volume_backups"] == 0
    assert [obj["kind"] for obj in client.created] == ["Backup", "PodVolumeBackup"]  # one attempt each


@pytest.mark.parametrize("objects, target, message", [
    ([], RegisterTarget(None, "other"), "BackupStorageLocation velero/other does not exist on "
                                        "https://127.0.0.1:16443: name the location that reads the bucket"),
    ([backup_object(velero_backup("b1-new"), RegisterTarget(None, "elsewhere"))], RegisterTarget(None, "default"),
     "Backup velero/b1-new already exists on https://127.0.0.1:16443 for storage location elsewhere: "
     "choose another new_backup_name"),
])
def test_a_target_that_cannot_take_the_backup_is_refused_before_any_work(bucket, objects, target, message):
    client = destination(*objects)
    target.client = client
    with pytest.raises(RegisterError, match=message):
        run_job(spec(LocalStore(str(bucket), "velero"), register=target))
    assert not os.path.exists(bucket / "velero" / "backups" / "b1-new") and client.created == []


def test_a_location_reading_another_bucket_is_refused():
    with pytest.raises(RegisterError, match="BackupStorageLocation default reads s3://other/velero, but the backup "
                                            "was published to s3://velero-bucket/velero: give register.storage_location"):
        check_same_bucket(location(bucket_name="other", prefix="velero/"), "velero-bucket", "/velero")
    check_same_bucket(location(prefix="/velero/"), "velero-bucket", "velero")  # slashes do not matter


def test_a_backup_velero_is_still_finishing_is_left_to_the_sync():
    client = destination()
    backup = velero_backup("b1-new")
    backup["status"]["phase"] = "WaitingForPluginOperations"
    result = register_backup(RegisterTarget(client, "default"), backup, [], check_mode=False)
    assert result["registered"] is False and "WaitingForPluginOperations" in result["reason"]
    assert client.created == []


def test_register_needs_a_published_backup(bucket, tmp_path):
    with pytest.raises(MigrationError, match="register needs new_backup_name"):
        run_job(spec(LocalStore(str(bucket), "velero"), new_backup_name=None, dest=str(tmp_path / "out.tar.gz"),
                     register=RegisterTarget(destination(), "default")))


def test_backup_object_takes_this_clusters_location_and_drops_schedule_owners():
    published = velero_backup("b1-new")
    published["metadata"]["ownerReferences"] = [
        {"apiVersion": "velero.io/v1", "kind": "Schedule", "name": "daily", "uid": "s1"},
        {"apiVersion": "example.com/v1", "kind": "Plan", "name": "p", "uid": "p1"}]
    published["metadata"]["namespace"] = "velero-on-source"
    long_location = "l" * 70
    backup = backup_object(published, RegisterTarget(None, long_location, "oadp"))
    assert backup["metadata"]["namespace"] == "oadp" and "uid" not in backup["metadata"]
    assert [owner["kind"] for owner in backup["metadata"]["ownerReferences"]] == ["Plan"]
    assert backup["spec"]["storageLocation"] == long_location
    label = backup["metadata"]["labels"]["velero.io/storage-location"]
    assert len(label) == 63 and label.startswith("l" * 57) and label != "l" * 63
    assert published["metadata"]["namespace"] == "velero-on-source"  # the published object is not touched


def test_pod_volume_backups_point_at_the_created_backup_only():
    entries = pod_volume_backups("b1-new")
    entries[0]["metadata"]["ownerReferences"].append(
        {"apiVersion": "velero.io/v1", "kind": "Backup", "name": "another", "uid": "9"})
    del entries[0]["metadata"]["labels"]["velero.io/backup-uid"]
    created = {"metadata": {"name": "b1-new", "uid": "new-uid"}}
    pvb = pod_volume_backup_objects(entries, created, RegisterTarget(None, "default", "oadp"))[0]
    assert [owner["uid"] for owner in pvb["metadata"]["ownerReferences"]] == ["new-uid", "9"]
    assert "velero.io/backup-uid" not in pvb["metadata"]["labels"]  # only rewritten where the backup had it
    assert pvb["metadata"]["namespace"] == "oadp" and pvb["spec"]["backupStorageLocation"] == "default"
