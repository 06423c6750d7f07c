"""BuildConfigs: builder images and pull/push secrets follow the destination (plugin-spec §4.26, §3.7)."""
from __future__ import annotations

from ..constants import BACKUP_REGISTRY_HOSTNAME, GENERATED_PULL_SECRET_PREFIXES, RESTORE_REGISTRY_HOSTNAME
from ..context import RestoreContext
from ..errors import ImageReferenceError
from ..images import swap_registry
from ..objects import annotation, mapped_namespace, name_of, namespace_of
from ..pullsecrets import update_pull_secret
from .base import ActionResult

STRATEGIES = ("sourceStrategy", "dockerStrategy", "customStrategy")


def _swap_docker_reference(ref: dict | None, registry: str, backup_registry: str, mapping: dict[str, str]) -> None:
    if not isinstance(ref, dict) or ref.get("kind") != "DockerImage" or not registry or not backup_registry:
        return
    try:
        ref["name"] = swap_registry(str(ref.get("name") or ""), backup_registry, registry, mapping)
    except ImageReferenceError:
        return


def _update_secret_field(holder: dict, key: str, secrets: list[dict], lookup) -> None:
    if key not in holder:
        return
    if secrets or not _is_generated(holder[key]):
        holder[key] = update_pull_secret(holder[key], secrets, lookup)
    else:
        # The destination namespace has no generated secrets yet (it is created by the restore):
        # without the reference the build uses its builder service account's own secret.
        del holder[key]


def _is_generated(ref: dict | None) -> bool:
    name = str((ref or {}).get("name") or "")
    return any(name.startswith(prefix) for prefix in GENERATED_PULL_SECRET_PREFIXES)


def update_common_spec(spec: dict, registry: str, backup_registry: str, secrets: list[dict],
                       mapping: dict[str, str], lookup) -> dict:
    """Point a build's output, strategy and source images at the destination; returns ``spec``."""
    output = spec.get("output")
    if isinstance(output, dict):
        _update_secret_field(output, "pushSecret", secrets, lookup)
        _swap_docker_reference(output.get("to"), registry, backup_registry, mapping)
    strategy = spec.get("strategy") or {}
    for name in STRATEGIES:
        if isinstance(strategy.get(name), dict):
            _update_secret_field(strategy[name], "pullSecret", secrets, lookup)
            _swap_docker_reference(strategy[name].get("from"), registry, backup_registry, mapping)
    for image in (spec.get("source") or {}).get("images") or []:
        if isinstance(image, dict):
            _update_secret_field(image, "pullSecret", secrets, lookup)
            _swap_docker_reference(image.get("from"), registry, backup_registry, mapping)
    return spec


def restore_build_config(item: dict, ctx: RestoreContext) -> ActionResult:
    destination = mapped_namespace(namespace_of(ctx.item_from_backup), ctx.mapping)
    secrets = [secret for secret in ctx.cluster.lookup.list("v1", "Secret", destination)
               if name_of(secret).startswith(GENERATED_PULL_SECRET_PREFIXES)]
    if isinstance(item.get("spec"), dict):
        update_common_spec(item["spec"], annotation(item, RESTORE_REGISTRY_HOSTNAME),
                           annotation(item, BACKUP_REGISTRY_HOSTNAME), secrets, ctx.mapping, ctx.cluster.lookup)
    return ActionResult(item)
