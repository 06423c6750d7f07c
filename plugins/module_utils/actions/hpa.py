"""HorizontalPodAutoscalers: a DeploymentConfig target must name its OpenShift API group (plugin-spec §4.34)."""
from __future__ import annotations

from ..context import RestoreContext
from ..errors import MigrationError
from .base import ActionResult, keep


def _group_version(api_version: str) -> tuple[str, str]:
    if not api_version:
        return "", ""
    parts = api_version.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise MigrationError(f"unexpected GroupVersion string: {api_version}")


def fix_deploymentconfig_target(item: dict, ctx: RestoreContext) -> ActionResult:
    target = (item.get("spec") or {}).get("scaleTargetRef")
    if not isinstance(target, dict) or not any(target.get(key) for key in ("kind", "name", "apiVersion")):
        return keep(item)
    group, version = _group_version(str(target.get("apiVersion") or ""))
    if group == "" and version == "v1" and target.get("kind") == "DeploymentConfig":
        target["apiVersion"] = "apps.openshift.io/v1"
    return ActionResult(item)
