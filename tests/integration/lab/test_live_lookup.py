"""The live look-up and cluster discovery against a real kube-apiserver (the lab's source cluster).

The same actions that run in filters over a snapshot run here over the kubernetes dynamic
client: this proves LiveLookup answers get/list/label selectors/not-found like the snapshot.
"""
from __future__ import annotations

from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster import (
    discover_registry_hostname, discover_server_version)
from ansible_collections.openshift_migration.velero.plugins.module_utils.context import BackupContext, ClusterFacts
from ansible_collections.openshift_migration.velero.plugins.module_utils.lookups import LiveLookup
from ansible_collections.openshift_migration.velero.plugins.module_utils.runner import run_backup_item

NAMESPACE = "sample-app"


def test_server_version_is_discovered_from_the_api_server(lab, source):
    assert discover_server_version(LiveLookup(source)) == lab["clusters"]["source"]["server_version"]


def test_registry_hostname_is_discovered_from_the_openshift_imagestreams(lab, source):
    assert discover_registry_hostname(LiveLookup(source)) == lab["clusters"]["source"]["registry_hostname"]


def test_get_finds_an_object_and_returns_none_for_a_missing_one(source):
    lookup = LiveLookup(source)
    account = lookup.get("v1", "ServiceAccount", "app", NAMESPACE)
    assert account["metadata"]["name"] == "app"
    assert lookup.get("v1", "ServiceAccount", "no-such-account", NAMESPACE) is None


def test_get_of_a_kind_the_cluster_does_not_serve_is_not_found(source):
    assert LiveLookup(source).get("example.invalid/v1", "Nothing", "x", NAMESPACE) is None
    assert LiveLookup(source).list("example.invalid/v1", "Nothing", NAMESPACE) == []


def test_list_filters_by_namespace_and_label_selector(source):
    lookup = LiveLookup(source)
    controllers = lookup.list("v1", "ReplicationController", NAMESPACE,
                              {"openshift.io/deployment-config.name": "frontend"})
    assert sorted(rc["metadata"]["name"] for rc in controllers) == ["frontend-1", "frontend-2"]
    assert lookup.list("v1", "ReplicationController", NAMESPACE, "openshift.io/deployment-config.name=none") == []
    assert lookup.list("v1", "ReplicationController", "default") == []


def test_service_account_backup_finds_its_scc_on_the_live_cluster(lab, source):
    lookup = LiveLookup(source)
    facts = ClusterFacts(lookup=lookup)
    account = lookup.get("v1", "ServiceAccount", "app", NAMESPACE)
    result = run_backup_item(account, BackupContext(backup={"metadata": {"name": "b"}}, cluster=facts))
    assert {"group": "security.openshift.io", "resource": "securitycontextconstraints", "namespace": "",
            "name": "sample-app-anyuid"} in result.additional_items


def test_common_backup_stamps_live_facts_on_a_deploymentconfig(lab, source):
    lookup = LiveLookup(source)
    dc = lookup.get("apps.openshift.io/v1", "DeploymentConfig", "frontend", NAMESPACE)
    result = run_backup_item(dc, BackupContext(backup={}, cluster=ClusterFacts(lookup=lookup)))
    notes = result.item["metadata"]["annotations"]
    assert notes["openshift.io/backup-server-version"] == lab["clusters"]["source"]["server_version"]
    assert notes["openshift.io/backup-registry-hostname"] == lab["clusters"]["source"]["registry_hostname"]
    assert notes["oadp.openshift.io/includes-dm-dc-fix"] == "true"


def test_kubernetes_core_client_answers_the_same(lab):
    """Modules build their look-up on kubernetes.core's client; it must answer like the dynamic client."""
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

    lookup = LiveLookup(get_api_client(kubeconfig=lab["clusters"]["source"]["kubeconfig"]))
    assert discover_server_version(lookup) == lab["clusters"]["source"]["server_version"]
    assert lookup.get("v1", "ServiceAccount", "app", NAMESPACE)["metadata"]["name"] == "app"
    assert lookup.get("v1", "ServiceAccount", "no-such-account", NAMESPACE) is None
