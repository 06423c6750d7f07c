"""Velero Backup/Restore helpers: definitions, spec comparison, waiting, logs and restore results."""

import gzip
import io
import json

import pytest
from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster_facts import (
    location_summary,
    openshift_version,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero import (
    BACKUP_FIELDS,
    RESTORE_FIELDS,
    SpecConflict,
    VeleroError,
    VeleroNotInstalled,
    WaitTimeout,
    backup_definition,
    ensure_object,
    explain_error,
    parse_duration,
    progress,
    require_velero,
    restore_definition,
    spec_differences,
    wait_until,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.velero_download import (
    DownloadFailed,
    download_url,
    fetch,
    filter_log,
    flatten_results,
    parse_log_line,
    parse_results,
    summarize,
)
from urllib3 import HTTPSConnectionPool
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .velero_fakes import FakeClient, namespace_object as _namespace

BACKUP_OPTIONS = {"included_namespaces": ["sample-app"], "ttl": "24h", "snapshot_volumes": False,
                  "label_selector": {"app": "shop"}, "storage_location": None}
MIGRATION_LABELS = {"app.kubernetes.io/part-of": "openshift-migration"}


# --- definitions ---------------------------------------------------------------------------

def test_backup_definition_sets_only_given_options():
    backup = backup_definition("b1", "velero", BACKUP_OPTIONS, MIGRATION_LABELS,
                               {"openshift.io/migration-registry": "127.0.0.1:5002"})
    assert backup == {
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": "b1", "namespace": "velero", "labels": MIGRATION_LABELS,
                     "annotations": {"openshift.io/migration-registry": "127.0.0.1:5002"}},
        "spec": {"includedNamespaces": ["sample-app"], "ttl": "24h", "snapshotVolumes": False,
                 "labelSelector": {"matchLabels": {"app": "shop"}}},
    }


def test_backup_definition_rejects_a_malformed_ttl():
    with pytest.raises(VeleroError, match="'two days' is not a duration"):
        backup_definition("b1", "velero", {"ttl": "two days"})


def test_restore_definition_maps_options_to_spec_fields():
    restore = restore_definition("r1", "velero", {
        "backup_name": "b1", "namespace_mapping": {"sample-app": "sample-new"}, "existing_resource_policy": "update",
        "restore_pvs": False, "included_namespaces": ["sample-app"], "label_selector": {}})
    assert restore["spec"] == {"backupName": "b1", "namespaceMapping": {"sample-app": "sample-new"},
                               "existingResourcePolicy": "update", "restorePVs": False,
                               "includedNamespaces": ["sample-app"]}
    assert "labels" not in restore["metadata"]


def test_restore_definition_requires_a_backup():
    with pytest.raises(VeleroError, match="backup_name is required"):
        restore_definition("r1", "velero", {"backup_name": ""})


@pytest.mark.parametrize("text, seconds", [("24h", 86400), ("720h0m0s", 2592000), ("1h30m", 5400), ("90s", 90),
                                           ("1.5h", 5400), ("0", 0), ("250ms", 0.25)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1d", "h", "24 h", "-1h"])
def test_parse_duration_rejects(text):
    with pytest.raises(VeleroError):
        parse_duration(text)


# --- comparison ----------------------------------------------------------------------------

def _as_velero_stored(definition, **spec_extra):
    """The object as Velero leaves it after accepting it: defaults filled in, labels added."""
    stored = json.loads(json.dumps(definition))
    stored["spec"].update(spec_extra)
    stored["metadata"].setdefault("labels", {})["velero.io/storage-location"] = "default"
    stored["status"] = {"phase": "Completed"}
    return stored


def test_same_spec_after_velero_defaults_is_no_difference():
    wanted = backup_definition("b1", "velero", BACKUP_OPTIONS, MIGRATION_LABELS)
    existing = _as_velero_stored(wanted, ttl="24h0m0s", storageLocation="default", defaultVolumesToFsBackup=False,
                                 itemOperationTimeout="4h0m0s")
    existing["spec"]["includedNamespaces"] = ["sample-app"]
    assert spec_differences(BACKUP_FIELDS, wanted, existing) == []


def test_namespace_lists_compare_as_sets():
    wanted = backup_definition("b1", "velero", {"included_namespaces": ["a", "b"]})
    existing = _as_velero_stored(backup_definition("b1", "velero", {"included_namespaces": ["b", "a"]}))
    assert spec_differences(BACKUP_FIELDS, wanted, existing) == []


def test_differences_name_every_option_that_differs():
    wanted = backup_definition("b1", "velero", BACKUP_OPTIONS, MIGRATION_LABELS)
    existing = _as_velero_stored(backup_definition("b1", "velero", dict(BACKUP_OPTIONS, ttl="48h", snapshot_volumes=True,
                                                                        included_namespaces=["other"])))
    assert spec_differences(BACKUP_FIELDS, wanted, existing) == [
        "included_namespaces is ['other'], wanted ['sample-app']",
        "ttl is '48h', wanted '24h'",
        "snapshot_volumes is True, wanted False",
        "labels[app.kubernetes.io/part-of] is None, wanted 'openshift-migration'",
    ]


def test_restore_excludes_ignore_what_velero_appends():
    wanted = restore_definition("r1", "velero", {"backup_name": "b1", "excluded_resources": ["routes.route.openshift.io"]})
    existing = _as_velero_stored(wanted, excludedResources=["routes.route.openshift.io", "nodes", "events",
                                                            "backups.velero.io", "restores.velero.io"])
    assert spec_differences(RESTORE_FIELDS, wanted, existing) == []
    existing["spec"]["excludedResources"].append("secrets")
    assert spec_differences(RESTORE_FIELDS, wanted, existing) == [
        "excluded_resources is ['routes.route.openshift.io', 'nodes', 'events', 'backups.velero.io', "
        "'restores.velero.io', 'secrets'], wanted ['routes.route.openshift.io']"]


def test_restore_mapping_and_backup_name_differences():
    wanted = restore_definition("r1", "velero", {"backup_name": "b1", "namespace_mapping": {"a": "b"}})
    existing = _as_velero_stored(restore_definition("r1", "velero", {"backup_name": "b2", "namespace_mapping": {"a": "c"}}))
    assert spec_differences(RESTORE_FIELDS, wanted, existing) == [
        "backup_name is 'b2', wanted 'b1'", "namespace_mapping is {'a': 'c'}, wanted {'a': 'b'}"]


# --- waiting -------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _backup_with(phase, done=0, total=0, warnings=0):
    return {"metadata": {"name": "b1"},
            "status": {"phase": phase, "progress": {"itemsBackedUp": done, "totalItems": total}, "warnings": warnings}}


def test_wait_until_reports_each_change_once_and_returns_the_final_object():
    states = iter([None, _backup_with("New"), _backup_with("InProgress", 3, 10), _backup_with("InProgress", 3, 10),
                   _backup_with("InProgress", 10, 10), _backup_with("Completed", 10, 10, 1)])
    clock, seen = FakeClock(), []
    final = wait_until(lambda: next(states), lambda obj: obj["status"]["phase"] == "Completed", 60, 5, "backup b1",
                       seen.append, clock.time, clock.sleep)
    assert final["status"]["phase"] == "Completed"
    assert [(progress(obj)["phase"], progress(obj)["items_done"]) for obj in seen] == [
        ("New", 0), ("InProgress", 3), ("InProgress", 10), ("Completed", 10)]
    assert clock.now == 25


def test_wait_until_times_out_with_the_last_state():
    clock = FakeClock()
    with pytest.raises(WaitTimeout, match=r"backup b1 did not finish within 12 s \(phase InProgress, 4/9 items") as caught:
        wait_until(lambda: _backup_with("InProgress", 4, 9), lambda obj: False, 12, 5, "backup b1",
                   clock=clock.time, pause=clock.sleep)
    assert caught.value.last["status"]["phase"] == "InProgress"
    assert clock.now == 12  # the last pause is cut to the deadline


def test_wait_until_never_found():
    clock = FakeClock()
    with pytest.raises(WaitTimeout, match="never found"):
        wait_until(lambda: None, lambda obj: True, 3, 1, "backup b1", clock=clock.time, pause=clock.sleep)


def test_progress_of_a_restore():
    restore = {"status": {"phase": "InProgress", "progress": {"itemsRestored": 5, "totalItems": 8}, "errors": 2}}
    assert progress(restore) == {"phase": "InProgress", "items_done": 5, "total_items": 8, "warning_count": 0,
                                 "error_count": 2}
    assert progress({})["phase"] == "New"


# --- logs and results ----------------------------------------------------------------------

BACKUP_LOG = "\n".join([
    'time="2026-11-24T00:00:01Z" level=info msg="Setting up backup log" backup=velero/b1 logSource="pkg/x.go:1"',
    'time="2026-11-24T00:00:02Z" level=warning msg="Skipping pod volume" backup=velero/b1 namespace=sample-app name=web',
    'time="2026-11-24T00:00:03Z" level=error msg="Error backing up item" backup=velero/b1 '
    'error="routes.route.openshift.io \\"shop\\" is forbidden" resource=routes.route.openshift.io '
    'namespace=sample-app name=shop',
    'time="2026-11-24T00:00:04Z" level=debug msg="level=error in a message is not a level"',
    'not a logrus line at all',
])


def test_parse_log_line_unquotes_values():
    fields = parse_log_line('level=error msg="a \\"quoted\\" word" error=plain')
    assert fields == {"level": "error", "msg": 'a "quoted" word', "error": "plain"}


def test_filter_log_keeps_errors_and_warnings_as_sentences():
    assert filter_log(BACKUP_LOG) == [
        "warning: Skipping pod volume; sample-app/web",
        'error: Error backing up item; error: routes.route.openshift.io "shop" is forbidden; '
        "routes.route.openshift.io sample-app/shop",
    ]
    assert filter_log(BACKUP_LOG, ("error",))[0].startswith("error: Error backing up item")


RESULTS = {"warnings": {"velero": [], "cluster": ["could not restore CRD"],
                        "namespaces": {"sample-new": ["Route shop already exists"], "a-first": ["one"]}},
           "errors": {"namespaces": {"sample-new": ["Secret x: forbidden"]}}}


def test_parse_results_accepts_gzip_and_fills_every_scope():
    parsed = parse_results(gzip.compress(json.dumps(RESULTS).encode()))
    assert parsed["errors"] == {"velero": [], "cluster": [], "namespaces": {"sample-new": ["Secret x: forbidden"]}}
    assert parsed["warnings"]["namespaces"]["sample-new"] == ["Route shop already exists"]
    assert parse_results(b"") == {"warnings": {"velero": [], "cluster": [], "namespaces": {}},
                                  "errors": {"velero": [], "cluster": [], "namespaces": {}}}


def test_parse_results_rejects_garbage():
    with pytest.raises(DownloadFailed, match="not JSON"):
        parse_results(gzip.compress(b"<html>"))
    with pytest.raises(DownloadFailed, match="not a JSON object"):
        parse_results(b"[1]")


def test_flatten_results_lists_errors_first_then_namespaces_by_name():
    assert flatten_results(parse_results(json.dumps(RESULTS).encode())) == [
        "error: namespace sample-new: Secret x: forbidden",
        "warning: cluster: could not restore CRD",
        "warning: namespace a-first: one",
        "warning: namespace sample-new: Route shop already exists",
    ]


def test_summarize_caps_the_message():
    assert summarize([]) == ""
    assert summarize(["a", "b", "c"], limit=2) == "a; b (and 1 more)"


# --- cluster look-ups through a fake kubernetes.core client ---------------------------------

def test_ensure_object_creates_then_finds_then_conflicts():
    client = FakeClient([_namespace("velero")])
    wanted = backup_definition("b1", "velero", BACKUP_OPTIONS)
    assert ensure_object(client, wanted, BACKUP_FIELDS)[1] is True
    assert ensure_object(client, wanted, BACKUP_FIELDS)[1] is False
    with pytest.raises(SpecConflict, match=r"Backup velero/b1 already exists with a different spec: ttl is '24h', wanted '48h'"):
        ensure_object(client, backup_definition("b1", "velero", dict(BACKUP_OPTIONS, ttl="48h")), BACKUP_FIELDS)
    assert len(client.created) == 1


def test_require_velero_names_the_missing_crd_and_namespace():
    with pytest.raises(VeleroNotInstalled, match=r"Velero CRDs are not served on https://127.0.0.1:16443 \(Backup.velero.io/v1"):
        require_velero(FakeClient(served={("v1", "Namespace")}), "velero")
    with pytest.raises(VeleroNotInstalled, match="the Velero namespace 'nowhere' does not exist on https://127.0.0.1:16443"):
        require_velero(FakeClient([_namespace("velero")]), "nowhere")
    require_velero(FakeClient([_namespace("velero")]), "velero")


def test_download_url_creates_a_request_waits_for_the_url_and_cleans_up():
    def answer(request):
        request["status"] = {"phase": "Processed", "downloadURL": "http://s3.local/b?X-Amz-Signature=secret"}

    client = FakeClient(on_create=answer)
    url = download_url(client, "velero", "BackupLog", "b1", timeout=1, sleep=0.01)
    assert url == "http://s3.local/b?X-Amz-Signature=secret"
    request = client.created[0]
    assert request["spec"] == {"target": {"kind": "BackupLog", "name": "b1"}}
    assert client.deleted == [request["metadata"]["name"]]


def test_download_url_times_out_clearly():
    client = FakeClient()
    with pytest.raises(DownloadFailed, match="did not answer a RestoreResults request"):
        download_url(client, "velero", "RestoreResults", "r1", timeout=0.05, sleep=0.01)
    assert len(client.deleted) == 1


def test_fetch_hides_the_signature_when_it_fails():
    def broken(url, method, timeout):
        raise OSError("connection reset")

    with pytest.raises(DownloadFailed, match=r"downloading http://s3.local/b failed: connection reset") as caught:
        fetch("http://s3.local/b?X-Amz-Signature=secret", broken)
    assert "secret" not in str(caught.value)
    assert fetch("http://x/y", lambda url, method, timeout: io.BytesIO(b"data")) == b"data"


# --- messages ------------------------------------------------------------------------------

def test_explain_unreachable_cluster_names_the_address_and_the_fix():
    pool = HTTPSConnectionPool("127.0.0.1", 1)
    error = MaxRetryError(pool, "/version", NewConnectionError(pool, "Failed to establish a new connection: refused"))
    message = explain_error(error)
    assert message.startswith("cluster https://127.0.0.1:1 is unreachable: ")
    assert message.endswith("Failed to establish a new connection: refused; check host/kubeconfig")


def test_explain_api_statuses():
    class ApiError(Exception):
        def __init__(self, status, body):
            super().__init__(status)
            self.status, self.body, self.reason = status, body, "reason"

    assert explain_error(ApiError(401, ""), "https://c:6443") == (
        "cluster https://c:6443 rejected the credentials (401 Unauthorized): check the token or kubeconfig")
    assert explain_error(ApiError(403, b'{"message": "backups is forbidden"}'), "https://c:6443") == (
        "cluster https://c:6443 refused the request (403 Forbidden): backups is forbidden")
    assert explain_error(ApiError(422, "not json"), "") == "the cluster answered 422: not json"
    assert explain_error(MigrationError("plain")) == "plain"


# --- cluster facts -------------------------------------------------------------------------

def test_location_summary():
    location = {"metadata": {"name": "default"},
                "spec": {"provider": "aws", "default": True, "config": {"region": "us-east-1"},
                         "objectStorage": {"bucket": "velero", "prefix": "velero"}},
                "status": {"phase": "Available", "lastValidationTime": "2026-11-24T00:00:00Z"}}
    assert location_summary(location) == {
        "name": "default", "phase": "Available", "provider": "aws", "bucket": "velero", "prefix": "velero",
        "config": {"region": "us-east-1"}, "default": True, "access_mode": "ReadWrite",
        "last_validation_time": "2026-11-24T00:00:00Z"}
    assert location_summary({"metadata": {"name": "new"}, "spec": {}})["phase"] == "Unknown"


def test_openshift_version_prefers_desired_then_history():
    assert openshift_version(None) is None
    assert openshift_version({"status": {"desired": {"version": "4.16.3"}}}) == "4.16.3"
    assert openshift_version({"status": {"history": [{"version": "4.15.1"}, {"version": "4.14.0"}]}}) == "4.15.1"


def test_explain_socket_errors_and_other_os_errors():
    assert explain_error(ConnectionRefusedError(111, "Connection refused"), "https://c:6443") == (
        "cluster https://c:6443 is unreachable: [Errno 111] Connection refused; check host/kubeconfig")
    assert explain_error(FileNotFoundError(2, "No such file or directory", "/kube/config")) == (
        "[Errno 2] No such file or directory: '/kube/config'")


def test_explain_looks_through_wrapping_errors():
    class ApiError(Exception):
        status, body, reason = 401, "", "Unauthorized"

    try:
        try:
            raise ApiError("401")
        except ApiError as cause:
            raise MigrationError("reading ClusterVersion /version failed: 401 ...") from cause
    except MigrationError as wrapped:
        assert explain_error(wrapped, "https://c:6443") == (
            "cluster https://c:6443 rejected the credentials (401 Unauthorized): check the token or kubeconfig")
