"""The backup_transform module: argument handling, check mode, diff, changed, and failures."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.openshift_migration.velero.plugins.modules import backup_transform

from ..module_utils.backup_archives import DESTINATION_FACTS, SOURCE_FACTS, build_archive, sample_objects, source_scc

DOC_SOURCES = ("DOCUMENTATION", "EXAMPLES", "RETURN")


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def run_module(monkeypatch, args, check_mode=False, diff=False):
    def exit_json(self, **result):
        raise Exit(dict(result, failed=False))

    def fail_json(self, msg, **result):
        raise Exit(dict(result, failed=True, msg=msg))

    monkeypatch.setattr(backup_transform.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(backup_transform.AnsibleModule, "fail_json", fail_json)
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(Exit) as caught:
        backup_transform.main()
    return caught.value.result


@pytest.fixture
def job(tmp_path):
    src = build_archive(str(tmp_path / "b1.tar.gz"), sample_objects())
    return {"src": src, "dest": str(tmp_path / "out.tar.gz"),
            "source_cluster": dict(SOURCE_FACTS, objects=[source_scc()]),
            "destination_cluster": DESTINATION_FACTS,
            "restore": {"spec": {"backupName": "b1", "namespaceMapping": {"app": "app-new"}}}}


def test_transforms_then_reports_no_change(monkeypatch, job, tmp_path):
    first = run_module(monkeypatch, dict(job, report=str(tmp_path / "rep")))
    assert first["failed"] is False and first["changed"] is True
    assert first["report"]["totals"]["skipped"] == 1 and first["report"]["totals"]["added"] == 1
    assert first["report_files"] == [str(tmp_path / "rep.json"), str(tmp_path / "rep.md")]
    assert json.loads((tmp_path / "rep.json").read_text())["totals"] == first["report"]["totals"]
    second = run_module(monkeypatch, job)
    assert second["changed"] is False and second["archive"]["sha256"] == first["archive"]["sha256"]


def test_check_mode_writes_nothing_and_diff_shows_items(monkeypatch, job, tmp_path):
    result = run_module(monkeypatch, dict(job, report=str(tmp_path / "rep")), check_mode=True, diff=True)
    assert result["changed"] is True
    assert not os.path.exists(job["dest"]) and not os.path.exists(tmp_path / "rep.json")
    prepared = "".join(entry["prepared"] for entry in result["diff"])
    assert "-    \"host\": \"web-app.apps.old.example.com\"" in prepared
    assert any(entry["before_header"] == "routes.route.openshift.io app/web" for entry in result["diff"])
    assert "diff" not in run_module(monkeypatch, job, check_mode=True)


def test_bad_archive_fails_with_one_message(monkeypatch, job, tmp_path):
    (tmp_path / "b1.tar.gz").write_bytes(b"plain text")
    result = run_module(monkeypatch, job)
    assert result["failed"] is True
    assert result["msg"] == f"backup_transform: {job['src']} is not a gzip file"
    assert not os.path.exists(job["dest"])


def test_missing_src_file_fails_clearly(monkeypatch, job, tmp_path):
    result = run_module(monkeypatch, dict(job, src=str(tmp_path / "nope.tar.gz")))
    assert result["failed"] is True and "No such file or directory" in result["msg"]
    assert str(tmp_path / "nope.tar.gz") in result["msg"]


def test_argument_rules(monkeypatch, job):
    result = run_module(monkeypatch, dict(job, backup_name="b1"))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    result = run_module(monkeypatch, {k: v for k, v in job.items() if k != "dest"})
    assert result["failed"] is True and "one of the following is required: dest, new_backup_name" in result["msg"]
    result = run_module(monkeypatch, dict(job, new_backup_name="b2"))
    assert result["failed"] is True and "location" in result["msg"]


def test_unknown_disabled_action_is_refused(monkeypatch, job):
    result = run_module(monkeypatch, dict(job, disabled_actions=["no-such-action"]))
    assert result["failed"] is True and "unknown action 'no-such-action'" in result["msg"]


def test_disabled_action_does_not_run(monkeypatch, job):
    result = run_module(monkeypatch, dict(job, disabled_actions=["06-build-restore-plugin"]), check_mode=True)
    assert result["report"]["totals"]["skipped"] == 0


def test_credentials_are_no_log():
    spec = backup_transform.argument_spec()
    assert spec["location"]["options"]["access_key"]["no_log"] is True
    assert spec["location"]["options"]["secret_key"]["no_log"] is True
    for cluster in ("source_cluster", "destination_cluster"):
        options = spec[cluster]["options"]
        assert options["api_key"]["no_log"] and options["password"]["no_log"] and options["kubeconfig"]["no_log"]
    for side in ("source_registry_auth", "migration_registry_auth", "destination_registry_auth"):
        options = spec["image_copy"]["options"][side]["options"]
        assert options["password"]["no_log"] and options["token"]["no_log"]


def test_documentation_matches_the_argument_spec():
    import yaml

    docs = {name: yaml.safe_load(getattr(backup_transform, name)) for name in DOC_SOURCES}
    assert docs["DOCUMENTATION"]["module"] == "backup_transform"

    def compare(documented, specified, where):
        assert set(documented) == set(specified), where
        for name, option in specified.items():
            doc = documented[name]
            assert doc.get("type", "str") == option.get("type", "str"), where + name
            assert doc.get("default") == option.get("default"), where + name
            assert doc.get("choices") == option.get("choices"), where + name
            assert sorted(doc.get("aliases", [])) == sorted(option.get("aliases", [])), where + name
            if "options" in option:
                compare(doc["suboptions"], option["options"], where + name + ".")

    compare(docs["DOCUMENTATION"]["options"], backup_transform.argument_spec(), "")
    assert {"archive", "report", "dest", "new_backup", "report_files", "image_copies"} == set(docs["RETURN"])


def test_publishes_to_a_folder_location_once(monkeypatch, job, tmp_path):
    from ..module_utils.backup_archives import write_backup_folder

    write_backup_folder(str(tmp_path / "bucket" / "velero" / "backups" / "b1"), "b1", sample_objects())
    args = {key: value for key, value in job.items() if key not in ("src", "dest")}
    args.update(location={"path": str(tmp_path / "bucket"), "prefix": "velero"}, backup_name="b1",
                new_backup_name="b1-moved", log_file=str(tmp_path / "progress.log"))
    first = run_module(monkeypatch, args)
    assert first["changed"] is True and first["new_backup"]["name"] == "b1-moved"
    assert "velero-backup.json" in os.listdir(tmp_path / "bucket" / "velero" / "backups" / "b1-moved")
    assert "items:" in (tmp_path / "progress.log").read_text()  # the closing summary line
    assert run_module(monkeypatch, args)["changed"] is False


def test_location_needs_a_bucket_or_a_path(monkeypatch, job):
    result = run_module(monkeypatch, dict(job, location={"prefix": "velero"}))
    assert result["failed"] is True and "bucket, path" in result["msg"]


def test_register_needs_a_destination_connection_not_facts(monkeypatch, job, tmp_path):
    from ..module_utils.backup_archives import write_backup_folder

    write_backup_folder(str(tmp_path / "bucket" / "velero" / "backups" / "b1"), "b1", sample_objects())
    args = {key: value for key, value in job.items() if key not in ("src", "dest")}
    args.update(location={"path": str(tmp_path / "bucket"), "prefix": "velero"}, backup_name="b1",
                new_backup_name="b1-moved", register={"storage_location": "default"})
    result = run_module(monkeypatch, args)
    assert result["failed"] is True
    assert result["msg"] == ("backup_transform: register creates the Backup on the destination cluster: give "
                             "destination_cluster as connection options (kubeconfig, context, host, api_key, ...), "
                             "not as facts")
    assert not os.path.exists(tmp_path / "bucket" / "velero" / "backups" / "b1-moved")
