"""Cluster options of backup_transform: facts, connection options, and failures that name the cluster."""
import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster_options import (
    CONNECTION_KEYS,
    cluster_from_option,
    cluster_option_spec,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.lookups import SnapshotLookup


def test_facts_give_a_snapshot_lookup():
    scc = {"apiVersion": "security.openshift.io/v1", "kind": "SecurityContextConstraints",
           "metadata": {"name": "anyuid"}}
    facts = cluster_from_option({"server_version": "4.14", "registry_hostname": "", "objects": [scc],
                                 "kubeconfig": None}, "source")
    assert (facts.server_version, facts.registry_hostname) == ("4.14", "")
    assert isinstance(facts.lookup, SnapshotLookup)
    assert facts.lookup.get("security.openshift.io/v1", "SecurityContextConstraints", "anyuid") == scc
    assert cluster_from_option(None, "source") is None


def test_unreachable_cluster_is_named_and_the_token_is_not():
    with pytest.raises(MigrationError, match="cannot connect to the destination cluster") as caught:
        cluster_from_option({"host": "https://127.0.0.1:1", "api_key": "very-secret-token",
                             "validate_certs": False}, "destination")
    assert "very-secret-token" not in str(caught.value)


def test_option_spec_reuses_kubernetes_core_connection_options():
    options = cluster_option_spec()["options"]
    assert set(CONNECTION_KEYS) < set(options)
    assert options["validate_certs"]["aliases"] == ["verify_ssl"]
    assert options["objects"] == {"type": "list", "elements": "dict"}
