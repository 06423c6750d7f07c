"""Services: a LoadBalancer's external IPs belong to the source site (plugin-spec §4.24)."""
from __future__ import annotations

from ..context import RestoreContext
from .base import ActionResult


def drop_load_balancer_ips(item: dict, ctx: RestoreContext) -> ActionResult:
    spec = item.get("spec")
    if isinstance(spec, dict) and spec.get("type") == "LoadBalancer":
        spec.pop("externalIPs", None)
    return ActionResult(item)
