"""Quiesce / resume patches of workloads, and resumed copies of archive items."""
import copy

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.quiesce import (
    PRE_QUIESCE_REPLICAS,
    PRE_QUIESCE_SUSPEND,
    QuiesceError,
    apply_patch,
    change,
    quiesce_patch,
    resume_patch,
    resume_workload,
)

SCALED = [
    ("apps.openshift.io/v1", "DeploymentConfig"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("v1", "ReplicationController"),
]


def workload(api_version, kind, replicas=3, annotations=None, owners=None, **spec):
    obj = {"apiVersion": api_version, "kind": kind,
           "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
           "spec": dict(spec)}
    if replicas is not None:
        obj["spec"]["replicas"] = replicas
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    if owners:
        obj["metadata"]["ownerReferences"] = owners
    return obj


def cronjob(suspend=None, annotations=None):
    obj = workload("batch/v1", "CronJob", replicas=None, annotations=annotations, schedule="0 3 * * *")
    if suspend is not None:
        obj["spec"]["suspend"] = suspend
    return obj


CONTROLLER = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u1", "controller": True}]


@pytest.mark.parametrize("api_version, kind", SCALED)
def test_quiesce_scales_to_zero_and_records_the_replicas(api_version, kind):
    patch = quiesce_patch(workload(api_version, kind, replicas=3))
    assert patch == {"metadata": {"annotations": {PRE_QUIESCE_REPLICAS: "3"}}, "spec": {"replicas": 0}}


@pytest.mark.parametrize("api_version, kind", SCALED)
def test_resume_restores_the_replicas_and_removes_the_record(api_version, kind):
    quiesced = workload(api_version, kind, replicas=0, annotations={PRE_QUIESCE_REPLICAS: "3", "keep": "me"})
    assert resume_patch(quiesced) == {"metadata": {"annotations": {PRE_QUIESCE_REPLICAS: None}}, "spec": {"replicas": 3}}


def test_quiesce_keeps_other_annotations_and_fields():
    obj = workload("apps/v1", "Deployment", replicas=2, annotations={"team": "shop"})
    quiesced = apply_patch(obj, quiesce_patch(obj))
    assert quiesced["metadata"]["annotations"] == {"team": "shop", PRE_QUIESCE_REPLICAS: "2"}
    assert quiesced["spec"] == {"replicas": 0}
    assert obj["spec"]["replicas"] == 2, "the object given is not changed"


def test_unset_replicas_default_like_the_api_server():
    assert quiesce_patch(workload("apps/v1", "Deployment", replicas=None))["metadata"]["annotations"] == {PRE_QUIESCE_REPLICAS: "1"}
    assert quiesce_patch(workload("v1", "ReplicationController", replicas=None))["spec"] == {"replicas": 0}
    assert quiesce_patch(workload("apps.openshift.io/v1", "DeploymentConfig", replicas=None)) is None


@pytest.mark.parametrize("api_version, kind", SCALED)
def test_an_object_at_zero_is_left_alone(api_version, kind):
    assert quiesce_patch(workload(api_version, kind, replicas=0)) is None
    assert resume_patch(workload(api_version, kind, replicas=0)) is None


@pytest.mark.parametrize("kind", ["ReplicaSet", "ReplicationController"])
def test_a_controller_owned_replicaset_is_left_to_its_owner(kind):
    api_version = "apps/v1" if kind == "ReplicaSet" else "v1"
    assert quiesce_patch(workload(api_version, kind, replicas=3, owners=CONTROLLER)) is None


def test_an_owner_that_is_not_the_controller_does_not_count():
    owners = [dict(CONTROLLER[0], controller=False)]
    assert quiesce_patch(workload("apps/v1", "ReplicaSet", replicas=2, owners=owners))["spec"] == {"replicas": 0}


def test_resume_of_an_owned_replicaset_only_removes_the_copied_record():
    """A Deployment's controller copies the Deployment's annotations to its ReplicaSets."""
    owned = workload("apps/v1", "ReplicaSet", replicas=0, annotations={PRE_QUIESCE_REPLICAS: "3"}, owners=CONTROLLER)
    assert resume_patch(owned) == {"metadata": {"annotations": {PRE_QUIESCE_REPLICAS: None}}}
    resumed = resume_workload(owned)
    assert resumed["spec"]["replicas"] == 0
    assert "annotations" not in resumed["metadata"]


def test_a_second_quiesce_changes_nothing():
    obj = workload("apps/v1", "StatefulSet", replicas=4)
    once = apply_patch(obj, quiesce_patch(obj))
    assert quiesce_patch(once) is None
    assert once["metadata"]["annotations"][PRE_QUIESCE_REPLICAS] == "4"


def test_a_quiesced_object_scaled_up_again_keeps_its_first_record():
    scaled_up = workload("apps/v1", "Deployment", replicas=2, annotations={PRE_QUIESCE_REPLICAS: "5"})
    assert quiesce_patch(scaled_up) == {"spec": {"replicas": 0}}
    assert resume_workload(apply_patch(scaled_up, quiesce_patch(scaled_up)))["spec"]["replicas"] == 5


def test_quiesce_then_resume_gives_back_the_original():
    for api_version, kind in SCALED:
        original = workload(api_version, kind, replicas=3, annotations={"team": "shop"})
        assert resume_workload(apply_patch(original, quiesce_patch(original))) == original
    original = cronjob(suspend=False)
    assert resume_workload(apply_patch(original, quiesce_patch(original))) == original


def test_resume_record_of_zero_removes_only_the_record():
    obj = workload("apps/v1", "Deployment", replicas=0, annotations={PRE_QUIESCE_REPLICAS: "0"})
    assert resume_patch(obj) == {"metadata": {"annotations": {PRE_QUIESCE_REPLICAS: None}}}


def test_cronjob_is_suspended_and_its_value_recorded():
    assert quiesce_patch(cronjob()) == {"metadata": {"annotations": {PRE_QUIESCE_SUSPEND: "false"}}, "spec": {"suspend": True}}
    assert quiesce_patch(cronjob(suspend=False)) == quiesce_patch(cronjob())


def test_a_suspended_cronjob_is_left_alone():
    assert quiesce_patch(cronjob(suspend=True)) is None
    assert resume_patch(cronjob(suspend=True)) is None


def test_cronjob_resume_restores_the_recorded_value():
    assert resume_patch(cronjob(suspend=True, annotations={PRE_QUIESCE_SUSPEND: "false"})) == {
        "metadata": {"annotations": {PRE_QUIESCE_SUSPEND: None}}, "spec": {"suspend": False}}
    # The Migration Toolkit for Containers records "true" too: the CronJob stays suspended.
    assert resume_patch(cronjob(suspend=True, annotations={PRE_QUIESCE_SUSPEND: "true"})) == {
        "metadata": {"annotations": {PRE_QUIESCE_SUSPEND: None}}}


def test_a_recorded_cronjob_unsuspended_since_is_suspended_without_a_new_record():
    assert quiesce_patch(cronjob(suspend=False, annotations={PRE_QUIESCE_SUSPEND: "false"})) == {"spec": {"suspend": True}}


@pytest.mark.parametrize("obj", [
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"}, "spec": {}},
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"}, "spec": {"suspend": False}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "annotations": {PRE_QUIESCE_REPLICAS: "2"}}},
    {"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "lookalike"}, "spec": {"replicas": 2}},
])
def test_other_kinds_are_not_touched(obj):
    assert quiesce_patch(obj) is None
    assert resume_patch(obj) is None
    assert resume_workload(obj) is None


def test_resume_workload_returns_a_copy():
    item = workload("apps/v1", "Deployment", replicas=0, annotations={PRE_QUIESCE_REPLICAS: "2"})
    before = copy.deepcopy(item)
    resumed = resume_workload(item)
    assert item == before
    assert resumed["spec"]["replicas"] == 2
    assert "annotations" not in resumed["metadata"]
    assert resumed["metadata"]["resourceVersion"] == "7"


def test_resume_workload_of_an_item_without_record_is_none():
    assert resume_workload(workload("apps/v1", "Deployment", replicas=0)) is None
    assert resume_workload(cronjob(suspend=True)) is None


def test_resume_workload_of_a_suspended_cronjob_item():
    resumed = resume_workload(cronjob(suspend=True, annotations={PRE_QUIESCE_SUSPEND: "false", "team": "shop"}))
    assert resumed["spec"]["suspend"] is False
    assert resumed["metadata"]["annotations"] == {"team": "shop"}


@pytest.mark.parametrize("annotations, message", [
    ({PRE_QUIESCE_REPLICAS: "three"}, "Deployment shop/web: annotation migration.openshift.io/preQuiesceReplicas is 'three'"),
    ({PRE_QUIESCE_REPLICAS: "-1"}, "is '-1', not a number of replicas"),
])
def test_an_unreadable_replicas_record_is_an_error(annotations, message):
    with pytest.raises(QuiesceError, match=message):
        resume_patch(workload("apps/v1", "Deployment", replicas=0, annotations=annotations))


def test_an_unreadable_suspend_record_is_an_error():
    with pytest.raises(QuiesceError, match=r"CronJob shop/web: annotation migration.openshift.io/preQuiesceSuspend is 'yes'"):
        resume_workload(cronjob(suspend=True, annotations={PRE_QUIESCE_SUSPEND: "yes"}))


def test_change_reports_before_and_after():
    obj = workload("apps/v1", "Deployment", replicas=3)
    assert change(obj, quiesce_patch(obj)) == {"kind": "Deployment", "namespace": "shop", "name": "web",
                                               "before": {"replicas": 3}, "after": {"replicas": 0}}
    assert change(cronjob(), quiesce_patch(cronjob()))["before"] == {"suspend": False}
    assert change(cronjob(), quiesce_patch(cronjob()))["after"] == {"suspend": True}


# --- on a cluster (a fake dynamic client) --------------------------------------------------


class ApiError:
    def __init__(self, status, reason):
        self.status, self.reason, self.body, self.headers = status, reason, "{}", {}


class FakeResource:
    def __init__(self, api_version, kind, objects, conflicts=0):
        self.group_version, self.kind, self.objects, self.conflicts, self.patches = api_version, kind, objects, conflicts, []

    def get(self, namespace=None, name=None):
        from types import SimpleNamespace

        items = [item for item in self.objects if item["metadata"]["namespace"] == namespace
                 and (name is None or item["metadata"]["name"] == name)]
        if name is not None:
            return SimpleNamespace(to_dict=lambda: copy.deepcopy(items[0]))
        return SimpleNamespace(to_dict=lambda: {"items": [{k: v for k, v in item.items() if k != "kind"} for item in items]})

    def patch(self, body, name, namespace, content_type):
        from kubernetes.dynamic.exceptions import ConflictError

        assert content_type == "application/merge-patch+json"
        [item] = [item for item in self.objects if (item["metadata"]["name"], item["metadata"]["namespace"]) == (name, namespace)]
        if self.conflicts:
            self.conflicts -= 1
            item["spec"]["replicas"] = 5  # someone scaled it meanwhile
            item["metadata"]["resourceVersion"] = "8"
            raise ConflictError(ApiError(409, "Conflict"))
        assert body["metadata"]["resourceVersion"] == item["metadata"]["resourceVersion"]
        self.patches.append(body)
        item.update(apply_patch(item, dict(body.items())))


class FakeClient:
    def __init__(self, served):
        from types import SimpleNamespace

        self.served = served
        self.resources = SimpleNamespace(get=self._get)

    def _get(self, api_version, kind):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        if (api_version, kind) not in self.served:
            raise ResourceNotFoundError(f"{kind} not served")
        return self.served[(api_version, kind)]


def test_kinds_the_cluster_does_not_serve_are_skipped():
    from ansible_collections.openshift_migration.velero.plugins.module_utils.quiesce import plan

    deployments = FakeResource("apps/v1", "Deployment", [workload("apps/v1", "Deployment", replicas=2)])
    steps = plan(FakeClient({("apps/v1", "Deployment"): deployments}), ["shop", "other"], "quiesced")
    assert [(resource.kind, obj["metadata"]["name"], patch["spec"]) for resource, obj, patch in steps] == [
        ("Deployment", "web", {"replicas": 0})]
    assert steps[0][1]["apiVersion"] == "apps/v1" and steps[0][1]["kind"] == "Deployment"


def test_apply_reads_again_when_the_object_changed_since_it_was_read():
    from ansible_collections.openshift_migration.velero.plugins.module_utils.quiesce import apply

    deployments = FakeResource("apps/v1", "Deployment", [workload("apps/v1", "Deployment", replicas=2)], conflicts=1)
    read = copy.deepcopy(deployments.objects[0])
    entry = apply(deployments, read, quiesce_patch(read), "quiesced")
    assert entry["before"] == {"replicas": 5}
    assert deployments.objects[0]["metadata"]["annotations"] == {PRE_QUIESCE_REPLICAS: "5"}
    assert deployments.objects[0]["spec"]["replicas"] == 0
