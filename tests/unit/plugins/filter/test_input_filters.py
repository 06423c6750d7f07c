"""as_list / as_dict: role inputs that AWX surveys pass as strings."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_migration.velero.plugins.filter.inputs import as_dict, as_list


@pytest.mark.parametrize("given, expected", [
    (["a", "b"], ["a", "b"]),
    ("a, b ,,c", ["a", "b", "c"]),
    ("", []),
    (None, []),
])
def test_as_list(given, expected):
    assert as_list(given) == expected


@pytest.mark.parametrize("given, expected", [
    ({"a": "b"}, {"a": "b"}),
    ("a: b\nc: d", {"a": "b", "c": "d"}),
    ('{"a": "b"}', {"a": "b"}),
    ("", {}),
    (None, {}),
])
def test_as_dict(given, expected):
    assert as_dict(given) == expected


def test_as_dict_names_the_variable_on_bad_input():
    with pytest.raises(AnsibleFilterError, match="migrate_namespace_mapping must be a mapping"):
        as_dict("- a\n- b", "migrate_namespace_mapping")
    with pytest.raises(AnsibleFilterError, match="not valid YAML"):
        as_dict("a: [", "migrate_namespace_mapping")


def test_as_list_rejects_a_mapping():
    with pytest.raises(AnsibleFilterError, match="migrate_namespaces must be a list"):
        as_list({"a": 1}, "migrate_namespaces")
