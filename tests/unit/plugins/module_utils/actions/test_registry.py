"""Action registry: names, order, AppliesTo and counts (plugin-spec summary table, §1.1; test-cases §1.1–§6.1)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils import runner
from ansible_collections.openshift_migration.velero.plugins.module_utils.actions.base import Action, ActionResult
from ansible_collections.openshift_migration.velero.plugins.module_utils.actions.common import APPLIES_TO
from ansible_collections.openshift_migration.velero.plugins.module_utils.actions.registry import (
    BACKUP_ACTIONS,
    ITEM_BLOCK_ACTIONS,
    RESTORE_ACTIONS,
)
from tests.unit.builders import obj, restore_ctx

COMMON = (
    "pods", "imagestreams", "imagestreams.image.openshift.io", "imagestreamtags",
    "imagestreamtags.image.openshift.io", "deployments", "deployments.apps", "deployments.extensions",
    "deploymentconfigs", "deploymentconfigs.apps.openshift.io", "jobs", "jobs.batch", "cronjobs",
    "cronjobs.batch", "statefulsets", "statefulsets.apps", "daemonsets", "daemonsets.apps",
    "daemonsets.extensions", "replicasets", "replicasets.apps", "replicasets.extensions",
    "replicationcontroller", "buildconfigs", "buildconfigs.build.openshift.io",
)
BACKUP = [
    ("01-common-backup-plugin", COMMON),
    ("02-serviceaccount-backup-plugin", ("serviceaccounts",)),
    ("03-pv-backup-plugin", ("persistentvolumes",)),
    ("04-imagestreamtag-backup-plugin", ("imagestreamtags",)),
    ("07-pod-backup-plugin", ("pods",)),
    ("08-deploymentconfig-backup-plugin", ("deploymentconfigs",)),
    ("09-replicationcontroller-backup-plugin", ("replicationcontrollers",)),
    ("19-is-backup-plugin", ("imagestreams",)),
    ("25-configmap-backup-plugin", ("configmaps",)),
]
RESTORE = [
    ("01-common-restore-plugin", COMMON),
    ("02-serviceaccount-restore-plugin", ("serviceaccounts",)),
    ("03-pv-restore-plugin", ("persistentvolumes",)),
    ("04-imagestreamtag-restore-plugin", ("imagestreamtags",)),
    ("04-pvc-restore-plugin", ("persistentvolumeclaims",)),
    ("05-route-restore-plugin", ("routes",)),
    ("06-build-restore-plugin", ("builds",)),
    ("07-pod-restore-plugin", ("pods",)),
    ("08-deploymentconfig-restore-plugin", ("deploymentconfigs",)),
    ("09-replicationcontroller-restore-plugin", ("replicationcontrollers",)),
    ("10-job-restore-plugin", ("jobs",)),
    ("11-daemonset-restore-plugin", ("daemonsets.apps",)),
    ("12-replicaset-restore-plugin", ("replicasets.apps",)),
    ("13-deployment-restore-plugin", ("deployments.apps",)),
    ("14-statefulset-restore-plugin", ("statefulsets.apps",)),
    ("15-service-restore-plugin", ("services",)),
    ("16-cronjob-restore-plugin", ("cronjobs",)),
    ("17-buildconfig-restore-plugin", ("buildconfigs",)),
    ("18-secret-restore-plugin", ("secrets",)),
    ("19-is-restore-plugin", ("imagestreams",)),
    ("20-SCC-restore-plugin", ("securitycontextconstraints",)),
    ("21-role-bindings-restore-plugin", ("rolebinding.authorization.openshift.io",)),
    ("22-cluster-role-bindings-restore-plugin", ("clusterrolebinding.authorization.openshift.io",)),
    ("23-imagetag-restore-plugin", ("imagetags",)),
    ("24-horizontalpodautoscaler-restore-plugin", ("horizontalpodautoscalers",)),
    ("25-configmap-restore-plugin", ("configmaps",)),
    ("26-nonadmin-restore-plugin", ("nonadminbackups.oadp.openshift.io", "nonadminrestores.oadp.openshift.io",
                                    "nonadminbackupstoragelocations.oadp.openshift.io")),
]


def _table(actions):
    return [(a.name, tuple(a.applies_to)) for a in actions]


def _expected(rows):
    return [("openshift.io/" + name, applies) for name, applies in rows]


def test_action_counts_are_9_backup_27_restore_1_item_block():
    """Summary: BIA 9, RIA 27, IBA 1."""
    assert (len(BACKUP_ACTIONS), len(RESTORE_ACTIONS), len(ITEM_BLOCK_ACTIONS)) == (9, 27, 1)


def test_backup_actions_names_order_and_applies_to():
    """Summary table + §1.1: registration names in lexicographic order with their AppliesTo."""
    assert _table(BACKUP_ACTIONS) == _expected(BACKUP)


def test_restore_actions_names_order_and_applies_to():
    """Summary table + test-cases §1.1, §2.1, §3.1, §4.1, §6.1 (builds, HPA, routes, nonadmin, rolebinding)."""
    assert _table(RESTORE_ACTIONS) == _expected(RESTORE)


def test_item_block_action():
    """§4.5: 02-serviceaccount-iba-plugin on serviceaccounts."""
    assert _table(ITEM_BLOCK_ACTIONS) == [("openshift.io/02-serviceaccount-iba-plugin", ("serviceaccounts",))]


@pytest.mark.parametrize("actions", [BACKUP_ACTIONS, RESTORE_ACTIONS])
def test_actions_run_in_lexicographic_name_order(actions):
    """§1.1 Order: Velero lists a plugin's actions sorted by registration name."""
    names = [a.name for a in actions]
    assert names == sorted(names)


def test_common_applies_to_is_the_spec_list_in_order():
    """§4.1 AppliesTo, singular replicationcontroller included."""
    assert tuple(APPLIES_TO) == COMMON


def test_restore_chain_stops_at_the_first_skip(monkeypatch):
    """§1.1: when an action returns SkipRestore, Velero runs no further action on the item."""
    def skipper(item, ctx):
        return ActionResult(item, skip=True)

    def marker(item, ctx):
        item["marked"] = True
        return ActionResult(item)

    chain = [Action("openshift.io/a", ("routes",), skipper), Action("openshift.io/b", ("routes",), marker)]
    monkeypatch.setattr(runner, "RESTORE_ACTIONS", chain)
    result = runner.run_restore_item(obj("route.openshift.io/v1", "Route", "r", "app"), restore_ctx())
    assert (result.skip, result.actions) == (True, ["openshift.io/a"])
    assert "marked" not in result.item


def test_actions_are_chained_in_order(monkeypatch):
    """§1.1: the output item of one action is the input of the next."""
    def first(item, ctx):
        item["seen"] = ["a"]
        return ActionResult(item)

    def second(item, ctx):
        item["seen"].append("b")
        return ActionResult(item)

    chain = [Action("openshift.io/a", ("routes",), first), Action("openshift.io/b", ("routes",), second)]
    monkeypatch.setattr(runner, "RESTORE_ACTIONS", chain)
    result = runner.run_restore_item(obj("route.openshift.io/v1", "Route", "r", "app"), restore_ctx())
    assert result.item["seen"] == ["a", "b"]
    assert result.actions == ["openshift.io/a", "openshift.io/b"]
