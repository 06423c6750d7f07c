"""Builds: history of the source cluster, never recreated (plugin-spec §4.12)."""
from __future__ import annotations

from ..context import RestoreContext
from .base import ActionResult, skip


def skip_build(item: dict, ctx: RestoreContext) -> ActionResult:
    return skip(item)
