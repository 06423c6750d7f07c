"""ServiceAccounts: bring their SCCs along on backup, drop generated pull secrets on restore (plugin-spec §4.3–§4.5)."""
from __future__ import annotations

from ..context import BackupContext, RestoreContext
from ..objects import name_of, namespace_of
from .base import ActionResult, resource_id


def _sccs_naming(lookup, namespace: str, account: str) -> list[str]:
    """Names of the SCCs whose users grant this service account (directly or namespace-wide)."""
    names: list[str] = []
    for scc in lookup.list("security.openshift.io/v1", "SecurityContextConstraints"):
        for user in scc.get("users") or []:
            parts = str(user).split(":")
            if len(parts) <= 2 or parts[1] != "serviceaccount" or parts[2] != namespace:
                continue
            whole_namespace = len(parts) == 3
            if whole_namespace:
                accounts = lookup.list("v1", "ServiceAccount", namespace)
                granted = any(name_of(sa) == account for sa in accounts)
            else:
                granted = parts[3] == account
            if granted and name_of(scc) not in names:
                names.append(name_of(scc))
    return names


def related_sccs(item: dict, ctx: BackupContext) -> list[dict]:
    names = _sccs_naming(ctx.cluster.lookup, namespace_of(item), name_of(item))
    return [resource_id("security.openshift.io", "securitycontextconstraints", "", name) for name in names]


def add_related_sccs(item: dict, ctx: BackupContext) -> ActionResult:
    return ActionResult(item, additional_items=related_sccs(item, ctx))


def drop_generated_pull_secrets(item: dict, ctx: RestoreContext) -> ActionResult:
    """The destination generates its own <sa>-dockercfg-* secret; the source's would dangle."""
    prefix = name_of(item) + "-dockercfg-"
    for field in ("secrets", "imagePullSecrets"):
        if isinstance(item.get(field), list):
            item[field] = [ref for ref in item[field]
                           if not str((ref or {}).get("name") or "").startswith(prefix)]
    return ActionResult(item)
