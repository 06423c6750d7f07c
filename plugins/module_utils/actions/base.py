"""What every action returns and how the registry describes it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class ActionResult:
    item: dict
    skip: bool = False
    additional_items: list[dict] = field(default_factory=list)
    # Restore only: Velero waits for the additional items before creating this one.
    wait_for_additional_items: bool = False


def keep(item: dict) -> ActionResult:
    return ActionResult(item)


def skip(item: dict) -> ActionResult:
    return ActionResult(item, skip=True)


def resource_id(group: str, resource: str, namespace: str, name: str) -> dict:
    return {"group": group, "resource": resource, "namespace": namespace, "name": name}


@dataclass(frozen=True)
class Action:
    """One registration of the Go plugin: its name, its AppliesTo strings, and our function."""

    name: str
    applies_to: tuple[str, ...]
    run: Callable[[dict, Any], ActionResult]
