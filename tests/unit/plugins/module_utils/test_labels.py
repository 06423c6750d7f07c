"""Label helpers (plugin-spec §3.10)."""

import hashlib

from ansible_collections.openshift_migration.velero.plugins.module_utils.labels import (
    labels_to_string,
    string_to_labels,
    valid_label_value,
)


def test_valid_label_value_keeps_a_63_character_value():
    """§3.10: len <= 63 returned as is."""
    assert valid_label_value("r" * 63) == "r" * 63
    assert valid_label_value("restore-1") == "restore-1"


def test_valid_label_value_truncates_and_appends_a_sha256_prefix():
    """§3.10 / test-cases §10: first 57 chars + first 6 hex chars of sha256."""
    name = "a" * 30 + "b" * 40
    out = valid_label_value(name)
    assert out == name[:57] + hashlib.sha256(name.encode()).hexdigest()[:6]
    assert len(out) == 63


def test_labels_to_string_sorts_the_whole_key_value_strings():
    """§3.10: sort "k=v" strings lexicographically, join with ','."""
    assert labels_to_string({"b": "1", "a": "2", "a.b": "0"}) == "a.b=0,a=2,b=1"


def test_labels_to_string_of_an_empty_map_is_empty():
    """§3.10: empty map -> ""."""
    assert labels_to_string({}) == ""


def test_string_to_labels_parses_and_trims():
    """§3.10: split on ',', then '=', whitespace trimmed."""
    assert string_to_labels("app=web, tier = front") == {"app": "web", "tier": "front"}


def test_string_to_labels_of_empty_string_is_empty_map():
    """§3.10: "" -> {}."""
    assert string_to_labels("") == {}


def test_string_to_labels_stops_at_the_first_invalid_part():
    """§3.10: on the first invalid part, the map built so far is used."""
    assert string_to_labels("a=1,broken,c=3") == {"a": "1"}
    assert string_to_labels("a=1,b=2=3,c=3") == {"a": "1"}
    assert string_to_labels("a=1,bad key=2,c=3") == {"a": "1"}
