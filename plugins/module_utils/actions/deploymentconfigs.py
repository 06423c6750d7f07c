"""DeploymentConfigs: keep them from redeploying over restored pods that still need their data (§4.15, §4.16)."""
from __future__ import annotations

from ..constants import (DC_HAS_POD_RESTORE_HOOKS, DC_INCLUDES_DM_FIX, DC_ORIGINAL_PAUSED, DC_ORIGINAL_REPLICAS,
                         DC_POD_LABELS, DC_PODS_HAVE_VOLUMES, DC_REPLICAS_MODIFIED_LABEL)
from ..context import BackupContext, RestoreContext
from ..hooks import pod_has_restore_hook_annotations, pod_has_volumes_to_back_up, restore_has_restore_hooks
from ..labels import labels_to_string, string_to_labels, valid_label_value
from ..objects import annotation, annotations, dig, labels, name_of, namespace_of
from .base import ActionResult
from .workloads import swap_template_images


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def record_pod_facts(item: dict, ctx: BackupContext) -> ActionResult:
    """Note whether the DC's pods have hooks or volumes: the restore decides from these."""
    selector = dig(item, "spec", "selector", default={}) or {}
    # An empty selector selects no pods (the plugin would list the whole namespace).
    pods = ctx.cluster.lookup.list("v1", "Pod", namespace_of(item), selector) if selector else []
    pod_labels = next((text for text in (labels_to_string(dig(pod, "metadata", "labels")) for pod in pods) if text), "")
    notes = annotations(item)
    notes[DC_INCLUDES_DM_FIX] = "true"
    notes[DC_HAS_POD_RESTORE_HOOKS] = _bool_text(any(pod_has_restore_hook_annotations(pod) for pod in pods))
    notes[DC_PODS_HAVE_VOLUMES] = _bool_text(any(pod_has_volumes_to_back_up(pod) for pod in pods))
    notes[DC_POD_LABELS] = pod_labels
    return ActionResult(item)


def velero_backup_of(ctx: RestoreContext) -> dict | None:
    """The Backup the restore reads: given by the caller, or looked up beside the Restore."""
    if ctx.backup:
        return ctx.backup
    name = dig(ctx.restore, "spec", "backupName", default="")
    namespace = dig(ctx.restore, "metadata", "namespace", default="")
    if not name or not namespace:
        return None
    return ctx.cluster.lookup.get("velero.io/v1", "Backup", name, namespace)


def backup_defaults_to_fs_backup(ctx: RestoreContext) -> bool:
    spec = dig(velero_backup_of(ctx), "spec", default={}) or {}
    return spec.get("defaultVolumesToRestic") is True or spec.get("defaultVolumesToFsBackup") is True


def _map_trigger_namespaces(item: dict, mapping: dict[str, str]) -> None:
    for trigger in dig(item, "spec", "triggers", default=[]) or []:
        source = dig(trigger, "imageChangeParams", "from")
        if isinstance(source, dict) and mapping.get(source.get("namespace") or ""):
            source["namespace"] = mapping[source["namespace"]]


def _must_disconnect(item: dict, ctx: RestoreContext) -> bool:
    if not annotation(item, DC_INCLUDES_DM_FIX):
        return backup_defaults_to_fs_backup(ctx)
    if annotation(item, DC_PODS_HAVE_VOLUMES) == "true" or annotation(item, DC_HAS_POD_RESTORE_HOOKS) == "true":
        return True
    try:
        return restore_has_restore_hooks(ctx.restore, namespace_of(item),
                                         string_to_labels(annotation(item, DC_POD_LABELS)))
    except ValueError:
        return False


def scale_down_for_restore(item: dict, ctx: RestoreContext) -> ActionResult:
    """Restored pods keep running their restore hooks / volume restores; the DC would replace them."""
    swap_template_images(item, ctx)
    _map_trigger_namespaces(item, ctx.mapping)
    spec = item.setdefault("spec", {})
    replicas = spec.get("replicas") or 0
    if replicas > 0 and _must_disconnect(item, ctx):
        notes = annotations(item)
        notes[DC_ORIGINAL_REPLICAS] = str(replicas)
        notes[DC_ORIGINAL_PAUSED] = _bool_text(bool(spec.get("paused")))
        spec["replicas"] = 0
        spec["paused"] = False
        labels(item)[DC_REPLICAS_MODIFIED_LABEL] = valid_label_value(name_of(ctx.restore))
    return ActionResult(item)
