# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters as_list and as_dict: role inputs that AWX surveys and extra vars pass as strings."""
from __future__ import annotations

import json

import yaml
from ansible.errors import AnsibleFilterError


def as_list(value, name: str = "value") -> list:
    """A list as given, or the items of a comma-separated string (blanks dropped)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [str(part) for part in value]
    raise AnsibleFilterError(f"{name} must be a list or a comma-separated string, got {type(value).__name__}")


def as_dict(value, name: str = "value") -> dict:
    """A dict as given, or the mapping a YAML or JSON string holds (an empty string is {})."""
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise AnsibleFilterError(f"{name} is not valid YAML or JSON: {error}") from error
    if isinstance(value, dict):
        # Round-trip through JSON so that Ansible's tagged strings come out as plain ones.
        return json.loads(json.dumps(dict(value), default=str))
    raise AnsibleFilterError(f"{name} must be a mapping or a YAML/JSON string of one, got {type(value).__name__}")


class FilterModule:
    def filters(self):
        return {"as_list": as_list, "as_dict": as_dict}
