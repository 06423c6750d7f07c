"""Which action applies to which resource, in the order the Go plugin registers them.

Velero runs a plugin's actions in lexicographic order of their registration names and chains
them, so ``01-common-*`` runs first and later actions read the annotations it wrote.
"""
from __future__ import annotations

from . import (buildconfigs, builds, common, configmaps, deploymentconfigs, hpa, imagestreams, imagestreamtags,
               imagetags, nonadmin, persistentvolumes, pods, replicationcontrollers, rolebindings, routes, scc,
               secrets, serviceaccounts, services, workloads)
from .base import Action

P = "openshift.io/"

BACKUP_ACTIONS: list[Action] = [
    Action(P + "01-common-backup-plugin", common.APPLIES_TO, common.stamp_backup_cluster),
    Action(P + "02-serviceaccount-backup-plugin", ("serviceaccounts",), serviceaccounts.add_related_sccs),
    Action(P + "03-pv-backup-plugin", ("persistentvolumes",), persistentvolumes.retain_moved_volume),
    Action(P + "04-imagestreamtag-backup-plugin", ("imagestreamtags",), imagestreamtags.record_related_tag),
    Action(P + "07-pod-backup-plugin", ("pods",), pods.mark_backed_up_with_dc_fix),
    Action(P + "08-deploymentconfig-backup-plugin", ("deploymentconfigs",), deploymentconfigs.record_pod_facts),
    Action(P + "09-replicationcontroller-backup-plugin", ("replicationcontrollers",),
           replicationcontrollers.mark_paused_owner),
    Action(P + "19-is-backup-plugin", ("imagestreams",), imagestreams.copy_images_to_migration_registry),
    Action(P + "25-configmap-backup-plugin", ("configmaps",), configmaps.mark_build_configmap),
]

# Item-block actions group related items with the item; we return them as additional items.
ITEM_BLOCK_ACTIONS: list[Action] = [
    Action(P + "02-serviceaccount-iba-plugin", ("serviceaccounts",), serviceaccounts.add_related_sccs),
]

RESTORE_ACTIONS: list[Action] = [
    Action(P + "01-common-restore-plugin", common.APPLIES_TO, common.stamp_restore_cluster),
    Action(P + "02-serviceaccount-restore-plugin", ("serviceaccounts",), serviceaccounts.drop_generated_pull_secrets),
    Action(P + "03-pv-restore-plugin", ("persistentvolumes",), persistentvolumes.retarget_copied_volume),
    Action(P + "04-imagestreamtag-restore-plugin", ("imagestreamtags",), imagestreamtags.restore_reference_tag),
    Action(P + "04-pvc-restore-plugin", ("persistentvolumeclaims",), persistentvolumes.retarget_copied_claim),
    Action(P + "05-route-restore-plugin", ("routes",), routes.drop_generated_host),
    Action(P + "06-build-restore-plugin", ("builds",), builds.skip_build),
    Action(P + "07-pod-restore-plugin", ("pods",), pods.restore_pod),
    Action(P + "08-deploymentconfig-restore-plugin", ("deploymentconfigs",), deploymentconfigs.scale_down_for_restore),
    Action(P + "09-replicationcontroller-restore-plugin", ("replicationcontrollers",),
           replicationcontrollers.restore_replication_controller),
    Action(P + "10-job-restore-plugin", ("jobs",), workloads.restore_job),
    Action(P + "11-daemonset-restore-plugin", ("daemonsets.apps",), workloads.swap_workload_images),
    Action(P + "12-replicaset-restore-plugin", ("replicasets.apps",), workloads.swap_workload_images),
    Action(P + "13-deployment-restore-plugin", ("deployments.apps",), workloads.swap_workload_images),
    Action(P + "14-statefulset-restore-plugin", ("statefulsets.apps",), workloads.swap_workload_images),
    Action(P + "15-service-restore-plugin", ("services",), services.drop_load_balancer_ips),
    Action(P + "16-cronjob-restore-plugin", ("cronjobs",), workloads.swap_cronjob_images),
    Action(P + "17-buildconfig-restore-plugin", ("buildconfigs",), buildconfigs.restore_build_config),
    Action(P + "18-secret-restore-plugin", ("secrets",), secrets.skip_service_serving_cert),
    Action(P + "19-is-restore-plugin", ("imagestreams",), imagestreams.copy_images_to_destination_registry),
    Action(P + "20-SCC-restore-plugin", ("securitycontextconstraints",), scc.map_scc_users),
    Action(P + "21-role-bindings-restore-plugin", ("rolebinding.authorization.openshift.io",),
           rolebindings.skip_system_rolebinding),
    Action(P + "22-cluster-role-bindings-restore-plugin", ("clusterrolebinding.authorization.openshift.io",),
           rolebindings.map_binding_namespaces),
    Action(P + "23-imagetag-restore-plugin", ("imagetags",), imagetags.skip_image_tag),
    Action(P + "24-horizontalpodautoscaler-restore-plugin", ("horizontalpodautoscalers",),
           hpa.fix_deploymentconfig_target),
    Action(P + "25-configmap-restore-plugin", ("configmaps",), configmaps.skip_build_configmap),
    Action(P + "26-nonadmin-restore-plugin", ("nonadminbackups.oadp.openshift.io", "nonadminrestores.oadp.openshift.io",
                                              "nonadminbackupstoragelocations.oadp.openshift.io"),
           nonadmin.skip_nonadmin_object),
]

ALL_ACTION_NAMES = frozenset(action.name for action in BACKUP_ACTIONS + ITEM_BLOCK_ACTIONS + RESTORE_ACTIONS)
