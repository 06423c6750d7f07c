"""Image reference helpers (plugin-spec §3.5)."""

import pytest
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import (
    MigrationError,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.images import (
    ImageReferenceError,
    has_image_ref_prefix,
    swap_container_images,
    swap_registry,
)

OLD = "old:5000"
NEW = "new.svc:5000"


@pytest.mark.parametrize(
    "ref, prefix, expected",
    [
        ("old:5000/ns/app:v1", "old:5000", True),
        ("old:5000", "old:5000", False),
        ("old:50001/ns/app", "old:5000", False),
        ("quay.io/ns/app", "old:5000", False),
        ("nginx", "nginx", False),
    ],
)
def test_has_image_ref_prefix_compares_the_first_path_component_exactly(ref, prefix, expected):
    """§3.5 HasImageRefPrefix: two parts and the first equals prefix."""
    assert has_image_ref_prefix(ref, prefix) is expected


@pytest.mark.parametrize(
    "ref, mapping, expected",
    [
        ("old:5000/ns1/app@sha256:abc", {}, "new.svc:5000/ns1/app@sha256:abc"),
        ("old:5000/ns1/app@sha256:abc", {"ns1": "ns2"}, "new.svc:5000/ns2/app@sha256:abc"),
        ("old:5000/ns1/app:v1", {"ns1": "ns2"}, "new.svc:5000/ns2/app:v1"),
        ("old:5000/ns1/app:v1", {"other": "x"}, "new.svc:5000/ns1/app:v1"),
        ("old:5000/openshift/python@sha256:abc", {}, "new.svc:5000/openshift/python"),
        ("old:5000/openshift/python:3.9", {}, "new.svc:5000/openshift/python:3.9"),
        ("old:5000/openshift/python@sha256:abc", {"openshift": "os2"}, "new.svc:5000/openshift/python"),
        ("old:5000/app:v1", {"app": "x"}, "new.svc:5000/app:v1"),
    ],
)
def test_swap_registry_rewrites_host_and_maps_namespace(ref, mapping, expected):
    """§3.5 ReplaceImageRefPrefix examples, incl. the openshift/* digest drop (§7 #8)."""
    assert swap_registry(ref, OLD, NEW, mapping) == expected


def test_swap_registry_accepts_a_none_mapping():
    """§3.5: mapping may be null."""
    assert swap_registry("old:5000/ns1/app:v1", OLD, NEW, None) == "new.svc:5000/ns1/app:v1"


@pytest.mark.parametrize("ref", ["quay.io/ns1/app:v1", "nginx", "old:50001/ns/app"])
def test_swap_registry_rejects_a_foreign_reference(ref):
    """§3.5: error 'image reference [..] does not have prefix [..]'."""
    with pytest.raises(ImageReferenceError) as err:
        swap_registry(ref, OLD, NEW, {})
    assert isinstance(err.value, MigrationError)
    assert ref in str(err.value)


def test_swap_container_images_rewrites_containers_and_init_containers_only():
    """§3.5 SwapContainerImageRefs: containers + initContainers, never ephemeralContainers."""
    spec = {
        "containers": [{"name": "a", "image": "old:5000/ns1/a:1"}, {"name": "b", "image": "quay.io/x/b:1"}],
        "initContainers": [{"name": "i", "image": "old:5000/ns1/i@sha256:1"}],
        "ephemeralContainers": [{"name": "e", "image": "old:5000/ns1/e:1"}],
    }
    assert swap_container_images(spec, OLD, NEW, {"ns1": "ns2"}) is None
    assert [c["image"] for c in spec["containers"]] == ["new.svc:5000/ns2/a:1", "quay.io/x/b:1"]
    assert spec["initContainers"][0]["image"] == "new.svc:5000/ns2/i@sha256:1"
    assert spec["ephemeralContainers"][0]["image"] == "old:5000/ns1/e:1"


@pytest.mark.parametrize("old, new", [("", NEW), (OLD, ""), ("", "")])
def test_swap_container_images_does_nothing_when_a_registry_is_empty(old, new):
    """§3.5: either registry "" -> no change."""
    spec = {"containers": [{"name": "a", "image": "old:5000/ns1/a:1"}]}
    swap_container_images(spec, old, new, {"ns1": "ns2"})
    assert spec["containers"][0]["image"] == "old:5000/ns1/a:1"


def test_swap_container_images_maps_namespaces_when_registries_are_equal():
    """§3.5 note: applied even when both registries are equal."""
    spec = {"containers": [{"name": "a", "image": "old:5000/ns1/a:1"}]}
    swap_container_images(spec, OLD, OLD, {"ns1": "ns2"})
    assert spec["containers"][0]["image"] == "old:5000/ns2/a:1"


def test_swap_container_images_tolerates_a_spec_without_containers():
    """§3.5: nothing to swap is not an error."""
    spec = {}
    swap_container_images(spec, OLD, NEW, {})
    assert spec in ({}, {"containers": []}, {"containers": [], "initContainers": []})
