"""End to end on the lab: migrate.yml (stage, again, final) and rollback.yml on the sample application.

One migration, in order: a stage run into a mapped namespace and the assertions on the
destination; the same run again (nothing changes, nothing is created twice); rollback; a final
run (the source is quiesced, the destination runs the workloads as the source did); rollback
(the source runs again, the destination is clean).
"""
from __future__ import annotations

import ssl
import time
import urllib.request
import uuid

import pytest

from migrate_helpers import get, names

from tests.lab.migrate_vars import migrate_vars
from tests.lab.playbook_run import run_playbook

SOURCE_NAMESPACE = "sample-app"
SUFFIX = uuid.uuid4().hex[:6]
NAME = f"e2e-{SUFFIX}"
TARGET = f"moved-{SUFFIX}"
QUIESCED = "migration.openshift.io/preQuiesceReplicas"
WORKLOADS = [("apps.openshift.io/v1", "DeploymentConfig", "frontend"), ("apps/v1", "Deployment", "backend"),
             ("apps/v1", "StatefulSet", "cache")]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("migrate-e2e")


def variables(lab, workdir, kind: str = "stage") -> dict:
    return migrate_vars(lab, NAME, kind, [SOURCE_NAMESPACE], {SOURCE_NAMESPACE: TARGET}, str(workdir / "reports"))


def rollback_variables(lab) -> dict:
    found = {"rollback_name": NAME, "rollback_namespaces": [SOURCE_NAMESPACE],
             "rollback_namespace_mapping": {SOURCE_NAMESPACE: TARGET},
             "rollback_source_kubeconfig": lab["clusters"]["source"]["kubeconfig"],
             "rollback_destination_kubeconfig": lab["clusters"]["destination"]["kubeconfig"]}
    return found


@pytest.fixture(scope="module")
def stage(lab, workdir):
    # At the highest verbosity, so the test below also proves that no credential is printed.
    run = run_playbook("migrate", variables(lab, workdir), workdir, "-vvv")
    yield run
    # Whatever happened, leave the source running and the destination clean for the other tests.
    run_playbook("rollback", rollback_variables(lab), workdir)


def replicas_of(cluster, api_version: str, kind: str, name: str, namespace: str) -> tuple[int, dict]:
    found = get(cluster, api_version, kind, name, namespace)
    assert found is not None, f"{kind} {namespace}/{name} is missing"
    return found["spec"].get("replicas"), found["metadata"].get("annotations") or {}


def wait_gone(cluster, namespace: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while get(cluster, "v1", "Namespace", namespace) is not None:
        assert time.monotonic() < deadline, f"namespace {namespace} still exists after {timeout:.0f}s"
        time.sleep(2)


def test_check_mode_reports_the_backup_and_creates_nothing(lab, tmp_path, source, destination):
    name = f"check-{SUFFIX}"
    run = run_playbook("migrate", migrate_vars(lab, name, "stage", [SOURCE_NAMESPACE], {SOURCE_NAMESPACE: name}),
                       tmp_path, "--check")
    assert run.returncode == 0, run.output[-6000:]
    assert run.recap["changed"] >= 1 and "Preflight: " in run.output
    velero = lab["clusters"]["source"]["velero"]["namespace"]
    assert f"{name}-stage" not in names(source, "velero.io/v1", "Backup", velero)
    assert f"{name}-stage" not in names(destination, "velero.io/v1", "Restore", velero)


def test_stage_migration_completes_with_a_summary(stage, lab, workdir):
    assert stage.returncode == 0, stage.output[-6000:]
    assert f"Summary of migration {NAME} (stage)" in stage.output
    assert f"namespace {SOURCE_NAMESPACE} -> {TARGET}:" in stage.output
    assert f"Velero restore {NAME}-stage of {NAME}-stage-migrated: Completed" in stage.output
    assert "items backed up" in stage.output and "items restored" in stage.output  # progress lines
    # The rewritten backup is registered on the destination, not left to Velero's minute-long sync.
    assert f"backup {NAME}-stage-migrated registered on the destination (storage location default)" in stage.output
    for secret in (lab["s3"]["secret_key"], lab["s3"]["access_key"], lab["registries"]["migration"]["password"]):
        assert secret not in stage.output
        for report in (workdir / "reports").iterdir():
            assert secret not in report.read_text()


def test_objects_arrive_in_the_mapped_namespace(stage, destination):
    for api_version, kind, name in WORKLOADS + [("v1", "Service", "frontend"), ("v1", "ConfigMap", "frontend-config"),
                                                ("v1", "ServiceAccount", "app"), ("v1", "Secret", "backend-credentials")]:
        found = get(destination, api_version, kind, name, TARGET)
        assert found is not None, f"{kind} {name} was not migrated to {TARGET}"
        assert found["metadata"]["labels"]["velero.io/restore-name"] == f"{NAME}-stage"


def test_images_point_at_the_destination_registry_and_exist_there(stage, lab, destination):
    registry = lab["registries"]["destination-internal"]
    backend = get(destination, "apps/v1", "Deployment", "backend", TARGET)
    image = backend["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith(f"{registry['address']}/{TARGET}/backend@sha256:"), image
    digest = image.split("@", 1)[1]
    context = ssl.create_default_context(cafile=registry["ca_file"])
    request = urllib.request.Request(
        f"https://{registry['address']}/v2/{TARGET}/backend/manifests/{digest}", method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json,"
                           "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request, context=context, timeout=10) as answer:
        assert answer.status == 200


def test_generated_route_host_is_dropped_and_builds_are_absent(stage, destination):
    assert "host" not in get(destination, "route.openshift.io/v1", "Route", "frontend", TARGET)["spec"]
    assert names(destination, "build.openshift.io/v1", "Build", TARGET) == []


def test_rbac_subjects_follow_the_mapping(stage, destination):
    binding = get(destination, "rbac.authorization.k8s.io/v1", "RoleBinding", "system:image-builders", TARGET)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "builder", "namespace": TARGET}]


def test_second_run_changes_nothing_and_creates_nothing_twice(stage, lab, workdir, source, destination):
    velero = lab["clusters"]["source"]["velero"]["namespace"]

    def made_by_runs():
        # The source's own Velero sync imports the published "-migrated" backups from the shared
        # bucket whenever its minute comes; only the Backups and Restores the runs create count.
        backups = [name for name in names(source, "velero.io/v1", "Backup", velero) if not name.endswith("-migrated")]
        return backups, names(destination, "velero.io/v1", "Restore", velero)

    before = made_by_runs()
    again = run_playbook("migrate", variables(lab, workdir), workdir)
    assert again.returncode == 0, again.output[-6000:]
    assert again.recap["changed"] == 0, again.output[-6000:]
    assert made_by_runs() == before
    assert f"{NAME}-stage" in before[0] and f"{NAME}-stage" in before[1]


def test_rollback_removes_the_stage_migration(stage, lab, workdir, destination):
    run = run_playbook("rollback", rollback_variables(lab), workdir)
    assert run.returncode == 0, run.output[-6000:]
    wait_gone(destination, TARGET)
    again = run_playbook("rollback", rollback_variables(lab), workdir)
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output[-6000:]


def test_final_migration_quiesces_the_source(stage, lab, workdir, source, destination):
    originals = {kind: replicas_of(source, api, kind, name, SOURCE_NAMESPACE)[0] for api, kind, name in WORKLOADS}
    assert all(count and count > 0 for count in originals.values()), originals
    final = run_playbook("migrate", variables(lab, workdir, "final"), workdir)
    assert final.returncode == 0, final.output[-6000:]
    for api_version, kind, name in WORKLOADS:
        count, notes = replicas_of(source, api_version, kind, name, SOURCE_NAMESPACE)
        assert count == 0 and notes[QUIESCED] == str(originals[kind]), (kind, count, notes)
        # The destination runs the workloads as the source did before the quiesce.
        count, notes = replicas_of(destination, api_version, kind, name, TARGET)
        assert count == originals[kind] and QUIESCED not in notes, (kind, count, notes)
    # The sample's CronJob is suspended on purpose: it stays so on both sides, and nothing records it.
    cronjob = get(source, "batch/v1", "CronJob", "nightly-report", SOURCE_NAMESPACE)
    assert cronjob["spec"]["suspend"] is True and "migration.openshift.io/preQuiesceSuspend" not in (
        cronjob["metadata"].get("annotations") or {})
    assert get(destination, "batch/v1", "CronJob", "nightly-report", TARGET)["spec"]["suspend"] is True


def test_rollback_resumes_the_source_and_cleans_the_destination(stage, lab, workdir, source, destination):
    run = run_playbook("rollback", rollback_variables(lab), workdir)
    assert run.returncode == 0, run.output[-6000:]
    for api_version, kind, name in WORKLOADS:
        count, notes = replicas_of(source, api_version, kind, name, SOURCE_NAMESPACE)
        assert count and count > 0 and QUIESCED not in notes, (kind, count, notes)
    assert get(source, "batch/v1", "CronJob", "nightly-report", SOURCE_NAMESPACE)["spec"]["suspend"] is True
    wait_gone(destination, TARGET)
