"""Routes: a host the source cluster generated would point at the source's router (plugin-spec §4.11)."""
from __future__ import annotations

from ..constants import HOST_GENERATED
from ..context import RestoreContext
from ..objects import annotation
from .base import ActionResult


def drop_generated_host(item: dict, ctx: RestoreContext) -> ActionResult:
    if annotation(item, HOST_GENERATED) == "true" and isinstance(item.get("spec"), dict):
        item["spec"].pop("host", None)
    return ActionResult(item)
