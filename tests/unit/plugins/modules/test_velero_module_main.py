"""velero_backup, velero_restore and cluster_info over a scripted client: results, check mode, failures."""
import gzip
import io
import json

import ansible.module_utils.urls
import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.openshift_migration.velero.plugins.modules import cluster_info, velero_backup, velero_restore

from ..module_utils.velero_fakes import FakeClient, namespace_object

SIGNED_URL = "http://127.0.0.1:19000/velero/log.gz?X-Amz-Signature=abc"


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def run_module(monkeypatch, module, client, args, check_mode=False):
    def exit_json(self, **result):
        raise Exit(dict(result, failed=False))

    def fail_json(self, msg, **result):
        raise Exit(dict(result, failed=True, msg=msg))

    def fake_api_client(module=None):
        client.dry_run = module.check_mode
        return client

    monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(module, "get_api_client", fake_api_client)
    with patch_module_args(dict(args, _ansible_check_mode=check_mode)), pytest.raises(Exit) as caught:
        module.main()
    return caught.value.result


def answer_download_requests(request):
    if request["kind"] == "DownloadRequest":
        request["status"] = {"phase": "Processed", "downloadURL": SIGNED_URL}


def serve(monkeypatch, payload: bytes):
    """Answer the signed URL with ``payload`` gzip'd, as the object store does."""
    fetched = []

    def open_url(url, method, timeout):
        fetched.append(url)
        return io.BytesIO(gzip.compress(payload))

    monkeypatch.setattr(ansible.module_utils.urls, "open_url", open_url)
    return fetched


def status(phase, done=0, total=0, warnings=0, errors=0, restore=False):
    key = "itemsRestored" if restore else "itemsBackedUp"
    return {"phase": phase, "progress": {key: done, "totalItems": total}, "warnings": warnings, "errors": errors}


BACKUP_ARGS = {"name": "b1", "included_namespaces": ["shop"], "ttl": "24h", "wait": True, "wait_sleep": 0,
               "wait_timeout": 5, "labels": {"app.kubernetes.io/part-of": "openshift-migration"}}


def test_backup_created_waited_then_found(monkeypatch):
    client = FakeClient([namespace_object("velero")], scripts={("Backup", "b1"): [
        status("New"), status("InProgress", 4, 10), status("Completed", 10, 10)]})
    first = run_module(monkeypatch, velero_backup, client, BACKUP_ARGS)
    assert first["failed"] is False and first["changed"] is True
    assert (first["phase"], first["progress"]) == ("Completed", {"items_backed_up": 10, "total_items": 10})
    assert [entry["phase"] for entry in first["history"]] == ["New", "InProgress", "Completed"]
    assert client.created[0]["metadata"]["labels"] == {"app.kubernetes.io/part-of": "openshift-migration"}
    second = run_module(monkeypatch, velero_backup, client, BACKUP_ARGS)
    assert second["failed"] is False and second["changed"] is False and second["phase"] == "Completed"
    assert len(client.created) == 1


def test_backup_check_mode_creates_nothing(monkeypatch):
    client = FakeClient([namespace_object("velero")])
    result = run_module(monkeypatch, velero_backup, client, BACKUP_ARGS, check_mode=True)
    assert result["failed"] is False and result["changed"] is True
    assert result["backup"]["spec"] == {"includedNamespaces": ["shop"], "ttl": "24h"}
    assert ("Backup", "velero", "b1") not in client.objects


def test_backup_partially_failed_carries_the_log_lines(monkeypatch):
    log = "\n".join(['level=info msg="starting"',
                     'level=error msg="Error backing up item" error="timed out" resource=pods namespace=shop name=web'])
    fetched = serve(monkeypatch, log.encode())
    client = FakeClient([namespace_object("velero")], on_create=answer_download_requests,
                        scripts={("Backup", "b1"): [status("PartiallyFailed", 9, 10, errors=1)]})
    result = run_module(monkeypatch, velero_backup, client, BACKUP_ARGS)
    assert result["failed"] is True
    assert result["msg"] == ("velero_backup: backup velero/b1 ended PartiallyFailed on https://127.0.0.1:16443: "
                             "error: Error backing up item; error: timed out; pods shop/web")
    assert result["error_count"] == 1 and result["log_lines"] == ["error: Error backing up item; error: timed out; pods shop/web"]
    assert fetched == [SIGNED_URL]
    assert client.created[-1]["spec"]["target"] == {"kind": "BackupLog", "name": "b1"}


def test_backup_failed_validation_reports_velero_reasons(monkeypatch):
    failed = dict(status("FailedValidation"), validationErrors=['backupstoragelocations.velero.io "nope" not found'])
    client = FakeClient([namespace_object("velero")], scripts={("Backup", "b1"): [failed]})
    result = run_module(monkeypatch, velero_backup, client, BACKUP_ARGS)
    assert result["msg"].endswith('ended FailedValidation on https://127.0.0.1:16443: backupstoragelocations.velero.io "nope" not found')
    assert "log_lines" not in result


def test_backup_timeout_names_the_last_phase(monkeypatch):
    client = FakeClient([namespace_object("velero")], scripts={("Backup", "b1"): [status("InProgress", 2, 10)] * 1000})
    result = run_module(monkeypatch, velero_backup, client, dict(BACKUP_ARGS, wait_timeout=0))
    assert result["failed"] is True and result["phase"] == "InProgress"
    assert result["msg"] == ("velero_backup: backup velero/b1 did not finish within 0 s (phase InProgress, 2/10 items, "
                             "0 warnings, 0 errors) on https://127.0.0.1:16443")


def test_backup_without_velero(monkeypatch):
    client = FakeClient([namespace_object("velero")], served={("v1", "Namespace")})
    result = run_module(monkeypatch, velero_backup, client, BACKUP_ARGS)
    assert result["msg"] == ("velero_backup: Velero CRDs are not served on https://127.0.0.1:16443 "
                             "(Backup.velero.io/v1 is missing): install Velero on that cluster")


RESTORE_ARGS = {"name": "r1", "backup_name": "b1", "namespace_mapping": {"shop": "shop-new"}, "wait": True,
                "wait_sleep": 0, "wait_timeout": 5}
SYNCED_BACKUP = {"kind": "Backup", "metadata": {"name": "b1", "namespace": "velero"}, "status": {"phase": "Completed"}}
RESULTS = {"warnings": {"namespaces": {"shop-new": ["could not restore, Route shop already exists"]}},
           "errors": {"namespaces": {"shop-new": ["Secret pull: forbidden"]}}}


def test_restore_waits_for_backup_sync_then_returns_results(monkeypatch):
    serve(monkeypatch, json.dumps({"warnings": RESULTS["warnings"]}).encode())
    client = FakeClient([namespace_object("velero")], on_create=answer_download_requests, scripts={
        ("Restore", "r1"): [status("InProgress", 1, 5, restore=True), status("Completed", 5, 5, warnings=1, restore=True)]})
    reads = []

    def sync_on_third_read(resource, name=None, namespace=None):
        if resource[1] == "Backup":
            reads.append(name)
            if len(reads) == 3:
                client.objects[("Backup", "velero", "b1")] = SYNCED_BACKUP
        return FakeClient.get(client, resource, name=name, namespace=namespace)

    monkeypatch.setattr(client, "get", sync_on_third_read)
    result = run_module(monkeypatch, velero_restore, client, RESTORE_ARGS)
    assert result["failed"] is False and result["changed"] is True
    assert result["phase"] == "Completed" and result["progress"] == {"items_restored": 5, "total_items": 5}
    assert result["restore_results"]["warnings"]["namespaces"] == {"shop-new": ["could not restore, Route shop already exists"]}
    assert client.created[0]["spec"] == {"backupName": "b1", "namespaceMapping": {"shop": "shop-new"}}
    assert client.created[1]["spec"]["target"] == {"kind": "RestoreResults", "name": "r1"}


def test_restore_partially_failed_lists_errors_per_namespace(monkeypatch):
    serve(monkeypatch, json.dumps(RESULTS).encode())
    client = FakeClient([namespace_object("velero"), SYNCED_BACKUP], on_create=answer_download_requests,
                        scripts={("Restore", "r1"): [status("PartiallyFailed", 5, 5, 1, 1, restore=True)]})
    result = run_module(monkeypatch, velero_restore, client, RESTORE_ARGS)
    assert result["failed"] is True
    assert result["msg"] == ("velero_restore: restore velero/r1 ended PartiallyFailed on https://127.0.0.1:16443: "
                             "error: namespace shop-new: Secret pull: forbidden; "
                             "warning: namespace shop-new: could not restore, Route shop already exists")


def test_restore_of_an_unknown_backup_without_wait(monkeypatch):
    client = FakeClient([namespace_object("velero")])
    result = run_module(monkeypatch, velero_restore, client, dict(RESTORE_ARGS, wait=False))
    assert result["msg"] == ("velero_restore: backup velero/b1 is not known to Velero on https://127.0.0.1:16443: check the "
                             "name, or wait for Velero's backup sync to import it from the backup location (wait: true)")
    assert client.created == []


def test_restore_conflict_names_the_mapping(monkeypatch):
    existing = {"kind": "Restore", "metadata": {"name": "r1", "namespace": "velero"},
                "spec": {"backupName": "b1", "namespaceMapping": {"shop": "shop-old"}}, "status": status("Completed")}
    client = FakeClient([namespace_object("velero"), SYNCED_BACKUP, existing])
    result = run_module(monkeypatch, velero_restore, client, RESTORE_ARGS)
    assert result["msg"] == ("velero_restore: Restore velero/r1 already exists with a different spec: namespace_mapping is "
                             "{'shop': 'shop-old'}, wanted {'shop': 'shop-new'}. Use another name, or delete the existing Restore")


def test_backup_short_wait_without_failing_on_timeout_returns_progress(monkeypatch):
    client = FakeClient([namespace_object("velero")], scripts={("Backup", "b1"): [status("InProgress", 2, 10)] * 1000})
    result = run_module(monkeypatch, velero_backup, client, dict(BACKUP_ARGS, wait_timeout=0, fail_on_timeout=False))
    assert result["failed"] is False and result["changed"] is True
    assert result["timed_out"] is True and result["phase"] == "InProgress"
    assert result["progress"] == {"items_backed_up": 2, "total_items": 10}
    done = FakeClient([namespace_object("velero")], scripts={("Backup", "b1"): [status("Completed", 10, 10)]})
    finished = run_module(monkeypatch, velero_backup, done, dict(BACKUP_ARGS, fail_on_timeout=False))
    assert finished["timed_out"] is False and finished["phase"] == "Completed"


def test_backup_failure_still_fails_when_timeouts_do_not(monkeypatch):
    failed = dict(status("FailedValidation"), validationErrors=["no storage location"])
    client = FakeClient([namespace_object("velero")], scripts={("Backup", "b1"): [failed]})
    result = run_module(monkeypatch, velero_backup, client, dict(BACKUP_ARGS, fail_on_timeout=False))
    assert result["failed"] is True and result["msg"].endswith(": no storage location")


def _sync_on_read(monkeypatch, client, read_number):
    reads = []

    def sync(resource, name=None, namespace=None):
        if resource[1] == "Backup":
            reads.append(name)
            if len(reads) == read_number:
                client.objects[("Backup", "velero", "b1")] = SYNCED_BACKUP
        return FakeClient.get(client, resource, name=name, namespace=namespace)

    monkeypatch.setattr(client, "get", sync)
    return reads


def test_restore_waits_for_the_sync_on_its_own_timeout_then_creates_without_waiting(monkeypatch):
    client = FakeClient([namespace_object("velero")])
    reads = _sync_on_read(monkeypatch, client, 3)
    result = run_module(monkeypatch, velero_restore, client, dict(RESTORE_ARGS, wait=False, backup_sync_timeout=5))
    assert result["failed"] is False and result["changed"] is True and len(reads) == 3
    assert result["phase"] == "New" and "timed_out" not in result
    assert client.created[0]["spec"]["backupName"] == "b1"


def test_restore_sync_that_never_comes_names_the_wait_and_creates_nothing(monkeypatch):
    client = FakeClient([namespace_object("velero")])
    result = run_module(monkeypatch, velero_restore, client, dict(RESTORE_ARGS, wait=False, backup_sync_timeout=0))
    assert result["msg"] == ("velero_restore: backup velero/b1 did not reach https://127.0.0.1:16443 within 0 s of waiting "
                             "for Velero's backup sync: check the name, and that a backup storage location of this "
                             "cluster points at the bucket and prefix that hold the backup")
    assert client.created == []


def test_restore_short_wait_returns_progress_then_the_end(monkeypatch):
    client = FakeClient([namespace_object("velero"), SYNCED_BACKUP], scripts={("Restore", "r1"): [
        status("InProgress", 1, 5, restore=True), status("InProgress", 1, 5, restore=True),
        status("Completed", 5, 5, restore=True)]})
    args = dict(RESTORE_ARGS, wait_timeout=0, fail_on_timeout=False, backup_sync_timeout=60)
    first = run_module(monkeypatch, velero_restore, client, args)
    assert first["failed"] is False and first["changed"] is True and first["timed_out"] is True
    assert first["progress"] == {"items_restored": 1, "total_items": 5}
    last = run_module(monkeypatch, velero_restore, client, dict(args, wait_timeout=5))
    assert last["changed"] is False and last["timed_out"] is False and last["phase"] == "Completed"
    assert len(client.created) == 1


def test_cluster_info_unknown_velero_namespace_fails_unless_only_probing(monkeypatch):
    client = FakeClient([namespace_object("velero")])
    client.client = type("Dynamic", (), {"version": {"kubernetes": {"major": "1", "minor": "29", "gitVersion": "v1.29.2"}}})()
    failed = run_module(monkeypatch, cluster_info, client, {"velero_namespace": "nowhere"})
    assert failed["msg"] == ("cluster_info: the Velero namespace 'nowhere' does not exist on https://127.0.0.1:16443: "
                             "set the namespace Velero runs in (velero_namespace / namespace)")
    probed = run_module(monkeypatch, cluster_info, client, {"velero_namespace": "nowhere", "require_velero": False})
    assert probed["failed"] is False and probed["changed"] is False
    assert (probed["server_version"], probed["git_version"], probed["openshift"]) == ("1.29", "v1.29.2", False)
    assert probed["registry_hostname"] == ""
    assert probed["velero"]["installed"] is False and probed["velero"]["backup_storage_locations"] == []
