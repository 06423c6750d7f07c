"""Workloads with a pod template: images follow the registry and namespace mapping (§4.19–§4.23, §4.25)."""
from __future__ import annotations

from ..constants import BACKUP_REGISTRY_HOSTNAME, RESTORE_REGISTRY_HOSTNAME
from ..context import RestoreContext
from ..images import swap_container_images
from ..objects import annotation, dig, owner_references
from .base import ActionResult, skip


def swap_template_images(item: dict, ctx: RestoreContext, *template_path: str) -> None:
    """Swap the internal-registry images of the pod spec at ``template_path`` (spec.template.spec by default)."""
    path = template_path or ("spec", "template", "spec")
    swap_container_images(dig(item, *path), annotation(item, BACKUP_REGISTRY_HOSTNAME),
                          annotation(item, RESTORE_REGISTRY_HOSTNAME), ctx.mapping)


def swap_workload_images(item: dict, ctx: RestoreContext) -> ActionResult:
    swap_template_images(item, ctx)
    return ActionResult(item)


def restore_job(item: dict, ctx: RestoreContext) -> ActionResult:
    """A CronJob's job is recreated by the CronJob; restoring it would run it twice."""
    if any(ref.get("kind") == "CronJob" for ref in owner_references(ctx.item_from_backup)):
        return skip(item)
    swap_template_images(item, ctx)
    return ActionResult(item)


def swap_cronjob_images(item: dict, ctx: RestoreContext) -> ActionResult:
    swap_template_images(item, ctx, "spec", "jobTemplate", "spec", "template", "spec")
    return ActionResult(item)
