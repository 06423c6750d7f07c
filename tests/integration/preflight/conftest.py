"""Fixtures of the migration_preflight tests: the lab, and the bad inputs each test needs.

The lab must be up (``make lab-up``): a missing lab is an error, not a skip. Every object a
fixture creates (a broken BackupStorageLocation, a busy namespace, a bare extra cluster) is
removed again when its tests end.
"""
from __future__ import annotations

import secrets

import pytest
from kubernetes.dynamic.exceptions import NotFoundError
from preflight_helpers import start_bare_cluster, wait_for


@pytest.fixture
def args(lab, suffix) -> dict:
    """Options of a run that passes: the sample namespace mapped onto a name the destination does not have."""
    sample = lab["sample"]["namespace"]
    return {"source": {"kubeconfig": lab["clusters"]["source"]["kubeconfig"]},
            "destination": {"kubeconfig": lab["clusters"]["destination"]["kubeconfig"]},
            "namespaces": [sample], "namespace_mapping": {sample: f"{sample}-pf-{suffix}"},
            "velero_namespace": lab["clusters"]["source"]["velero"]["namespace"],
            "storage_location": lab["clusters"]["source"]["velero"]["backup_storage_location"]}


@pytest.fixture
def migration_registry(lab) -> dict:
    """The lab's migration registry (htpasswd, plain HTTP) as a ``registries`` entry."""
    registry = lab["registries"]["migration"]
    return {"name": "migration", "host": registry["address"], "username": registry["username"],
            "password": registry["password"], "tls_verify": bool(registry["tls"])}


@pytest.fixture
def broken_location(lab, suffix, source):
    """A BackupStorageLocation on the source whose bucket does not exist, once Velero marked it Unavailable."""
    velero = lab["clusters"]["source"]["velero"]
    resource = source.resources.get(api_version="velero.io/v1", kind="BackupStorageLocation")
    default = resource.get(name=velero["backup_storage_location"], namespace=velero["namespace"]).to_dict()
    name = f"preflight-broken-{suffix}"
    spec = {key: value for key, value in default["spec"].items() if key != "default"}
    spec["objectStorage"] = {"bucket": f"preflight-missing-{suffix}", "prefix": "velero"}
    spec["validationFrequency"] = "3s"
    resource.create(body={"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
                          "metadata": {"name": name, "namespace": velero["namespace"]}, "spec": spec},
                    namespace=velero["namespace"])
    try:
        def unavailable():
            found = resource.get(name=name, namespace=velero["namespace"]).to_dict()
            return found if (found.get("status") or {}).get("phase") == "Unavailable" else None

        yield wait_for(unavailable, f"Velero to mark BackupStorageLocation {name} Unavailable")
    finally:
        resource.delete(name=name, namespace=velero["namespace"])


@pytest.fixture
def busy_namespace(suffix, destination):
    """A destination namespace holding a ConfigMap of its own (and what the cluster adds by itself)."""
    # A name of its own for each test: the namespace of the test before may still be terminating.
    name = f"pf-busy-{suffix}-{secrets.token_hex(2)}"
    namespaces = destination.resources.get(api_version="v1", kind="Namespace")
    configmaps = destination.resources.get(api_version="v1", kind="ConfigMap")
    namespaces.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        configmaps.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "foo", "namespace": name},
                                "data": {"owner": "someone else"}}, namespace=name)
        yield name
    finally:
        try:
            namespaces.delete(name=name)
        except NotFoundError:
            pass


@pytest.fixture(scope="module")
def bare_cluster(tmp_path_factory):
    """An extra API server of the lab's build on free ports, without any CRD; stopped when the module ends."""
    cluster = start_bare_cluster(tmp_path_factory.mktemp("bare-cluster"))
    yield cluster
    cluster.stop()
