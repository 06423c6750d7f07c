"""Run the applicable actions on one item, chained in registry order, as Velero would."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Iterable

from .actions.base import Action
from .actions.registry import ALL_ACTION_NAMES, BACKUP_ACTIONS, ITEM_BLOCK_ACTIONS, RESTORE_ACTIONS
from .context import BackupContext, RestoreContext
from .errors import ActionError, MigrationError
from .objects import describe
from .resources import GroupResource, group_resource_of, parse_resource

_PREFIX = "openshift.io/"


@dataclass
class ItemResult:
    # The input item itself when no action applies to it, else a changed copy.
    item: dict
    skip: bool = False
    additional_items: list[dict] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"item": self.item, "skip": self.skip, "additional_items": self.additional_items,
                "actions": self.actions}


def normalise_disabled(disabled: Iterable[str] | None) -> frozenset[str]:
    """Full registration names; accepts them with or without the "openshift.io/" prefix."""
    if not disabled:
        return frozenset()
    if isinstance(disabled, frozenset) and disabled <= ALL_ACTION_NAMES:
        return disabled
    names = set()
    for name in disabled or ():
        full = name if name.startswith(_PREFIX) else _PREFIX + name
        if full not in ALL_ACTION_NAMES:
            raise MigrationError(f"unknown action {name!r} in disabled_actions; known actions: "
                                 + ", ".join(sorted(ALL_ACTION_NAMES)))
        names.add(full)
    return frozenset(names)


def _applies(action: Action, target: GroupResource) -> bool:
    return any(parse_resource(name) == target for name in action.applies_to)


# Archives hold many items of few resources: which actions apply is worked out once per resource.
_APPLICABLE: dict[tuple[int, GroupResource], list[Action]] = {}
_TARGETS: dict[str, GroupResource] = {}


def applicable_actions(actions: list[Action], target: GroupResource) -> list[Action]:
    """The actions of a registered list (BACKUP_ACTIONS, ...) that apply to ``target``, in order.

    Cached by the list's identity: pass the long-lived registry lists, not a list built per call.
    """
    key = (id(actions), target)
    if key not in _APPLICABLE:
        _APPLICABLE[key] = [action for action in actions if _applies(action, target)]
    return _APPLICABLE[key]


def copy_json(value: Any) -> Any:
    """A copy of a JSON-shaped object; several times cheaper than copy.deepcopy on large archives."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def _target_of(item: dict, resource: str | None) -> GroupResource:
    if not isinstance(item, dict):
        raise MigrationError(f"an item must be a Kubernetes object (a dict), not {type(item).__name__}")
    if resource:
        target = _TARGETS.get(resource)
        if target is None:
            target = _TARGETS[resource] = parse_resource(resource)
        return target
    if not item.get("apiVersion") or not item.get("kind"):
        raise MigrationError(f"{describe(item)} has no apiVersion or kind: give both, or pass resource=")
    if not isinstance(item.get("metadata"), dict) or not item["metadata"].get("name"):
        raise MigrationError(f"{describe(item)} has no metadata.name")
    return group_resource_of(item)


def _run(applicable: list[Action], item: dict, ctx, disabled: frozenset[str], result: ItemResult) -> None:
    for action in applicable:
        if action.name in disabled:
            continue
        result.actions.append(action.name)
        try:
            outcome = action.run(result.item, ctx)
        except Exception as error:  # every failure becomes one message naming action and item
            raise ActionError(action.name, describe(result.item), str(error)) from error
        result.item = outcome.item
        for extra in outcome.additional_items:
            if extra not in result.additional_items:
                result.additional_items.append(extra)
        if outcome.skip:
            result.skip = True
            return


def run_backup_item(item: dict, ctx: BackupContext, *, resource: str | None = None,
                    disabled: Collection[str] = (), owned: bool = False) -> ItemResult:
    """``owned``: the caller hands the item over, so actions change it in place instead of a copy."""
    target = _target_of(item, resource)
    backup, item_block = applicable_actions(BACKUP_ACTIONS, target), applicable_actions(ITEM_BLOCK_ACTIONS, target)
    if not backup and not item_block:
        return ItemResult(item)
    result = ItemResult(item if owned else copy_json(item))
    off = normalise_disabled(disabled)
    _run(backup, result.item, ctx, off, result)
    if not result.skip:
        _run(item_block, result.item, ctx, off, result)
    return result


def run_restore_item(item: dict, ctx: RestoreContext, *, item_from_backup: dict | None = None,
                     resource: str | None = None, disabled: Collection[str] = (), owned: bool = False) -> ItemResult:
    """``owned``: as for run_backup_item; an owned item must not also be ``item_from_backup``."""
    target = _target_of(item, resource)
    applicable = applicable_actions(RESTORE_ACTIONS, target)
    if not applicable:
        return ItemResult(item)
    # Actions only read the item from the backup, so it is shared rather than copied.
    source = item_from_backup if item_from_backup is not None else item
    result = ItemResult(item if owned else copy_json(item))
    _run(applicable, result.item, ctx.for_item(source), normalise_disabled(disabled), result)
    return result
