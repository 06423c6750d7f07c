"""Group/resource names: derive them from apiVersion/kind and resolve AppliesTo strings.

Velero resolves each AppliesTo string through API discovery, so "replicationcontroller",
"rolebinding.authorization.openshift.io" and a bare "cronjobs" all name a real group-resource.
Without a cluster at hand we resolve them with the table of the kinds the plugin knows.
"""
from __future__ import annotations

from typing import NamedTuple


class GroupResource(NamedTuple):
    group: str
    resource: str

    def __str__(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


# Kinds whose plural is not "lowercase kind + s", or whose group a bare name resolves to.
_KNOWN: dict[str, tuple[str, str]] = {
    # kind: (plural resource, group a bare resource name resolves to)
    "Pod": ("pods", ""),
    "Service": ("services", ""),
    "Secret": ("secrets", ""),
    "ConfigMap": ("configmaps", ""),
    "ServiceAccount": ("serviceaccounts", ""),
    "PersistentVolume": ("persistentvolumes", ""),
    "PersistentVolumeClaim": ("persistentvolumeclaims", ""),
    "ReplicationController": ("replicationcontrollers", ""),
    "Namespace": ("namespaces", ""),
    "Endpoints": ("endpoints", ""),
    "Deployment": ("deployments", "apps"),
    "StatefulSet": ("statefulsets", "apps"),
    "DaemonSet": ("daemonsets", "apps"),
    "ReplicaSet": ("replicasets", "apps"),
    "Job": ("jobs", "batch"),
    "CronJob": ("cronjobs", "batch"),
    "HorizontalPodAutoscaler": ("horizontalpodautoscalers", "autoscaling"),
    "ImageStream": ("imagestreams", "image.openshift.io"),
    "ImageStreamTag": ("imagestreamtags", "image.openshift.io"),
    "ImageTag": ("imagetags", "image.openshift.io"),
    "DeploymentConfig": ("deploymentconfigs", "apps.openshift.io"),
    "BuildConfig": ("buildconfigs", "build.openshift.io"),
    "Build": ("builds", "build.openshift.io"),
    "Route": ("routes", "route.openshift.io"),
    "SecurityContextConstraints": ("securitycontextconstraints", "security.openshift.io"),
    "RoleBinding": ("rolebindings", "rbac.authorization.k8s.io"),
    "ClusterRoleBinding": ("clusterrolebindings", "rbac.authorization.k8s.io"),
    "NonAdminBackup": ("nonadminbackups", "oadp.openshift.io"),
    "NonAdminRestore": ("nonadminrestores", "oadp.openshift.io"),
    "NonAdminBackupStorageLocation": ("nonadminbackupstoragelocations", "oadp.openshift.io"),
}
_PLURAL_OF = {kind: plural for kind, (plural, _group) in _KNOWN.items()}
_BARE_GROUP = dict(_KNOWN.values())
_SINGULAR = {kind.lower(): plural for kind, plural in _PLURAL_OF.items()}


def plural(kind: str) -> str:
    if kind in _PLURAL_OF:
        return _PLURAL_OF[kind]
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


def split_api_version(api_version: str) -> tuple[str, str]:
    """("group", "version"); the core group is ""."""
    group, version = api_version.rpartition("/")[::2]
    return group, version


def group_resource_of(item: dict) -> GroupResource:
    """The group-resource of an object from its apiVersion and kind."""
    group = split_api_version(str(item.get("apiVersion") or ""))[0]
    return GroupResource(group, plural(str(item.get("kind") or "")))


def parse_resource(name: str) -> GroupResource:
    """Resolve "resource[.group]" the way discovery would: plural, and a bare name to its group."""
    resource, group = name.partition(".")[::2]
    resource = _SINGULAR.get(resource, resource)
    if not group:
        group = _BARE_GROUP.get(resource, "")
    return GroupResource(group, resource)
