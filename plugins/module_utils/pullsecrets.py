"""Generated dockercfg pull secrets: find the destination's counterpart of a source secret (plugin-spec §3.6)."""
from __future__ import annotations

from .constants import (GENERATED_PULL_SECRET_PREFIXES, LEGACY_SA_NAME, LEGACY_SA_UID, REGISTRY_PULL_SECRET_REF,
                        REGISTRY_SA_NAME)
from .errors import PullSecretError
from .lookups import Lookup
from .objects import annotation, dig, name_of, namespace_of


def _owned_by_its_service_account(secret: dict, lookup: Lookup) -> bool:
    sa_name = annotation(secret, REGISTRY_SA_NAME)
    if sa_name:
        account = lookup.get("v1", "ServiceAccount", sa_name, namespace_of(secret))
        return account is not None and annotation(account, REGISTRY_PULL_SECRET_REF) == name_of(secret)
    sa_name = annotation(secret, LEGACY_SA_NAME)
    if sa_name:
        account = lookup.get("v1", "ServiceAccount", sa_name, namespace_of(secret))
        return account is not None and annotation(secret, LEGACY_SA_UID) == dig(account, "metadata", "uid")
    return False


def update_pull_secret(ref: dict | None, secrets: list[dict], lookup: Lookup) -> dict | None:
    """Replace a reference to a generated dockercfg secret with the destination namespace's own."""
    if ref is None:
        return None
    name = str(ref.get("name") or "")
    for prefix in GENERATED_PULL_SECRET_PREFIXES:
        if not name.startswith(prefix):
            continue
        for secret in secrets:
            if name_of(secret).startswith(prefix) and _owned_by_its_service_account(secret, lookup):
                return {"name": name_of(secret)}
        raise PullSecretError(f"secret not found: no {prefix}* secret owned by its service account replaces {name}")
    return ref
