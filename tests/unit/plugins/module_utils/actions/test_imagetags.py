"""ImageTag restore (plugin-spec §4.33)."""

from tests.unit.builders import obj, restore

IMAGETAG_RESTORE = "openshift.io/23-imagetag-restore-plugin"


def test_imagetags_are_always_skipped():
    """§4.33: always skip, item unchanged."""
    item = obj("image.openshift.io/v1", "ImageTag", "web:latest", "app", spec={"tag": {"name": "latest"}})
    result = restore(item)
    assert result.skip is True
    assert result.actions == [IMAGETAG_RESTORE]
    assert result.item["spec"] == {"tag": {"name": "latest"}}
