"""The item index: copies compared as they stream by (or on disk when far apart), keys and resource list."""
import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils import item_index
from ansible_collections.openshift_migration.velero.plugins.module_utils.item_index import (
    OTHER_VERSION,
    PLAIN,
    PREFERRED,
    ItemIndex,
)

SAME, OTHER = b"d" * 16, b"e" * 16


@pytest.fixture(name="index")
def index_fixture():
    index = ItemIndex()
    yield index
    index.close()


def add(index, name, variant, digest=SAME, kept=True, namespace="app"):
    index.add("pods", namespace, name, variant, kept, digest, "v1/Pod")


def test_adjacent_copies_that_match_or_differ(index):
    add(index, "a", PLAIN)
    add(index, "a", PREFERRED)
    add(index, "b", PLAIN)
    add(index, "b", PREFERRED, OTHER)
    add(index, "c", PREFERRED, kept=False)  # preferred copy first; the kept flags differ
    add(index, "c", PLAIN)
    assert index.diverging_copies() == [("pods", "app", "b"), ("pods", "app", "c")]
    assert not index._unmatched  # pylint: disable=protected-access


def test_copies_far_apart_and_spilled_to_disk(index, monkeypatch):
    monkeypatch.setattr(item_index, "WAITING_LIMIT", 3)
    names = [f"p{number}" for number in range(10)]
    for name in names:
        add(index, name, PLAIN)
    for name in names:
        add(index, name, PREFERRED, OTHER if name in ("p1", "p8") else SAME)
    add(index, "p4", OTHER_VERSION, OTHER)  # other versions are not compared
    assert index.diverging_copies() == [("pods", "app", "p1"), ("pods", "app", "p8")]
    assert index.diverging_copies(limit=1) == [("pods", "app", "p1")]


def test_divergence_found_in_memory_and_on_disk_is_in_archive_order(index, monkeypatch):
    monkeypatch.setattr(item_index, "WAITING_LIMIT", 2)
    add(index, "first", PLAIN)
    add(index, "x", PLAIN)
    add(index, "y", PLAIN)  # spills "first" and "x"
    add(index, "y", PREFERRED, OTHER)  # found in memory
    add(index, "first", PREFERRED, OTHER)  # found on disk at the end
    assert index.diverging_copies() == [("pods", "app", "first"), ("pods", "app", "y")]


def test_items_with_one_copy_are_not_diverging(index):
    add(index, "plain-only", PLAIN)
    add(index, "preferred-only", PREFERRED, OTHER)
    assert index.diverging_copies() == []


def test_contains_any_copy_and_lists_kept_plain_copies(index):
    add(index, "a", PLAIN)
    add(index, "a", PREFERRED)
    add(index, "gone", PLAIN, b"", kept=False)
    add(index, "gone", PREFERRED, b"", kept=False)
    add(index, "only-preferred", PREFERRED)
    index.add("persistentvolumes", "", "pv", PLAIN, True, SAME, "v1/PersistentVolume")
    assert index.contains("pods", "app", "a") and index.contains("pods", "app", "only-preferred")
    assert index.contains("pods", "app", "gone") and not index.contains("pods", "app", "b")
    add(index, "late", PLAIN)
    assert index.contains("pods", "app", "late")
    assert list(index.resource_list()) == [("v1/PersistentVolume", "pv"), ("v1/Pod", "app/a"), ("v1/Pod", "app/late")]


@pytest.fixture(name="on_disk", params=[False, True], ids=["in memory", "on disk"])
def on_disk_fixture(request, monkeypatch):
    """Small indexes live in memory; MEMORY_ROWS = 1 moves every row to the SQLite file."""
    if request.param:
        monkeypatch.setattr(item_index, "MEMORY_ROWS", 1)
    return request.param


def test_memory_and_disk_give_the_same_answers(on_disk, index):
    names = ["b", "a", "é", "z/", "B", "ä"]
    for namespace in ("app", "", "Zeta"):
        for name in names:
            add(index, name, PLAIN, namespace=namespace)
            add(index, name, PREFERRED, OTHER if name == "a" else SAME, namespace=namespace)
    index.add("secrets", "app", "gone", PLAIN, False, b"", "v1/Secret")
    index.add("deployments.apps", "app", "web", PLAIN, True, SAME, "apps/v1/Deployment")
    index.add("deployments.apps", "app", "web", OTHER_VERSION, True, OTHER, "apps/v1beta1/Deployment")
    assert (index._db is not None) == on_disk  # pylint: disable=protected-access
    listed = list(index.resource_list())
    assert listed == sorted(listed) and len(listed) == 3 * len(names) + 1
    assert ("v1/Pod", "Zeta/ä") in listed and ("v1/Pod", "é") in listed and ("v1/Secret", "app/gone") not in listed
    assert index.contains("secrets", "app", "gone") and index.contains("pods", "", "z/")
    assert not index.contains("pods", "other", "a")
    assert index.diverging_copies(limit=2) == [("pods", "app", "a"), ("pods", "", "a")]


def test_copies_a_few_entries_apart_are_compared_by_digest(index):
    add(index, "p1", PLAIN, b"first version")
    add(index, "p2", PLAIN, b"second version")  # p1 now waits with the digest of its bytes
    add(index, "p1", PREFERRED, b"first version")
    add(index, "p2", PREFERRED, b"changed")
    add(index, "p3", PREFERRED, b"same", kept=False)
    add(index, "p4", PLAIN, b"other")
    add(index, "p3", PLAIN, b"same", kept=False)
    assert index.diverging_copies() == [("pods", "app", "p2")]
