"""ImageTags: virtual objects the destination derives from its image streams (plugin-spec §4.33)."""
from __future__ import annotations

from ..context import RestoreContext
from .base import ActionResult, skip


def skip_image_tag(item: dict, ctx: RestoreContext) -> ActionResult:
    return skip(item)
