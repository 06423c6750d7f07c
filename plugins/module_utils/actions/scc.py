"""SecurityContextConstraints: service-account users follow the namespace mapping (plugin-spec §4.30)."""
from __future__ import annotations

from ..context import RestoreContext
from .base import ActionResult


def map_service_account_user(user: str, mapping: dict[str, str]) -> str:
    """system:serviceaccount:<ns>[:<sa>] with <ns> mapped; other users unchanged."""
    parts = user.split(":")
    if len(parts) <= 2 or parts[1] != "serviceaccount" or not mapping.get(parts[2]):
        return user
    parts[2] = mapping[parts[2]]
    return ":".join(parts)


def map_scc_users(item: dict, ctx: RestoreContext) -> ActionResult:
    if ctx.mapping and isinstance(item.get("users"), list):
        item["users"] = [map_service_account_user(str(user), ctx.mapping) for user in item["users"]]
    return ActionResult(item)
