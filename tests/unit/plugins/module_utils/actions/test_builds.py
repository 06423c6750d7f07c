"""Build restore (plugin-spec §4.12; test-cases §1.1)."""

from tests.unit.builders import obj, restore

BUILD_RESTORE = "openshift.io/06-build-restore-plugin"


def test_builds_are_always_skipped_unchanged():
    """§4.12: always skip, item unchanged."""
    item = obj("build.openshift.io/v1", "Build", "web-1", "app", spec={"output": {"to": {"kind": "DockerImage"}}})
    result = restore(item)
    assert result.skip is True
    assert result.actions == [BUILD_RESTORE]
    assert result.item["spec"] == {"output": {"to": {"kind": "DockerImage"}}}
