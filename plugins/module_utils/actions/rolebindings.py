"""OpenShift legacy RoleBindings and ClusterRoleBindings: subjects follow the namespace mapping (§4.31, §4.32)."""
from __future__ import annotations

from ..constants import SYSTEM_ROLEBINDINGS
from ..context import RestoreContext
from ..objects import name_of
from .base import ActionResult, skip
from .scc import map_service_account_user


def _map_group_name(name: str, mapping: dict[str, str]) -> str:
    """system:serviceaccounts:<ns> with <ns> mapped."""
    parts = name.split(":")
    if len(parts) >= 3 and parts[1] == "serviceaccounts" and mapping.get(parts[2]):
        parts[2] = mapping[parts[2]]
        return ":".join(parts)
    return name


def swap_subject_namespaces(subjects: list | None, mapping: dict[str, str]) -> list:
    swapped = []
    for subject in subjects or []:
        subject = dict(subject)
        namespace = subject.get("namespace")
        if namespace and mapping.get(namespace):
            subject["namespace"] = mapping[namespace]
        if subject.get("name"):
            # Both the service-account group and a service-account user written as a name.
            subject["name"] = map_service_account_user(_map_group_name(subject["name"], mapping), mapping)
        swapped.append(subject)
    return swapped


def swap_user_names_namespaces(names: list | None, mapping: dict[str, str]) -> list:
    return [map_service_account_user(str(name), mapping) for name in names or []]


def swap_group_names_namespaces(names: list | None, mapping: dict[str, str]) -> list:
    return [_map_group_name(str(name), mapping) for name in names or []]


def map_binding_namespaces(item: dict, ctx: RestoreContext) -> ActionResult:
    mapping = ctx.mapping
    if not mapping:
        return ActionResult(item)
    role_ref = item.get("roleRef")
    if isinstance(role_ref, dict) and role_ref.get("namespace") and mapping.get(role_ref["namespace"]):
        role_ref["namespace"] = mapping[role_ref["namespace"]]
    for field, swap in (("subjects", swap_subject_namespaces), ("userNames", swap_user_names_namespaces),
                        ("groupNames", swap_group_names_namespaces)):
        if isinstance(item.get(field), list):
            item[field] = swap(item[field], mapping)
    return ActionResult(item)


def skip_system_rolebinding(item: dict, ctx: RestoreContext) -> ActionResult:
    """The destination creates its own image-puller, builder and deployer bindings."""
    if name_of(item) in SYSTEM_ROLEBINDINGS:
        return skip(item)
    return map_binding_namespaces(item, ctx)
