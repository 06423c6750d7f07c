"""OADP non-admin objects: owned by the source's OADP controller, never restored (plugin-spec §4.37)."""
from __future__ import annotations

from ..context import RestoreContext
from .base import ActionResult, keep, skip

NONADMIN_KINDS = ("NonAdminBackup", "NonAdminRestore", "NonAdminBackupStorageLocation")


def skip_nonadmin_object(item: dict, ctx: RestoreContext) -> ActionResult:
    group = str(item.get("apiVersion") or "").split("/", maxsplit=1)[0]
    if group == "oadp.openshift.io" and item.get("kind") in NONADMIN_KINDS:
        return skip(item)
    return keep(item)
