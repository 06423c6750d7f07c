"""Job, DaemonSet, ReplicaSet, Deployment, StatefulSet and CronJob restore (plugin-spec §4.19–§4.23, §4.25; §7 #13)."""

import pytest

from tests.unit.builders import (
    NEW_REG,
    OLD_REG,
    obj,
    registry_annotations,
    restore,
    restore_cr,
    restore_ctx,
    with_owner,
    workload,
)

COMMON = "openshift.io/01-common-restore-plugin"
MAPPED = restore_cr(mapping={"app": "app2"})


def _template_images(item):
    spec = item["spec"]["template"]["spec"]
    return [c["image"] for c in spec["containers"] + spec.get("initContainers", [])]


def _workload(api_version, kind):
    item = workload(api_version, kind, images=(f"{OLD_REG}/app/web:1", "quay.io/x/y:1"), annotations=registry_annotations())
    item["spec"]["template"]["spec"]["initContainers"] = [{"name": "i", "image": f"{OLD_REG}/openshift/cli@sha256:1"}]
    return item


@pytest.mark.parametrize(
    "api_version, kind, action",
    [
        ("apps/v1", "DaemonSet", "openshift.io/11-daemonset-restore-plugin"),
        ("apps/v1", "ReplicaSet", "openshift.io/12-replicaset-restore-plugin"),
        ("apps/v1", "Deployment", "openshift.io/13-deployment-restore-plugin"),
        ("apps/v1", "StatefulSet", "openshift.io/14-statefulset-restore-plugin"),
        ("batch/v1", "Job", "openshift.io/10-job-restore-plugin"),
    ],
)
def test_template_images_follow_registry_and_mapping(api_version, kind, action):
    """§4.19-§4.23: swap containers + initContainers; never skip."""
    result = restore(_workload(api_version, kind), restore_ctx(MAPPED))
    assert result.actions == [COMMON, action]
    assert _template_images(result.item) == [f"{NEW_REG}/app2/web:1", "quay.io/x/y:1", f"{NEW_REG}/openshift/cli"]
    assert result.skip is False
    assert result.item["metadata"]["namespace"] == "app"


@pytest.mark.parametrize("kind", ["DaemonSet", "ReplicaSet", "Deployment"])
def test_extensions_group_only_gets_the_common_action(kind):
    """§1.1 / §4.20-4.22: 'daemonsets.apps' etc. do not match the extensions group."""
    result = restore(_workload("extensions/v1beta1", kind), restore_ctx(MAPPED))
    assert result.actions == [COMMON]
    assert _template_images(result.item)[0] == f"{OLD_REG}/app/web:1"


def test_deployment_owned_replicaset_is_still_restored():
    """§4.21: ReplicaSets are always restored."""
    item = with_owner(_workload("apps/v1", "ReplicaSet"), "Deployment", "web", "apps/v1")
    assert restore(item, item_from_backup=item).skip is False


def test_cronjob_owned_job_is_skipped():
    """§4.19 / test-cases §10: ItemFromBackup owner CronJob -> skip, item unchanged."""
    item = with_owner(_workload("batch/v1", "Job"), "CronJob", "nightly", "batch/v1")
    result = restore(item, restore_ctx(MAPPED), item_from_backup=item)
    assert result.skip is True
    assert result.actions[-1] == "openshift.io/10-job-restore-plugin"


def test_cronjob_job_template_images_are_swapped_and_fields_kept():
    """§4.25 + §7 #13 (intended): jobTemplate images swapped; batch/v1-only fields kept."""
    pod_spec = {"containers": [{"name": "c", "image": f"{OLD_REG}/app/job:1"}],
                "initContainers": [{"name": "i", "image": f"{OLD_REG}/app/init:1"}]}
    spec = {"schedule": "0 * * * *", "timeZone": "Etc/UTC", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}
    item = obj("batch/v1", "CronJob", "nightly", "app", registry_annotations(), spec=spec)
    result = restore(item, restore_ctx(MAPPED))
    out = result.item["spec"]
    assert out["timeZone"] == "Etc/UTC" and out["schedule"] == "0 * * * *"
    swapped = out["jobTemplate"]["spec"]["template"]["spec"]
    assert swapped["containers"][0]["image"] == f"{NEW_REG}/app2/job:1"
    assert swapped["initContainers"][0]["image"] == f"{NEW_REG}/app2/init:1"
    assert result.actions == [COMMON, "openshift.io/16-cronjob-restore-plugin"]


def test_images_unchanged_when_backup_registry_is_unknown():
    """§3.4/§3.5: item without backup-registry-hostname -> no swap."""
    item = workload("apps/v1", "Deployment", images=(f"{OLD_REG}/app/web:1",))
    assert _template_images(restore(item, restore_ctx(MAPPED)).item) == [f"{OLD_REG}/app/web:1"]
