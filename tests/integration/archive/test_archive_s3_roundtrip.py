"""backup_transform against a real S3 server: read a backup, publish a renamed one, refuse bad input."""
from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest
from conftest import PREFIX, snapshot

from ansible_collections.openshift_migration.velero.plugins.module_utils.context import facts_from_dict
from ansible_collections.openshift_migration.velero.plugins.module_utils.storage import (
    S3Settings,
    S3Store,
    StorageError,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform_job import JobSpec, run_job
from tests.unit.plugins.module_utils.backup_archives import DESTINATION_FACTS, SOURCE_FACTS, source_scc

RESTORE = {"metadata": {"name": "r1"}, "spec": {"backupName": "b1-new", "namespaceMapping": {"app": "app-new"}}}


class RecordingS3Store(S3Store):
    def __init__(self, settings):
        super().__init__(settings)
        self.uploads = []

    def upload(self, backup, filename, path):
        self.uploads.append(filename)
        super().upload(backup, filename, path)


def store_for(server, bucket, secret_key=None):
    return RecordingS3Store(S3Settings(bucket=bucket, prefix=PREFIX, endpoint_url=server.endpoint,
                                       region=server.region, access_key=server.access_key,
                                       secret_key=secret_key or server.secret_key))


def job(store, **overrides):
    values = dict(store=store, backup_name="b1", new_backup_name="b1-new", restore=RESTORE,
                  source_cluster=facts_from_dict(dict(SOURCE_FACTS, objects=[source_scc()])),
                  destination_cluster=facts_from_dict(DESTINATION_FACTS))
    values.update(overrides)
    return JobSpec(**values)


def test_s3_round_trip_publishes_a_renamed_backup_once(s3_server, bucket):
    name, client = bucket
    source_before = {k: v for k, v in snapshot(client, name).items() if "/b1/" in k}
    store = store_for(s3_server, name)
    result = run_job(job(store))
    assert result["changed"] is True and result["new_backup"]["changed"] is True
    assert store.uploads[-1] == "velero-backup.json" and len(store.uploads) == 8
    after = snapshot(client, name)
    assert {k: v for k, v in after.items() if "/b1/" in k} == source_before
    new_keys = sorted(k for k in after if "/b1-new/" in k)
    assert new_keys == sorted(f"{PREFIX}/backups/b1-new/{f}" for f in result["new_backup"]["files"])
    metadata = json.loads(client.get_object(Bucket=name, Key=f"{PREFIX}/backups/b1-new/velero-backup.json")
                          ["Body"].read())
    assert metadata["metadata"]["name"] == "b1-new"
    archive = client.get_object(Bucket=name, Key=f"{PREFIX}/backups/b1-new/b1-new.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        names = tar.getnames()
        route = json.loads(tar.extractfile("resources/routes.route.openshift.io/namespaces/app/web.json").read())
    assert "host" not in route["spec"]
    assert not [n for n in names if n.startswith("resources/builds.")]
    assert "resources/securitycontextconstraints.security.openshift.io/cluster/app-anyuid.json" in names
    pvbs = json.loads(gzip.decompress(client.get_object(
        Bucket=name, Key=f"{PREFIX}/backups/b1-new/b1-new-podvolumebackups.json.gz")["Body"].read()))
    assert pvbs[0]["metadata"]["labels"]["velero.io/backup-name"] == "b1-new"

    again = store_for(s3_server, name)
    assert run_job(job(again))["changed"] is False
    assert again.uploads == [] and snapshot(client, name) == after


def test_s3_check_mode_writes_nothing(s3_server, bucket):
    name, client = bucket
    before = snapshot(client, name)
    result = run_job(job(store_for(s3_server, name), check_mode=True))
    assert result["changed"] is True and snapshot(client, name) == before


def test_wrong_credentials_fail_clearly_and_write_nothing(s3_server, bucket):
    name, client = bucket
    before = snapshot(client, name)
    store = store_for(s3_server, name, secret_key="not-the-secret")
    with pytest.raises(StorageError, match="credentials were refused") as caught:
        store.check_access()
    assert "not-the-secret" not in str(caught.value)
    with pytest.raises(StorageError, match="credentials were refused"):
        run_job(job(store))
    assert snapshot(client, name) == before


def test_unknown_backup_and_bucket(s3_server, bucket):
    name, client = bucket
    before = snapshot(client, name)
    with pytest.raises(StorageError, match=r"backup nope was not found in s3://.* \(backups there: b1\)"):
        run_job(job(store_for(s3_server, name), backup_name="nope"))
    with pytest.raises(StorageError, match="bucket no-such-bucket does not exist"):
        store_for(s3_server, "no-such-bucket").check_access()
    assert snapshot(client, name) == before


def test_corrupt_archive_in_bucket_writes_nothing(s3_server, bucket):
    name, client = bucket
    client.put_object(Bucket=name, Key=f"{PREFIX}/backups/b1/b1.tar.gz", Body=b"\x1f\x8b\x08\x00 broken")
    before = snapshot(client, name)
    with pytest.raises(Exception, match="b1.tar.gz .*(corrupt|truncated)"):
        run_job(job(store_for(s3_server, name)))
    assert snapshot(client, name) == before
