"""Secret restore (plugin-spec §4.27; test-cases §10)."""

from tests.unit.builders import obj, restore

SECRET_RESTORE = "openshift.io/18-secret-restore-plugin"
ORIGINATING = "service.alpha.openshift.io/originating-service-name"


def test_service_serving_cert_secret_is_skipped():
    """§4.27: key present (any value, even empty) -> skip."""
    for value in ("web", ""):
        result = restore(obj("v1", "Secret", "web-tls", "app", {ORIGINATING: value}, type="kubernetes.io/tls"))
        assert result.skip is True
        assert result.actions == [SECRET_RESTORE]


def test_other_secrets_are_restored_unchanged():
    """§4.27: else unchanged."""
    item = obj("v1", "Secret", "db", "app", {"x": "y"}, data={"password": "cw=="})
    result = restore(item)
    assert result.skip is False
    assert result.item["data"] == {"password": "cw=="}
