"""ServiceAccount backup, item-block and restore actions (plugin-spec §4.3–§4.5; §7 #6, #7)."""

from ansible_collections.openshift_migration.velero.plugins.module_utils.actions import registry
from tests.unit.builders import backup, backup_ctx, obj, restore

SA_BACKUP = "openshift.io/02-serviceaccount-backup-plugin"
SA_RESTORE = "openshift.io/02-serviceaccount-restore-plugin"


def _scc(name, users=(), groups=()):
    return obj("security.openshift.io/v1", "SecurityContextConstraints", name, users=list(users), groups=list(groups))


def _sa(name="builder", namespace="app", **fields):
    return obj("v1", "ServiceAccount", name, namespace, **fields)


def _scc_id(name):
    return {"group": "security.openshift.io", "resource": "securitycontextconstraints", "namespace": "", "name": name}


CLUSTER = [
    _scc("direct", users=["system:serviceaccount:app:builder"]),
    _scc("other-sa", users=["system:serviceaccount:app:deployer"]),
    _scc("whole-ns", users=["system:serviceaccount:app"]),
    _scc("other-ns", users=["system:serviceaccount:prod:builder"]),
    _scc("groups-only", groups=["system:serviceaccounts:app"]),
    _scc("plain-user", users=["alice", "system:admin"]),
    _sa("builder"),
    _sa("deployer"),
]


def test_backup_adds_sccs_granting_the_service_account():
    """§4.3: direct and namespace-wide users entries; groups and other namespaces ignored."""
    result = backup(_sa(), backup_ctx(objects=CLUSTER))
    assert result.additional_items == [_scc_id("direct"), _scc_id("whole-ns")]
    assert SA_BACKUP in result.actions


def test_backup_leaves_the_service_account_unchanged():
    """§4.3: BIA output is the item unchanged (apart from nothing)."""
    item = _sa(secrets=[{"name": "builder-dockercfg-x"}])
    result = backup(item, backup_ctx(objects=CLUSTER))
    assert result.item["secrets"] == [{"name": "builder-dockercfg-x"}]
    assert result.item["metadata"] == {"name": "builder", "namespace": "app"}


def test_backup_user_entry_forms():
    """§4.3 step 2: '<x>:serviceaccount:<ns>:' (empty SA) skipped; parts beyond the 4th ignored."""
    cluster = [_scc("empty-sa", users=["system:serviceaccount:app:"]),
               _scc("extra", users=["system:serviceaccount:app:builder:extra"]),
               _scc("empty-ns", users=["system:serviceaccount::builder"]), _sa("builder")]
    assert backup(_sa(), backup_ctx(objects=cluster)).additional_items == [_scc_id("extra")]


def test_backup_first_user_component_is_not_checked():
    """§4.3: only 'x:serviceaccount:<ns>[:<sa>]' is recognised; the first part is free."""
    cluster = [_scc("odd", users=["anything:serviceaccount:app:builder"]), _sa("builder")]
    assert backup(_sa(), backup_ctx(objects=cluster)).additional_items == [_scc_id("odd")]


def test_backup_lists_each_scc_once():
    """§7 #6 (intended): an SCC granting both ways appears once."""
    cluster = [_scc("both", users=["system:serviceaccount:app", "system:serviceaccount:app:builder"]), _sa("builder")]
    assert backup(_sa(), backup_ctx(objects=cluster)).additional_items == [_scc_id("both")]


def test_backup_recomputes_sccs_on_every_call():
    """§7 #6 (intended): no stale or duplicated SCCs when the same context is reused."""
    ctx = backup_ctx(objects=list(CLUSTER))
    first = backup(_sa(), ctx).additional_items
    second = backup(_sa(), ctx).additional_items
    assert first == second == [_scc_id("direct"), _scc_id("whole-ns")]
    ctx.cluster.lookup.objects[:] = [o for o in ctx.cluster.lookup.objects if o["metadata"]["name"] != "direct"]
    assert backup(_sa(), ctx).additional_items == [_scc_id("whole-ns")]


def test_item_block_action_returns_the_same_sccs():
    """§4.5: the IBA's related items equal the BIA's SCC identifiers."""
    (iba,) = registry.ITEM_BLOCK_ACTIONS
    out = iba.run(_sa(), backup_ctx(objects=CLUSTER))
    related = out if isinstance(out, list) else out.additional_items
    assert related == [_scc_id("direct"), _scc_id("whole-ns")]
    assert iba.applies_to == ("serviceaccounts",)


def test_restore_drops_every_generated_dockercfg_entry():
    """§4.4 + §7 #7 (intended): all '<sa>-dockercfg-' entries removed from both lists."""
    item = _sa(
        secrets=[{"name": "builder-token-a"}, {"name": "builder-dockercfg-b"}, {"name": "builder-dockercfg-c"}],
        imagePullSecrets=[{"name": "builder-dockercfg-b"}, {"name": "mine"}, {"name": "builder-dockercfg-c"}],
    )
    result = restore(item)
    assert result.item["secrets"] == [{"name": "builder-token-a"}]
    assert result.item["imagePullSecrets"] == [{"name": "mine"}]
    assert result.skip is False
    assert SA_RESTORE in result.actions


def test_restore_keeps_other_service_accounts_dockercfg_entries():
    """§4.4: the prefix is '<this sa name>-dockercfg-'."""
    item = _sa(secrets=[{"name": "default-dockercfg-x"}], imagePullSecrets=[{"name": "builder-dockercfg-y"}])
    result = restore(item)
    assert result.item["secrets"] == [{"name": "default-dockercfg-x"}]
    assert result.item["imagePullSecrets"] == []


def test_restore_of_service_account_without_secret_lists():
    """§4.4: never errors."""
    result = restore(_sa())
    assert result.skip is False
    assert result.item["metadata"]["name"] == "builder"
