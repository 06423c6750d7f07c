"""Restore-hook and pod-volume detection (plugin-spec §3.8, §3.9; test-cases §5)."""

import pytest
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.hooks import (
    pod_has_restore_hooks,
    pod_has_volumes_to_back_up,
    restore_has_restore_hooks,
)

POST_HOOK = [{"exec": {"command": ["echo", "hello"]}}]


def _pod(annotations=None, labels=None, volumes=None, namespace="ns-1"):
    meta = {"name": "pod-1", "namespace": namespace}
    if annotations is not None:
        meta["annotations"] = annotations
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"volumes": volumes or []}}


def _restore(*resources):
    return {"spec": {"hooks": {"resources": list(resources)}}}


@pytest.mark.parametrize(
    "annotations, resources, expected",
    [
        ({}, [], False),
        ({"post.hook.restore.velero.io/command": ""}, [], True),
        ({"post.hook.restore.velero.io/command": "echo 'hello'"}, [], True),
        (None, [{"name": "hook1", "includedNamespaces": ["ns-1"], "postHooks": POST_HOOK}], True),
        (None, [{"name": "hook1", "includedNamespaces": ["ns-1"]}], False),
    ],
    ids=[
        "no hooks via annotations nor restore spec",
        "annotation with empty command",
        "annotation with echo command",
        "restore spec with namespace and exec command",
        "restore spec without postHooks",
    ],
)
def test_pod_has_restore_hooks_go_table(annotations, resources, expected):
    """test-cases §5.1 TestRestorePlugin_podHasRestoreHooks."""
    assert pod_has_restore_hooks(_pod(annotations), _restore(*resources)) is expected


def test_init_container_hook_annotation_counts_as_restore_hook():
    """§3.8: init.hook.restore.velero.io/container-image presence."""
    assert pod_has_restore_hooks(_pod({"init.hook.restore.velero.io/container-image": ""}), _restore())


def test_hook_with_excluded_namespace_does_not_apply():
    """§3.8 step 3: excludedNamespaces filter."""
    hook = {"excludedNamespaces": ["ns-*"], "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is False
    assert restore_has_restore_hooks(_restore(hook), "other", {}) is True


def test_hook_namespace_filter_uses_glob_matching():
    """§3.8 step 3: Velero glob matching of includedNamespaces."""
    hook = {"includedNamespaces": ["ns-?"], "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is True
    assert restore_has_restore_hooks(_restore(hook), "ns-10", {}) is False


@pytest.mark.parametrize("included", [["pods"], ["*"], ["p*"], []])
def test_hook_resource_filter_includes_pods(included):
    """§3.8 step 3: the string "pods" matched against includedResources (empty or * = all)."""
    hook = {"includedResources": included, "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is True


def test_hook_for_other_resources_does_not_apply():
    """§3.8 step 3: includedResources without pods."""
    hook = {"includedResources": ["deployments"], "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is False


def test_hook_excluding_pods_does_not_apply():
    """§3.8 step 3: excludedResources ["pods"] excludes pods."""
    hook = {"excludedResources": ["pods"], "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is False


@pytest.mark.parametrize("name", ["pod", "po", "pods"])
def test_hook_resource_names_are_normalised(name):
    """§7 #22 (intended behaviour): a hook naming pods as "pod" or "po" applies, as Velero resolves it."""
    hook = {"includedResources": [name], "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is True


def test_hook_listing_other_resources_does_not_apply_to_pods():
    """§3.8 step 3: the resource filter is matched against pods."""
    hook = {"includedResources": ["deployments", "podsecuritypolicies"], "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is False


def test_hook_label_selector_match_labels_and_expressions():
    """§3.8 step 2: matchLabels + matchExpressions."""
    selector = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}
    hook = {"labelSelector": selector, "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {"app": "web", "tier": "a"}) is True
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {"app": "web", "tier": "b"}) is False
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {"app": "db", "tier": "a"}) is False


@pytest.mark.parametrize(
    "operator, values, labels, expected",
    [
        ("NotIn", ["a"], {"tier": "b"}, True),
        ("NotIn", ["a"], {"tier": "a"}, False),
        ("Exists", [], {"tier": "x"}, True),
        ("Exists", [], {}, False),
        ("DoesNotExist", [], {}, True),
        ("DoesNotExist", [], {"tier": "x"}, False),
    ],
)
def test_hook_label_selector_operators(operator, values, labels, expected):
    """§3.8 step 2: operators NotIn / Exists / DoesNotExist."""
    expr = {"key": "tier", "operator": operator}
    if values:
        expr["values"] = values
    hook = {"labelSelector": {"matchExpressions": [expr]}, "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", labels) is expected


def test_invalid_label_selector_operator_is_an_error():
    """§3.8 step 2: selector conversion error -> error."""
    hook = {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, "postHooks": POST_HOOK}
    with pytest.raises((ValueError, MigrationError)):
        restore_has_restore_hooks(_restore(hook), "ns-1", {})


def test_empty_label_selector_matches_everything():
    """§3.8 step 2: an empty selector matches everything."""
    hook = {"labelSelector": {}, "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(hook), "ns-1", {}) is True


def test_first_applicable_hook_wins_after_skipping_non_matching_ones():
    """§3.8 step 3-4: entries checked in order; none applicable -> False."""
    miss = {"includedNamespaces": ["other"], "postHooks": POST_HOOK}
    hit = {"includedNamespaces": ["ns-1"], "postHooks": POST_HOOK}
    assert restore_has_restore_hooks(_restore(miss, hit), "ns-1", {}) is True
    assert restore_has_restore_hooks(_restore(miss), "ns-1", {}) is False


def test_restore_without_hooks_has_no_restore_hooks():
    """§3.8: no hooks.resources -> False."""
    assert restore_has_restore_hooks({"spec": {}}, "ns-1", {}) is False


def test_pod_hooks_matched_by_pod_namespace_and_labels():
    """§3.8 PodHasRestoreHooks: uses pod namespace and labels."""
    hook = {"includedNamespaces": ["ns-1"], "labelSelector": {"matchLabels": {"app": "web"}}, "postHooks": POST_HOOK}
    assert pod_has_restore_hooks(_pod(labels={"app": "web"}), _restore(hook)) is True
    assert pod_has_restore_hooks(_pod(labels={"app": "db"}), _restore(hook)) is False
    assert pod_has_restore_hooks(_pod(labels={"app": "web"}, namespace="ns-2"), _restore(hook)) is False


@pytest.mark.parametrize(
    "volume, expected",
    [
        ({"name": "data", "persistentVolumeClaim": {"claimName": "c"}}, True),
        ({"name": "tmp", "emptyDir": {}}, True),
        ({"name": "nfs", "nfs": {"server": "s", "path": "/"}}, True),
        ({"name": "h", "hostPath": {"path": "/"}}, False),
        ({"name": "s", "secret": {"secretName": "x"}}, False),
        ({"name": "c", "configMap": {"name": "x"}}, False),
        ({"name": "p", "projected": {"sources": []}}, False),
        ({"name": "d", "downwardAPI": {"items": []}}, False),
        ({"name": "default-token-abc", "emptyDir": {}}, False),
    ],
)
def test_pod_has_volumes_to_back_up_by_volume_type(volume, expected):
    """§3.9: hostPath/secret/configMap/projected/downwardAPI and default-token* don't count."""
    assert pod_has_volumes_to_back_up(_pod(volumes=[volume])) is expected


def test_pod_without_volumes_has_none_to_back_up():
    """§3.9: no volumes -> False."""
    assert pod_has_volumes_to_back_up(_pod()) is False


def test_opted_out_default_token_volume_counts_as_volume():
    """§3.9: V.name in backup-volumes-excludes counts (opted-out volumes count)."""
    anns = {"backup.velero.io/backup-volumes-excludes": "x,default-token-abc"}
    volume = {"name": "default-token-abc", "emptyDir": {}}
    assert pod_has_volumes_to_back_up(_pod(anns, volumes=[volume])) is True
