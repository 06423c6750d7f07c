"""The OpenShift API kinds the migration touches, as permissive CRDs for a plain kube-apiserver.

Schemas keep every field (x-kubernetes-preserve-unknown-fields) because the lab tests what the
collection does with real OpenShift objects, not what OpenShift would validate. A status
subresource is declared where OpenShift serves one, so status survives like on OpenShift.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    cluster_scoped: bool = False
    status: bool = True
    scale: bool = False
    short_names: tuple[str, ...] = ()


KINDS = [
    Kind("image.openshift.io", "v1", "ImageStream", "imagestreams", short_names=("is",)),
    Kind("image.openshift.io", "v1", "ImageStreamTag", "imagestreamtags", status=False,
         short_names=("istag",)),
    Kind("apps.openshift.io", "v1", "DeploymentConfig", "deploymentconfigs", scale=True,
         short_names=("dc",)),
    Kind("build.openshift.io", "v1", "BuildConfig", "buildconfigs", short_names=("bc",)),
    Kind("build.openshift.io", "v1", "Build", "builds"),
    Kind("route.openshift.io", "v1", "Route", "routes"),
    Kind("security.openshift.io", "v1", "SecurityContextConstraints",
         "securitycontextconstraints", cluster_scoped=True, status=False, short_names=("scc",)),
    Kind("authorization.openshift.io", "v1", "RoleBinding", "rolebindings", status=False),
    Kind("authorization.openshift.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
         cluster_scoped=True, status=False),
    Kind("config.openshift.io", "v1", "ClusterVersion", "clusterversions", cluster_scoped=True),
    Kind("imageregistry.operator.openshift.io", "v1", "Config", "configs", cluster_scoped=True),
]

PERMISSIVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def crd(kind: Kind) -> dict:
    version: dict = {
        "name": kind.version, "served": True, "storage": True,
        "schema": {"openAPIV3Schema": PERMISSIVE},
    }
    subresources: dict = {}
    if kind.status:
        subresources["status"] = {}
    if kind.scale:
        subresources["scale"] = {"specReplicasPath": ".spec.replicas",
                                 "statusReplicasPath": ".status.replicas",
                                 "labelSelectorPath": ".status.selector"}
    if subresources:
        version["subresources"] = subresources
    names = {"kind": kind.kind, "plural": kind.plural, "singular": kind.kind.lower(),
             "listKind": kind.kind + "List"}
    if kind.short_names:
        names["shortNames"] = list(kind.short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.plural}.{kind.group}"},
        "spec": {"group": kind.group, "names": names, "versions": [version],
                 "scope": "Cluster" if kind.cluster_scoped else "Namespaced"},
    }


def all_crds() -> list[dict]:
    return [crd(kind) for kind in KINDS]
