# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unified diffs of items for reports, with Secret values kept out of them."""
from __future__ import annotations

import difflib
import json

REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted, changed>"
OMITTED = "..."
_SECRET_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"


def _redact(before: dict, after: dict) -> tuple[dict, dict]:
    """Copies of a Secret pair with every value replaced, showing only whether it changed."""
    before, after = dict(before), dict(after)
    for field in ("data", "stringData"):
        old, new = before.get(field), after.get(field)
        old = old if isinstance(old, dict) else {}
        new = new if isinstance(new, dict) else {}
        if field in before:
            before[field] = dict.fromkeys(old, REDACTED)
        if field in after:
            after[field] = {key: REDACTED if old.get(key) == value else REDACTED_CHANGED
                            for key, value in new.items()}
    for side in (before, after):
        meta = side.get("metadata")
        if isinstance(meta, dict) and _SECRET_ANNOTATION in (meta.get("annotations") or {}):
            side["metadata"] = dict(meta, annotations=dict(meta["annotations"], **{_SECRET_ANNOTATION: REDACTED}))
    return before, after


def _prune(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, recursively through nested objects.

    Real items carry large unchanged parts (managedFields, status, pod specs); leaving them out
    keeps diffs readable and cheap, while every changed value still shows with its full path.
    """
    old, new = {}, {}
    unchanged = 0
    for key in sorted(set(before) | set(after)):
        if key in before and key in after:
            if before[key] == after[key]:
                unchanged += 1
                continue
            if isinstance(before[key], dict) and isinstance(after[key], dict):
                old[key], new[key] = _prune(before[key], after[key])
                continue
        if key in before:
            old[key] = before[key]
        if key in after:
            new[key] = after[key]
    if unchanged:  # say that keys were left out, so that a shortened object is not read as emptied
        old[OMITTED] = new[OMITTED] = f"{unchanged} unchanged"
    return old, new


class _Unusual(Exception):
    """A value _json_lines() leaves to the json module (floats, tuples, keys that are not strings)."""


def _emit(value: object, head: str, indent: str, tail: str, lines: list[str]) -> None:
    """Append the lines of ``value`` as json.dumps(indent=2, sort_keys=True) writes it, the first
    line starting with ``head`` (its indent and key) and the last one ending with ``tail``."""
    if value.__class__ is str:
        lines.append(head + _quoted(value) + tail)
    elif value.__class__ is dict and value:
        if any(key.__class__ is not str for key in value):
            raise _Unusual()
        keys = sorted(value)
        lines.append(head + "{\n")
        inner = indent + "  "
        for key in keys[:-1]:
            _emit(value[key], inner + _quoted(key) + ": ", inner, ",\n", lines)
        _emit(value[keys[-1]], inner + _quoted(keys[-1]) + ": ", inner, "\n", lines)
        lines.append(indent + "}" + tail)
    elif value.__class__ is list and value:
        lines.append(head + "[\n")
        inner = indent + "  "
        for item in value[:-1]:
            _emit(item, inner, inner, ",\n", lines)
        _emit(value[-1], inner, inner, "\n", lines)
        lines.append(indent + "]" + tail)
    elif value.__class__ in _SCALARS:
        lines.append(head + _SCALARS[value.__class__](value) + tail)
    else:
        raise _Unusual()


_quoted = json.encoder.encode_basestring_ascii  # what json.dumps writes a string as (ensure_ascii)
_SCALARS = {int: int.__repr__, bool: lambda value: "true" if value else "false", type(None): lambda value: "null",
            dict: lambda value: "{}", list: lambda value: "[]"}  # (the empty containers)


def _json_lines(value: object) -> list[str]:
    """json.dumps(value, indent=2, sort_keys=True).splitlines(keepends=True), several times faster:
    lines are made directly by the same rules. That output holds no line break but its own, as it
    escapes every control and non-ASCII character."""
    lines: list[str] = []
    try:
        _emit(value, "", "", "", lines)
    except _Unusual:
        return json.dumps(value, indent=2, sort_keys=True).splitlines(keepends=True)
    return lines


def item_diff(before: dict, after: dict, label: str) -> str:
    """A unified diff of the changed parts of two versions of one item, as indented JSON ("" when equal)."""
    if before.get("kind") == "Secret" or after.get("kind") == "Secret":
        before, after = _redact(before, after)
    before, after = _prune(before, after)
    lines = difflib.unified_diff(_json_lines(before), _json_lines(after), fromfile=f"{label} (before)",
                                 tofile=f"{label} (after)", n=2)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
