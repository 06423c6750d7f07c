"""Server version and internal registry discovery (plugin-spec §3.1, §3.2; §7 #19)."""

import json

import pytest
from ansible_collections.openshift_migration.velero.plugins.module_utils.cluster import (
    discover_registry_hostname,
    discover_server_version,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import (
    MigrationError,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.lookups import (
    SnapshotLookup,
)

from tests.unit.builders import obj

V127 = {"major": "1", "minor": "27+", "gitVersion": "v1.27.3"}


def _stream(repository, name="cli"):
    return obj("image.openshift.io/v1", "ImageStream", name, "openshift", status={"dockerImageRepository": repository})


def _apiserver_config(hostname):
    config = {"imagePolicyConfig": {"internalRegistryHostname": hostname}}
    return obj("v1", "ConfigMap", "config", "openshift-apiserver", data={"config.yaml": json.dumps(config)})


@pytest.mark.parametrize(
    "version, expected",
    [
        (V127, "1.27"),
        ({"major": "1", "minor": "11", "gitVersion": "v1.11.0+d4cacc0"}, "1.11"),
        ({"major": "", "minor": "", "gitVersion": "v1.25.4+a34b9e9"}, "1.25"),
        ({"major": "1", "minor": "x", "gitVersion": "v1.30.1"}, "1.30"),
    ],
)
def test_server_version_is_major_dot_minor(version, expected):
    """§3.1: minor's '+' stripped; gitVersion fallback when major/minor do not parse."""
    assert discover_server_version(SnapshotLookup([], version)) == expected


def test_server_version_with_unparsable_git_version_fails():
    """§3.1 step 4: 'gitVersion does not match expected format'."""
    with pytest.raises(MigrationError, match="gitVersion"):
        discover_server_version(SnapshotLookup([], {"major": "", "minor": "", "gitVersion": "1.27"}))


def test_server_version_unknown_fails():
    """§3.1 step 2: no /version answer -> error."""
    with pytest.raises(MigrationError):
        discover_server_version(SnapshotLookup([], None))


def test_registry_from_the_first_openshift_imagestream():
    """§3.2 step 2: registry part of the first openshift ImageStream's dockerImageRepository."""
    streams = [_stream("image-registry.openshift-image-registry.svc:5000/openshift/cli"), _stream("other:1/o/x", "x")]
    assert discover_registry_hostname(SnapshotLookup(streams, V127)) == "image-registry.openshift-image-registry.svc:5000"


def test_registry_is_empty_when_the_imagestream_repository_has_no_host():
    """§3.2 step 2: first component without '.', ':' or 'localhost' -> registry ''."""
    lookup = SnapshotLookup([_stream("openshift/cli"), _apiserver_config("ignored:5000")], V127)
    assert discover_registry_hostname(lookup) == ""


def test_registry_falls_back_when_the_imagestream_repository_is_empty():
    """§3.2 step 3: empty status.dockerImageRepository -> version-based fallback."""
    lookup = SnapshotLookup([_stream(""), _apiserver_config("reg.internal:5000")], V127)
    assert discover_registry_hostname(lookup) == "reg.internal:5000"


def test_registry_config_that_is_not_json_fails():
    """§3.2 step 3: config.yaml parsed as JSON; parse error -> error."""
    config = obj("v1", "ConfigMap", "config", "openshift-apiserver", data={"config.yaml": "imagePolicyConfig: {"})
    with pytest.raises(MigrationError):
        discover_registry_hostname(SnapshotLookup([config], V127))


def test_registry_on_ocp3_is_the_docker_registry_service():
    """§3.2 step 3 (1.7-1.11): '<clusterIP>:<ports[0].port>' of default/docker-registry."""
    service = obj("v1", "Service", "docker-registry", "default",
                  spec={"clusterIP": "172.30.1.1", "ports": [{"port": 5000}, {"port": 5001}]})
    lookup = SnapshotLookup([service], {"major": "1", "minor": "11"})
    assert discover_registry_hostname(lookup) == "172.30.1.1:5000"


def test_registry_on_ocp3_without_the_service_is_empty():
    """§3.2 step 3: Service lookup error -> ''."""
    assert discover_registry_hostname(SnapshotLookup([], {"major": "1", "minor": "9"})) == ""


def test_registry_on_ocp4_from_the_apiserver_config_map():
    """§3.2 step 3 (>= 1.12): imagePolicyConfig.internalRegistryHostname of openshift-apiserver/config."""
    lookup = SnapshotLookup([_apiserver_config("image-registry.openshift-image-registry.svc:5000")], V127)
    assert discover_registry_hostname(lookup) == "image-registry.openshift-image-registry.svc:5000"


def test_registry_on_plain_kubernetes_is_empty():
    """§7 #19 (intended): non-OpenShift >= 1.12 cluster -> '' instead of an error."""
    assert discover_registry_hostname(SnapshotLookup([], V127)) == ""


@pytest.mark.parametrize(
    "version, message",
    [({"major": "2", "minor": "1"}, "Must be 1.x"), ({"major": "1", "minor": "6"}, "Must be 1.7 or greater")],
)
def test_registry_discovery_rejects_unsupported_versions(version, message):
    """§3.2 step 3: major != 1 and minor < 7 are errors."""
    with pytest.raises(MigrationError, match=message):
        discover_registry_hostname(SnapshotLookup([], version))
