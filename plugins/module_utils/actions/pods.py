"""Pods: most are recreated by their controllers; the rest move to the destination's registry (§4.13, §4.14)."""
from __future__ import annotations

from ..constants import (BUILD_NAME, DC_INCLUDES_DM_FIX, DC_POD_DEPLOYMENT_LABEL, DC_POD_DEPLOYMENTCONFIG_LABEL,
                         DC_POD_DISCONNECTED_LABEL, EXCLUDE_PVCS, INCLUDED_IN_STAGE_BACKUP, STAGE_POD_IMAGE)
from ..context import BackupContext, RestoreContext
from ..hooks import pod_has_restore_hooks, pod_has_volumes_to_back_up
from ..labels import valid_label_value
from ..objects import annotation, annotations, dig, label, labels, mapped_namespace, name_of, namespace_of
from ..objects import owner_references
from ..pullsecrets import update_pull_secret
from .base import ActionResult, skip
from .deploymentconfigs import backup_defaults_to_fs_backup
from .workloads import swap_template_images


def mark_backed_up_with_dc_fix(item: dict, ctx: BackupContext) -> ActionResult:
    annotations(item)[DC_INCLUDES_DM_FIX] = "true"
    return ActionResult(item)


def _waits_for_pull_secrets(lookup) -> bool:
    """Whether the destination generates dockercfg pull secrets (an OpenShift with its registry on)."""
    version = lookup.get("config.openshift.io/v1", "ClusterVersion", "version")
    if version is None:
        return False
    capabilities = dig(version, "status", "capabilities", "enabledCapabilities", default=[]) or []
    config = lookup.get("imageregistry.operator.openshift.io/v1", "Config", "cluster")
    registry_on = "ImageRegistry" in capabilities and config is not None \
        and dig(config, "spec", "managementState") != "Removed"
    parts = str(dig(version, "status", "desired", "version", default="")).split(".")
    major = int(parts[0]) if len(parts) >= 3 and parts[0].isdigit() else 0
    minor = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else 0
    return registry_on or not (major == 4 and minor >= 15 or major > 4)


def _remap_pull_secrets(item: dict, ctx: RestoreContext) -> None:
    lookup = ctx.cluster.lookup
    if not _waits_for_pull_secrets(lookup):
        return
    destination = mapped_namespace(namespace_of(ctx.item_from_backup), ctx.mapping)
    secrets = lookup.list("v1", "Secret", destination)
    # The namespace's generated secrets appear only once it exists; we never wait for them.
    if not any(name_of(secret).startswith("default-dockercfg-") for secret in secrets):
        return
    spec = item.get("spec") or {}
    if isinstance(spec.get("imagePullSecrets"), list):
        spec["imagePullSecrets"] = [update_pull_secret(ref, secrets, lookup) for ref in spec["imagePullSecrets"]]


def _make_stage_pod(item: dict, stage_image: str) -> None:
    """A sleeping pod that only mounts the claims, so volume data can be copied into them."""
    spec = item.setdefault("spec", {})
    excluded = annotation(item, EXCLUDE_PVCS).split(",") if annotation(item, EXCLUDE_PVCS) else []
    spec["volumes"] = [volume for volume in spec.get("volumes") or []
                       if "persistentVolumeClaim" in volume and volume.get("name") not in excluded]
    kept = {volume.get("name") for volume in spec["volumes"]}
    for container in spec.get("containers") or []:
        container.update(image=stage_image, command=["sleep"], args=["infinity"])
        container["volumeMounts"] = [mount for mount in container.get("volumeMounts") or [] if mount.get("name") in kept]
    for container in spec.get("initContainers") or []:
        if "volumeMounts" in container:
            container["volumeMounts"] = [mount for mount in container["volumeMounts"] if mount.get("name") in kept]


def restore_pod(item: dict, ctx: RestoreContext) -> ActionResult:
    if annotation(ctx.item_from_backup, BUILD_NAME):
        return skip(item)
    has_hooks = pod_has_restore_hooks(item, ctx.restore)
    has_volumes = pod_has_volumes_to_back_up(item)
    if owner_references(ctx.item_from_backup) and not has_volumes and not has_hooks:
        # Its controller recreates it.
        return skip(item)
    (item.get("spec") or {}).pop("nodeSelector", None)
    if annotation(item, DC_INCLUDES_DM_FIX):
        disconnect = has_hooks or has_volumes
    else:
        disconnect = backup_defaults_to_fs_backup(ctx)
    if disconnect and label(item, DC_POD_DEPLOYMENT_LABEL) and label(item, DC_POD_DEPLOYMENTCONFIG_LABEL):
        pod_labels = labels(item)
        del pod_labels[DC_POD_DEPLOYMENT_LABEL], pod_labels[DC_POD_DEPLOYMENTCONFIG_LABEL]
        pod_labels[DC_POD_DISCONNECTED_LABEL] = valid_label_value(name_of(ctx.restore))
    swap_template_images(item, ctx, "spec")
    _remap_pull_secrets(item, ctx)
    stage_image = annotation(ctx.restore, STAGE_POD_IMAGE)
    if label(item, INCLUDED_IN_STAGE_BACKUP) and stage_image:
        _make_stage_pod(item, stage_image)
    return ActionResult(item)
