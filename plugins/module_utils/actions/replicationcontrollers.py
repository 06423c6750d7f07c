"""ReplicationControllers: a DeploymentConfig recreates its own, unless it was paused (§4.17, §4.18)."""
from __future__ import annotations

from ..constants import PAUSED_OWNER_REF
from ..context import BackupContext, RestoreContext
from ..errors import MigrationError
from ..objects import annotations, dig, drop_annotation, has_annotation, namespace_of, owner_references
from .base import ActionResult, skip
from .workloads import swap_template_images


def mark_paused_owner(item: dict, ctx: BackupContext) -> ActionResult:
    for ref in owner_references(item):
        if ref.get("kind") != "DeploymentConfig":
            continue
        owner = ctx.cluster.lookup.get("apps.openshift.io/v1", "DeploymentConfig", str(ref.get("name") or ""),
                                       namespace_of(item))
        if owner is None:
            raise MigrationError(f"owning DeploymentConfig {namespace_of(item)}/{ref.get('name')} not found")
        if dig(owner, "spec", "paused"):
            annotations(item)[PAUSED_OWNER_REF] = "true"
    return ActionResult(item)


def restore_replication_controller(item: dict, ctx: RestoreContext) -> ActionResult:
    owned_by_dc = any(ref.get("kind") == "DeploymentConfig" for ref in owner_references(ctx.item_from_backup))
    if owned_by_dc and not has_annotation(item, PAUSED_OWNER_REF):
        return skip(item)
    swap_template_images(item, ctx)
    if owned_by_dc:
        drop_annotation(item, PAUSED_OWNER_REF)
    return ActionResult(item)
