"""Service restore (plugin-spec §4.24; test-cases §10)."""

from tests.unit.builders import obj, restore

SERVICE_RESTORE = "openshift.io/15-service-restore-plugin"


def _service(kind):
    return obj("v1", "Service", "web", "app", spec={"type": kind, "externalIPs": ["1.2.3.4"], "clusterIP": "10.0.0.1"})


def test_load_balancer_external_ips_are_removed():
    """§4.24: type LoadBalancer -> externalIPs removed; clusterIP untouched."""
    result = restore(_service("LoadBalancer"))
    assert "externalIPs" not in result.item["spec"]
    assert result.item["spec"]["clusterIP"] == "10.0.0.1"
    assert result.actions == [SERVICE_RESTORE]


def test_other_service_types_keep_external_ips():
    """§4.24: ClusterIP / NodePort keep them."""
    for kind in ("ClusterIP", "NodePort"):
        assert restore(_service(kind)).item["spec"]["externalIPs"] == ["1.2.3.4"]
