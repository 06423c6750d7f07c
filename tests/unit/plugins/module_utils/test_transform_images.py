"""ImageStreams in a migration backup: copies planned without a copier, run through an injected one."""
import json
from dataclasses import dataclass

from ansible_collections.openshift_migration.velero.plugins.module_utils.context import facts_from_dict
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform_job import JobSpec, run_job

from .backup_archives import DESTINATION_FACTS, OLD_REG, SOURCE_FACTS, build_archive, obj, read_archive

DIGEST = "sha256:" + "a" * 64
MIGRATION = {"app.kubernetes.io/part-of": "openshift-migration"}
MIG_REG = "migration.example.com"
STREAM_PATH = "resources/imagestreams.image.openshift.io/namespaces/app/web.json"


def stream():
    return obj("image.openshift.io/v1", "ImageStream", "web", "app", spec={"tags": [{"name": "latest"}]},
               status={"dockerImageRepository": f"{OLD_REG}/app/web",
                       "tags": [{"tag": "latest", "items": [{"image": DIGEST,
                                                            "dockerImageReference": f"{OLD_REG}/app/web@{DIGEST}"}]}]})


def migration_backup():
    return {"metadata": {"name": "b1", "labels": MIGRATION,
                         "annotations": {"openshift.io/migration-registry": MIG_REG}}, "spec": {}}


@dataclass
class Result:
    copy: object
    status: str = "copied"
    digest: str = DIGEST
    error: str = ""


def job(tmp_path, **extra):
    src = build_archive(str(tmp_path / "b1.tar.gz"), [stream()])
    return JobSpec(src=src, dest=str(tmp_path / "out.tar.gz"), phases=["backup"], backup=migration_backup(),
                   source_cluster=facts_from_dict(SOURCE_FACTS), destination_cluster=facts_from_dict(DESTINATION_FACTS),
                   **extra)


def test_without_a_copier_the_needed_copies_are_listed_once(tmp_path):
    result = run_job(job(tmp_path))
    assert result["report"]["planned_copies"] == [{
        "src": f"docker://{OLD_REG}/app/web@{DIGEST}", "dest": f"docker://{MIG_REG}/app/web:latest",
        "tag": "latest", "image": DIGEST}]
    written = json.loads(read_archive(str(tmp_path / "out.tar.gz"))[STREAM_PATH])
    assert written["status"]["tags"] == stream()["status"]["tags"]  # left for the copy still to come


def test_an_injected_copier_runs_the_copies_once_per_item(tmp_path):
    calls = []

    def copier(copies):
        calls.append(copies)
        return [Result(copy) for copy in copies]

    result = run_job(job(tmp_path, backup_copier=copier))
    assert len(calls) == 1 and [c.dest for c in calls[0]] == [f"docker://{MIG_REG}/app/web:latest"]
    assert result["report"]["planned_copies"] == []
    archive = read_archive(str(tmp_path / "out.tar.gz"))
    assert archive[STREAM_PATH] == archive[STREAM_PATH.replace("/namespaces/", "/v1-preferredversion/namespaces/")]
