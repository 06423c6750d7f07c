"""Label helpers: valid label values, label strings, and label selectors."""
from __future__ import annotations

import hashlib
import re

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def valid_label_value(value: str) -> str:
    """Velero's rule: values over 63 characters become 57 characters plus 6 hex of their sha256."""
    if len(value) <= 63:
        return value
    return value[:57] + hashlib.sha256(value.encode()).hexdigest()[:6]


def labels_to_string(labels: dict[str, str] | None) -> str:
    """"k=v,k2=v2" with the whole "k=v" strings sorted."""
    return ",".join(sorted(f"{key}={value}" for key, value in (labels or {}).items()))


def string_to_labels(text: str) -> dict[str, str]:
    """Parse "k=v,k2=v2"; stops at the first invalid part and keeps what was parsed before it."""
    result: dict[str, str] = {}
    if not text:
        return result
    for part in text.split(","):
        pieces = part.split("=")
        if len(pieces) != 2:
            break
        key, value = pieces[0].strip(), pieces[1].strip()
        if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            break
        result[key] = value
    return result


def selector_matches(selector: dict | None, labels: dict[str, str] | None) -> bool:
    """metav1.LabelSelector semantics: an empty selector matches everything."""
    labels = labels or {}
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key")
        operator = expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"label selector operator {operator!r} is not valid")
    return True


def equality_selector(match: dict[str, str] | None) -> str:
    """A label-selector string of equality requirements, as kubectl -l takes it."""
    return ",".join(f"{key}={value}" for key, value in sorted((match or {}).items()))


def parse_equality_selector(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    result = {}
    for part in text.split(","):
        key, value = part.partition("=")[::2]
        result[key.strip()] = value.strip().lstrip("=")
    return result
