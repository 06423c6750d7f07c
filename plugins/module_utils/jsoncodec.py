"""JSON for archive items: orjson when it is installed (several times faster on large archives),
else the standard library. Both write compact JSON with sorted keys."""
from __future__ import annotations

import json
from typing import Any, Callable

try:
    import orjson
except ImportError:  # the standard library is enough, only slower
    orjson = None


def loads(data: bytes) -> Any:
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the standard library accepts a little more (NaN, huge integers) or explains the error
    return json.loads(data)


def dumps_compact(value: Any) -> bytes:
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            pass  # integers beyond 64 bits and non-string keys
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def dumps_record(value: Any) -> bytes:
    """Sorted compact JSON for private records: any string round-trips, lone surrogates included
    (the standard library escapes them, where orjson refuses them)."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            pass
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("ascii")


def copy(value: Any, fallback: Callable[[Any], Any]) -> Any:
    """An independent copy of a JSON-shaped value: through orjson several times faster than copying
    in Python; ``fallback(value)`` when the round trip does not give an equal value (tuples, NaN)."""
    if orjson is not None:
        try:
            copied = orjson.loads(orjson.dumps(value))
        except (TypeError, ValueError):
            copied = None
        if copied is not None and copied == value:
            return copied
    return fallback(value)
