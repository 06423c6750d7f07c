"""The runner's handling of bad input: one clear error naming the object, or the item left alone."""
from __future__ import annotations

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.context import RestoreContext, facts_from_dict
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError, MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.runner import run_restore_item

DEST = {"server_version": "1.29", "registry_hostname": "new:5000"}


def _ctx():
    return RestoreContext(restore={"metadata": {"name": "r"}, "spec": {"namespaceMapping": {"a": "b"}}},
                          cluster=facts_from_dict(DEST))


def _deployment(containers):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a",
                         "annotations": {"openshift.io/backup-registry-hostname": "old:5000"}},
            "spec": {"template": {"spec": {"containers": containers}}}}


@pytest.mark.parametrize("item, message", [
    ({"apiVersion": "apps/v1", "kind": "Deployment"}, "Deployment /: has no metadata.name"),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": "web"}, "has no metadata.name"),
    ({"kind": "Deployment", "metadata": {"name": "web"}}, "has no apiVersion or kind"),
    (["not", "an", "object"], "must be a Kubernetes object"),
], ids=["no metadata", "metadata not a mapping", "no apiVersion", "not a dict"])
def test_malformed_items_get_one_clear_error(item, message):
    with pytest.raises(MigrationError) as caught:
        run_restore_item(item, _ctx())
    assert message.split(": ")[-1] in str(caught.value)


@pytest.mark.parametrize("image", ["", "nginx", "old:5000", "quay.io/x/y:1", ":::", "old:5000/"])
def test_unparsable_or_foreign_image_references_are_left_unchanged(image):
    result = run_restore_item(_deployment([{"name": "app", "image": image}]), _ctx())
    assert result.item["spec"]["template"]["spec"]["containers"][0]["image"] == image


def test_internal_image_without_namespace_keeps_its_name():
    result = run_restore_item(_deployment([{"name": "app", "image": "old:5000/app:v1"}]), _ctx())
    assert result.item["spec"]["template"]["spec"]["containers"][0]["image"] == "new:5000/app:v1"


def test_wrongly_shaped_fields_are_left_alone_never_a_traceback():
    item = _deployment("not a list")
    item["apiVersion"] = "v1"
    item["kind"] = "ReplicationController"
    item["spec"]["template"]["spec"] = {"containers": [{"name": "app", "image": 7}], "initContainers": "x"}
    result = run_restore_item(item, _ctx())
    assert result.item["spec"]["template"]["spec"]["containers"][0]["image"] == 7
    broken = _deployment([])
    broken["metadata"]["ownerReferences"] = "web"
    broken["kind"], broken["apiVersion"] = "Job", "batch/v1"
    broken["spec"]["template"]["spec"] = ["not", "a", "pod", "spec"]
    result = run_restore_item(broken, _ctx())
    assert result.skip is False


def test_errors_inside_an_action_name_the_action_and_the_item():
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "a"},
           "spec": {"scaleTargetRef": {"apiVersion": "a/b/c", "kind": "DeploymentConfig", "name": "web"}}}
    with pytest.raises(ActionError, match=r"24-horizontalpodautoscaler-restore-plugin failed on "
                                          r"HorizontalPodAutoscaler a/web: unexpected GroupVersion string: a/b/c"):
        run_restore_item(hpa, _ctx())
