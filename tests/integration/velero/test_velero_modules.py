"""cluster_info, velero_backup and velero_restore against the lab's clusters and Velero servers.

The sample namespace is backed up on the source; the destination's Velero imports the backup
through its backup sync, and the restore recreates it under another name there.
"""
from __future__ import annotations

import json
import socket

import pytest
from kubernetes.dynamic.exceptions import NotFoundError
from velero_modules_helpers import client_for, kubeconfig_variant, run_module, run_playbook

VELERO_KINDS = {"Backup": True, "Restore": True, "BackupStorageLocation": True, "DownloadRequest": True}


def _exists(client, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
    try:
        client.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace)
    except NotFoundError:
        return False
    return True


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def names(lab, suffix) -> dict:
    sample = lab["sample"]["namespace"]
    return {"backup": f"vmod-{suffix}", "restore": f"vmod-{suffix}", "sample": sample,
            "target": f"{sample}-{suffix}", "velero": lab["clusters"]["source"]["velero"]["namespace"]}


def _backup_args(lab, names, **extra) -> dict:
    args = {"kubeconfig": lab["clusters"]["source"]["kubeconfig"], "name": names["backup"],
            "namespace": names["velero"], "included_namespaces": [names["sample"]], "snapshot_volumes": False,
            "ttl": "24h", "labels": {"app.kubernetes.io/part-of": "openshift-migration"},
            "annotations": {"openshift.io/migration-registry": "127.0.0.1:5002"},
            "wait": True, "wait_timeout": 300, "wait_sleep": 1}
    args.update(extra)
    return args


def _restore_args(lab, names, **extra) -> dict:
    args = {"kubeconfig": lab["clusters"]["destination"]["kubeconfig"], "name": names["restore"],
            "backup_name": names["backup"], "namespace": names["velero"],
            "included_namespaces": [names["sample"]], "namespace_mapping": {names["sample"]: names["target"]},
            "existing_resource_policy": "none", "restore_pvs": False,
            "wait": True, "wait_timeout": 300, "wait_sleep": 1}
    args.update(extra)
    return args


# --- cluster_info ----------------------------------------------------------------------------

@pytest.mark.parametrize("cluster", ["source", "destination"])
def test_cluster_info_reports_version_registry_and_velero(lab, cluster):
    facts = lab["clusters"][cluster]
    result = run_module("cluster_info", {"kubeconfig": facts["kubeconfig"]})
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["api_url"] == facts["api_url"]
    assert result["server_version"] == facts["server_version"]
    assert result["git_version"].startswith(f"v{facts['server_version']}.")
    assert result["openshift"] is True
    assert result["openshift_version"] == facts["openshift_version"]
    assert result["registry_hostname"] == facts["registry_hostname"]
    velero = result["velero"]
    assert velero["installed"] is True and velero["namespace_exists"] is True
    assert velero["crds"] == VELERO_KINDS
    [location] = [bsl for bsl in velero["backup_storage_locations"] if bsl["name"] == facts["velero"]["backup_storage_location"]]
    assert location["phase"] == "Available"
    assert (location["provider"], location["bucket"], location["prefix"]) == ("aws", lab["s3"]["bucket"], lab["s3"]["prefix"])
    assert location["config"]["s3Url"] == lab["s3"]["endpoint"]


def test_cluster_info_source_registry_is_the_lab_registry(lab):
    result = run_module("cluster_info", {"kubeconfig": lab["clusters"]["source"]["kubeconfig"]}, check=True)
    assert result["registry_hostname"] == lab["clusters"]["source"]["registry_hostname"]
    assert result["changed"] is False


def test_cluster_info_unknown_velero_namespace(lab):
    kubeconfig = lab["clusters"]["source"]["kubeconfig"]
    result = run_module("cluster_info", {"kubeconfig": kubeconfig, "velero_namespace": "nowhere"})
    assert result["failed"]
    assert result["msg"] == (f"cluster_info: the Velero namespace 'nowhere' does not exist on {lab['clusters']['source']['api_url']}: "
                             "set the namespace Velero runs in (velero_namespace / namespace)")
    probe = run_module("cluster_info", {"kubeconfig": kubeconfig, "velero_namespace": "nowhere", "require_velero": False})
    assert not probe.get("failed"), probe
    assert probe["velero"] == {"namespace": "nowhere", "namespace_exists": False, "crds": VELERO_KINDS,
                               "installed": False, "backup_storage_locations": []}


@pytest.mark.parametrize("module, args", [
    ("cluster_info", {}),
    ("velero_backup", {"name": "never", "included_namespaces": ["sample-app"]}),
    ("velero_restore", {"name": "never", "backup_name": "never"}),
])
def test_unreachable_cluster_is_named(lab, tmp_path, module, args):
    port = _closed_port()
    kubeconfig = kubeconfig_variant(lab, "source", tmp_path, server=f"https://127.0.0.1:{port}")
    result = run_module(module, dict(args, kubeconfig=kubeconfig))
    assert result["failed"]
    assert result["msg"].startswith(f"{module}: cluster https://127.0.0.1:{port} is unreachable: ")
    assert result["msg"].endswith("Connection refused; check host/kubeconfig")


def test_rejected_token_is_named(lab, tmp_path):
    kubeconfig = kubeconfig_variant(lab, "source", tmp_path, token="not-the-lab-token")
    result = run_module("cluster_info", {"kubeconfig": kubeconfig})
    assert result["failed"]
    assert result["msg"] == (f"cluster_info: cluster {lab['clusters']['source']['api_url']} rejected the credentials "
                             "(401 Unauthorized): check the token or kubeconfig")
    assert "not-the-lab-token" not in str(result)


# --- velero_backup ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def backup(lab, names) -> dict:
    """Check mode first (nothing may appear), then the real backup with wait."""
    source = client_for(lab, "source")
    checked = run_module("velero_backup", _backup_args(lab, names), check=True)
    present_after_check = _exists(source, "velero.io/v1", "Backup", names["backup"], names["velero"])
    created = run_module("velero_backup", _backup_args(lab, names))
    return {"checked": checked, "present_after_check": present_after_check, "created": created}


def test_backup_check_mode_creates_nothing(backup):
    checked = backup["checked"]
    assert not checked.get("failed"), checked
    assert checked["changed"] is True
    assert checked["backup"]["spec"]["includedNamespaces"] == ["sample-app"]
    assert backup["present_after_check"] is False


def test_backup_completes_with_progress(backup, names):
    created = backup["created"]
    assert not created.get("failed"), created
    assert created["changed"] is True
    assert created["phase"] == "Completed"
    assert created["error_count"] == 0
    assert created["progress"]["total_items"] > 20
    assert created["progress"]["items_backed_up"] == created["progress"]["total_items"]
    assert created["history"][-1]["phase"] == "Completed"
    meta = created["backup"]["metadata"]
    assert meta["labels"]["app.kubernetes.io/part-of"] == "openshift-migration"
    assert meta["annotations"]["openshift.io/migration-registry"] == "127.0.0.1:5002"
    # Velero fills in what the module left unset, which the second run must not read as a change.
    assert created["backup"]["spec"]["storageLocation"] == "default"


def test_backup_second_run_changes_nothing(lab, names, backup):
    again = run_module("velero_backup", _backup_args(lab, names))
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert again["phase"] == "Completed"
    assert again["backup"]["metadata"]["uid"] == backup["created"]["backup"]["metadata"]["uid"]


def test_backup_with_another_spec_is_an_error(lab, names, backup):
    other = run_module("velero_backup", _backup_args(lab, names, ttl="48h", included_namespaces=["openshift"]))
    assert other["failed"]
    assert other["msg"] == (f"velero_backup: Backup {names['velero']}/{names['backup']} already exists with a different spec: "
                            f"included_namespaces is ['{names['sample']}'], wanted ['openshift']; ttl is '24h', wanted '48h'. "
                            "Use another name, or delete the existing Backup")


def test_backup_to_an_unknown_location_fails_validation(lab, names):
    result = run_module("velero_backup", _backup_args(lab, dict(names, backup=f"{names['backup']}-badloc"),
                                                      storage_location="no-such-location", wait_timeout=120))
    assert result["failed"]
    assert result["phase"] == "FailedValidation"
    assert result["msg"].startswith(f"velero_backup: backup {names['velero']}/{names['backup']}-badloc ended FailedValidation on ")
    assert "no-such-location" in result["msg"]


def test_backup_in_a_namespace_without_velero(lab, names):
    result = run_module("velero_backup", _backup_args(lab, names, namespace="nowhere"))
    assert result["failed"]
    assert result["msg"] == (f"velero_backup: the Velero namespace 'nowhere' does not exist on {lab['clusters']['source']['api_url']}: "
                             "set the namespace Velero runs in (velero_namespace / namespace)")


# --- velero_restore --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def restore(lab, names, backup) -> dict:
    """Check mode first (it also waits for the backup sync), then the real restore with wait."""
    assert backup["created"]["phase"] == "Completed", backup["created"]
    destination = client_for(lab, "destination")
    checked = run_module("velero_restore", _restore_args(lab, names), check=True)
    present_after_check = _exists(destination, "velero.io/v1", "Restore", names["restore"], names["velero"])
    created = run_module("velero_restore", _restore_args(lab, names))
    return {"checked": checked, "present_after_check": present_after_check, "created": created,
            "client": destination}


def test_restore_check_mode_creates_nothing(restore, names):
    checked = restore["checked"]
    assert not checked.get("failed"), checked
    assert checked["changed"] is True
    assert checked["restore"]["spec"]["namespaceMapping"] == {names["sample"]: names["target"]}
    assert restore["present_after_check"] is False


def test_restore_completes_into_the_mapped_namespace(restore, names):
    created = restore["created"]
    assert not created.get("failed"), created
    assert created["changed"] is True
    assert created["phase"] == "Completed"
    assert created["error_count"] == 0
    assert created["progress"]["items_restored"] == created["progress"]["total_items"] > 20
    client = restore["client"]
    assert _exists(client, "v1", "Namespace", names["target"])
    assert _exists(client, "v1", "ConfigMap", "frontend-config", names["target"])
    assert _exists(client, "route.openshift.io/v1", "Route", "frontend", names["target"])


def test_restore_second_run_changes_nothing(lab, names, restore):
    again = run_module("velero_restore", _restore_args(lab, names))
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert again["restore"]["metadata"]["uid"] == restore["created"]["restore"]["metadata"]["uid"]


def test_restore_with_another_spec_is_an_error(lab, names, restore):
    other = run_module("velero_restore", _restore_args(lab, names, namespace_mapping={names["sample"]: "elsewhere"}))
    assert other["failed"]
    assert other["msg"] == (f"velero_restore: Restore {names['velero']}/{names['restore']} already exists with a different spec: "
                            f"namespace_mapping is {{'{names['sample']}': '{names['target']}'}}, wanted "
                            f"{{'{names['sample']}': 'elsewhere'}}. Use another name, or delete the existing Restore")


def test_restore_of_an_unknown_backup(lab, names):
    result = run_module("velero_restore", _restore_args(lab, dict(names, restore=f"{names['restore']}-x"),
                                                        backup_name="no-such-backup", wait=False))
    assert result["failed"]
    assert result["msg"] == (f"velero_restore: backup {names['velero']}/no-such-backup is not known to Velero on "
                             f"{lab['clusters']['destination']['api_url']}: check the name, or wait for Velero's "
                             "backup sync to import it from the backup location (wait: true)")


def test_restore_over_existing_objects_reports_warnings_per_namespace(lab, names, restore):
    """A second Restore into the same namespace finds every object there: Velero warns, the module reads why."""
    again = run_module("velero_restore", _restore_args(lab, dict(names, restore=f"{names['restore']}-again")))
    assert not again.get("failed"), again
    assert again["phase"] == "Completed" and again["warning_count"] >= 1
    messages = again["restore_results"]["warnings"]["namespaces"][names["target"]]
    # The controller manager writes the destination's own CA into every new namespace, so this one always differs.
    assert 'could not restore, ConfigMap "kube-root-ca.crt" already exists. Warning: the in-cluster version is different ' \
           "than the backed-up version" in messages
    assert again["restore_results"]["errors"]["namespaces"] == {}


def test_backup_log_is_readable_through_a_download_request(lab, names, backup):
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.openshift_migration.velero.plugins.module_utils.velero_download import (
        download_url,
        fetch,
        filter_log,
        gunzip,
    )

    client = get_api_client(kubeconfig=lab["clusters"]["source"]["kubeconfig"])
    url = download_url(client, names["velero"], "BackupLog", names["backup"])
    assert url.startswith(lab["s3"]["endpoint"])
    log = gunzip(fetch(url)).decode()
    assert f"backup={names['velero']}/{names['backup']}" in log
    assert "level=info" in log
    kept = filter_log(log)
    assert all(line.startswith(("error: ", "warning: ")) for line in kept)
    assert len(kept) == sum(1 for line in log.splitlines() if " level=error " in line or " level=warning " in line)


PLAYBOOK = """
- name: The Velero modules share connection options through their action group
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/openshift_migration.velero.velero:
      kubeconfig: {kubeconfig}
  tasks:
    - name: Read the source cluster
      openshift_migration.velero.cluster_info:
      register: facts
    - name: Find the backup made earlier
      openshift_migration.velero.velero_backup:
        name: {backup}
        included_namespaces: [{sample}]
        wait: true
      register: found
    - name: Both ran against the source
      ansible.builtin.assert:
        that:
          - facts.registry_hostname == "{registry}"
          - found is not changed
          - found.phase == "Completed"
"""


def test_action_group_sets_the_connection_for_every_module(lab, names, backup, tmp_path):
    playbook = PLAYBOOK.format(kubeconfig=lab["clusters"]["source"]["kubeconfig"], backup=names["backup"],
                               sample=names["sample"], registry=lab["clusters"]["source"]["registry_hostname"])
    process = run_playbook(playbook, tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    stats = json.loads(process.stdout)["stats"]["localhost"]
    assert (stats["ok"], stats["changed"], stats["failures"]) == (3, 0, 0)
