"""JSON for archive items: orjson when it is installed (several times faster on large archives),
else the standard library. Both write compact JSON with sorted keys."""
from __future__ import annotations

import json
from typing import Any

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
