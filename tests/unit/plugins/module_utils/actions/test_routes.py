"""Route restore (plugin-spec §4.11; test-cases §3.1, §10)."""

from tests.unit.builders import obj, restore

ROUTE_RESTORE = "openshift.io/05-route-restore-plugin"


def _route(annotations=None):
    return obj("route.openshift.io/v1", "Route", "web", "app", annotations, spec={"host": "a.apps.x", "to": {"name": "web"}})


def test_generated_host_is_removed():
    """§4.11: openshift.io/host.generated == "true" -> spec.host removed."""
    result = restore(_route({"openshift.io/host.generated": "true"}))
    assert "host" not in result.item["spec"]
    assert result.item["spec"]["to"] == {"name": "web"}
    assert result.actions == [ROUTE_RESTORE]


def test_static_host_is_kept():
    """§4.11: otherwise unchanged."""
    for annotations in (None, {"openshift.io/host.generated": "True"}, {"openshift.io/host.generated": "false"}):
        result = restore(_route(annotations))
        assert result.item["spec"]["host"] == "a.apps.x"
        assert result.skip is False
