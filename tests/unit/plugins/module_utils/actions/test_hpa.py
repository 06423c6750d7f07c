"""HorizontalPodAutoscaler restore (plugin-spec §4.34; test-cases §2.1, §10; §7 #12)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError
from tests.unit.builders import obj, restore

HPA_RESTORE = "openshift.io/24-horizontalpodautoscaler-restore-plugin"


def _hpa(target, api_version="autoscaling/v2", **spec):
    return obj(api_version, "HorizontalPodAutoscaler", "web", "app", spec=dict({"scaleTargetRef": target}, **spec))


def test_deploymentconfig_target_gets_the_openshift_group():
    """§4.34: apiVersion v1 + kind DeploymentConfig -> apps.openshift.io/v1."""
    result = restore(_hpa({"apiVersion": "v1", "kind": "DeploymentConfig", "name": "x"}, api_version="autoscaling/v1"))
    assert result.item["spec"]["scaleTargetRef"] == {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "name": "x"}
    assert result.actions == [HPA_RESTORE]


def test_v2_fields_survive_the_target_fix():
    """§7 #12 (intended): only scaleTargetRef.apiVersion changes; spec.behavior and v2 metrics kept."""
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 300}}
    metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    item = _hpa({"apiVersion": "v1", "kind": "DeploymentConfig", "name": "x"}, behavior=behavior, metrics=metrics,
                minReplicas=1, maxReplicas=5)
    result = restore(item)
    spec = result.item["spec"]
    assert spec["behavior"] == behavior
    assert spec["metrics"] == metrics
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 5)
    assert result.item["apiVersion"] == "autoscaling/v2"


@pytest.mark.parametrize(
    "target",
    [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"},
        {"apiVersion": "v1", "kind": "ReplicationController", "name": "x"},
        {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "name": "x"},
        {},
    ],
)
def test_other_targets_are_unchanged(target):
    """§4.34 / test-cases §10: apps/v1 Deployment unchanged."""
    assert restore(_hpa(dict(target))).item["spec"]["scaleTargetRef"] == target


def test_malformed_group_version_is_an_action_error():
    """§4.34 / test-cases §10: 'a/b/c' -> error 'unexpected GroupVersion string'."""
    with pytest.raises(ActionError, match="unexpected GroupVersion string"):
        restore(_hpa({"apiVersion": "a/b/c", "kind": "DeploymentConfig", "name": "x"}))
