"""01-common: stamp workload-like items with the cluster's version and internal registry (plugin-spec §4.1, §4.2).

The resource-specific restore actions read these annotations to know which registry prefix to swap.
"""
from __future__ import annotations

from ..constants import BACKUP_REGISTRY_HOSTNAME, BACKUP_SERVER_VERSION, RESTORE_REGISTRY_HOSTNAME, RESTORE_SERVER_VERSION
from ..context import BackupContext, RestoreContext
from ..objects import annotations
from .base import ActionResult

APPLIES_TO = (
    "pods", "imagestreams", "imagestreams.image.openshift.io", "imagestreamtags",
    "imagestreamtags.image.openshift.io", "deployments", "deployments.apps", "deployments.extensions",
    "deploymentconfigs", "deploymentconfigs.apps.openshift.io", "jobs", "jobs.batch", "cronjobs",
    "cronjobs.batch", "statefulsets", "statefulsets.apps", "daemonsets", "daemonsets.apps",
    "daemonsets.extensions", "replicasets", "replicasets.apps", "replicasets.extensions",
    "replicationcontroller", "buildconfigs", "buildconfigs.build.openshift.io",
)


def stamp_backup_cluster(item: dict, ctx: BackupContext) -> ActionResult:
    notes = annotations(item)
    notes[BACKUP_SERVER_VERSION] = ctx.cluster.server_version
    notes[BACKUP_REGISTRY_HOSTNAME] = ctx.cluster.registry_hostname
    return ActionResult(item)


def stamp_restore_cluster(item: dict, ctx: RestoreContext) -> ActionResult:
    notes = annotations(item)
    notes[RESTORE_SERVER_VERSION] = ctx.cluster.server_version
    notes[RESTORE_REGISTRY_HOSTNAME] = ctx.cluster.registry_hostname
    return ActionResult(item)
