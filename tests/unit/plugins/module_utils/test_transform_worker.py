"""The forked item worker gives what a serial run gives: archive bytes, report, index, errors, context state."""
import gzip
import io
import json
import threading

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils import runner, transform, transform_worker
from ansible_collections.openshift_migration.velero.plugins.module_utils.actions import registry, routes
from ansible_collections.openshift_migration.velero.plugins.module_utils.actions.base import Action
from ansible_collections.openshift_migration.velero.plugins.module_utils.archive import ArchiveError, ArchiveWriter
from ansible_collections.openshift_migration.velero.plugins.module_utils.constants import MIGRATE_TYPE, PV_MOVE
from ansible_collections.openshift_migration.velero.plugins.module_utils.context import (
    BackupContext,
    RestoreContext,
    facts_from_dict,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError, MigrationError
from ansible_collections.openshift_migration.velero.plugins.module_utils.item_index import ItemIndex
from ansible_collections.openshift_migration.velero.plugins.module_utils.report import TransformReport
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform import (
    ArchiveTransform,
    TransformSettings,
)
from tests.unit.builders import OLD_REG, migration_backup, migration_restore

from .backup_archives import DESTINATION_FACTS, SOURCE_FACTS, archive_entries, obj, sample_objects, source_scc, tar_bytes

# The worker changes look-up snapshots and plans image copies; the main process must see both.
MOVED_PV = obj("v1", "PersistentVolume", "pv-moved", annotations={MIGRATE_TYPE: PV_MOVE},
               spec={"persistentVolumeReclaimPolicy": "Delete"})

RESTORE = {"metadata": {"name": "r1"}, "spec": {"backupName": "b1", "namespaceMapping": {"app": "app-new"}}}


@pytest.fixture(autouse=True)
def workers(monkeypatch):
    """Fork after a few entries and send small batches, so that tiny archives fill the pipeline;
    the list of the workers started proves that the parallel runs did fork."""
    monkeypatch.setattr(transform_worker, "PARALLEL_AFTER", 3)
    monkeypatch.setattr(transform_worker, "_BATCH", 4)
    monkeypatch.setattr(transform_worker, "_IN_FLIGHT", 2)
    started = []

    class Recorded(transform_worker.ItemWorker):
        def __init__(self, *args):
            super().__init__(*args)
            started.append(self)
    monkeypatch.setattr(transform, "ItemWorker", Recorded)
    return started


def settings(parallel, backup=None, restore=None):
    source = facts_from_dict(dict(SOURCE_FACTS, objects=[source_scc(), json.loads(json.dumps(MOVED_PV))]))
    destination = facts_from_dict(DESTINATION_FACTS)
    return TransformSettings(BackupContext(backup or migration_backup(), source),
                             RestoreContext(restore or RESTORE, destination, backup=backup or migration_backup()),
                             parallel=parallel)


def run(entries, parallel, tar=None, **contexts):
    config = settings(parallel, **contexts)
    source = io.BytesIO(gzip.compress(tar if tar is not None else tar_bytes(entries)))
    out, report, index = io.BytesIO(), TransformReport(), ItemIndex()
    lookup = config.backup_ctx.cluster.lookup

    def fetch(api, kind, name, ns):
        return lookup.get(api, kind, name, ns or None)
    try:
        with ArchiveWriter(out) as writer:
            stats = ArchiveTransform(config, report, index).run(source, writer, "test archive", fetch)
        return {"bytes": out.getvalue(), "items": list(report.items()), "result": report.as_result(1000),
                "resources": list(index.resource_list()), "stats": stats,
                "planned": [(c.src, c.dest) for c in config.backup_ctx.planned_copies + config.restore_ctx.planned_copies],
                "updated": config.backup_ctx.cluster.lookup.updated}
    finally:
        report.close()
        index.close()


def many_objects(count=40):
    objects = sample_objects()
    for number in range(count):
        objects.append(obj("route.openshift.io/v1", "Route", f"r{number}", "app",
                           annotations={"openshift.io/host.generated": "true"}, spec={"host": f"r{number}.old"}))
        objects.append(obj("v1", "Endpoints", f"e{number}", "app", subsets=[{"x": "x" * number}]))
    return objects + [stream(), MOVED_PV]


def stream():
    items = [{"dockerImageReference": f"{OLD_REG}/app/web@sha256:new", "image": "sha256:new"}]
    return obj("image.openshift.io/v1", "ImageStream", "web", "app", spec={"tags": []},
               status={"dockerImageRepository": f"{OLD_REG}/app/web", "tags": [{"tag": "latest", "items": items}]})


def test_worker_writes_the_bytes_a_serial_run_writes(workers):
    entries = archive_entries(many_objects())
    entries.insert(9, ("metadata/extra-file", b"kept as is"))
    serial = run(entries, False)
    assert not workers
    parallel = run(entries, True)
    assert len(workers) == 1
    assert parallel["bytes"] == serial["bytes"]
    for key in ("items", "result", "resources", "planned", "updated"):
        assert parallel[key] == serial[key], key
    parallel["stats"].seconds = serial["stats"].seconds
    assert parallel["stats"] == serial["stats"]
    assert serial["planned"] and serial["updated"]  # made in the worker, seen by the main process
    assert serial["result"]["totals"]["added"] == 1  # the SCC, added after the worker finished


def test_a_small_archive_is_not_forked(monkeypatch, workers):
    monkeypatch.setattr(transform_worker, "PARALLEL_AFTER", 10_000)
    run(archive_entries(many_objects()), True)
    assert not workers


@pytest.mark.parametrize("bad, message", [
    (b"{not json", "item resources/pods/namespaces/app/bad.json is not valid JSON"),
    (b"[1, 2]", "item resources/pods/namespaces/app/bad.json is not a JSON object"),
])
def test_an_item_error_in_the_worker_is_raised_as_in_a_serial_run(bad, message, workers):
    entries = archive_entries(many_objects())
    entries.insert(30, ("resources/pods/namespaces/app/bad.json", bad))
    errors = []
    for parallel in (False, True):
        with pytest.raises(ArchiveError, match=message) as raised:
            run(entries, parallel)
        errors.append(str(raised.value))
    assert errors[0] == errors[1] and len(workers) == 1
    assert not [t for t in threading.enumerate() if t.name in ("archive-deflater", "archive-item-sender")]


def test_an_action_error_in_the_worker_keeps_its_type_message_and_fields(monkeypatch, workers):
    def broken(item, ctx):
        if item["metadata"]["name"] == "r17":
            raise ValueError("no host")
        return routes.drop_generated_host(item, ctx)
    index = next(n for n, a in enumerate(registry.RESTORE_ACTIONS) if a.name.endswith("05-route-restore-plugin"))
    monkeypatch.setattr(runner, "_APPLICABLE", {})  # it holds the registered actions
    original = registry.RESTORE_ACTIONS[index]
    registry.RESTORE_ACTIONS[index] = Action(original.name, original.applies_to, broken)  # the list is shared
    entries = archive_entries(many_objects())
    errors = []
    try:
        for parallel in (False, True):
            with pytest.raises(ActionError) as raised:
                run(entries, parallel)
            errors.append((str(raised.value), raised.value.action, raised.value.item_ref, raised.value.cause))
    finally:
        registry.RESTORE_ACTIONS[index] = original
    assert errors[0] == errors[1] and len(workers) == 1
    assert errors[0][0] == "openshift.io/05-route-restore-plugin failed on Route app/r17: no host"


def test_an_earlier_item_error_wins_over_a_later_read_error():
    entries = archive_entries(many_objects())
    entries.insert(12, ("resources/pods/namespaces/app/bad.json", b"{not json"))
    truncated = tar_bytes(entries)[:-3000]
    for parallel in (False, True):
        with pytest.raises(ArchiveError, match="bad.json is not valid JSON"):
            run(entries, parallel, tar=truncated)


def test_a_read_error_after_good_items_is_raised_after_they_are_applied():
    entries = archive_entries(many_objects())
    truncated = tar_bytes(entries)[:-3000]
    for parallel in (False, True):
        with pytest.raises(ArchiveError, match="truncated"):
            run(entries, parallel, tar=truncated)


def test_live_lookups_and_image_copiers_stay_serial():
    config = settings(True)
    assert transform_worker.wants_worker(config, transform_worker.PARALLEL_AFTER + 1)
    assert not transform_worker.wants_worker(config, transform_worker.PARALLEL_AFTER)
    config.restore_ctx.image_copier = lambda copies: []
    assert not transform_worker.wants_worker(config, transform_worker.PARALLEL_AFTER + 1)
    config = settings(True)
    config.backup_ctx.cluster.lookup = object()  # a live cluster's
    assert not transform_worker.wants_worker(config, transform_worker.PARALLEL_AFTER + 1)


def test_migration_restore_round_trip_matches():
    entries = archive_entries(many_objects(10))
    serial = run(entries, False, restore=migration_restore())
    parallel = run(entries, True, restore=migration_restore())
    assert parallel["bytes"] == serial["bytes"]
    assert parallel["planned"] == serial["planned"]
    assert json.dumps(parallel["result"], sort_keys=True) == json.dumps(serial["result"], sort_keys=True)


def test_copies_apart_or_diverging_give_what_a_serial_run_gives(workers):
    entries = archive_entries(many_objects())
    reordered = [entries[0]] + entries[1::2] + entries[2::2]  # all plain copies first
    assert run(reordered, True)["bytes"] == run(reordered, False)["bytes"]
    route = json.loads(dict(entries)["resources/routes.route.openshift.io/namespaces/app/r5.json"])
    route["metadata"]["labels"] = {"copy": "differs"}
    diverging = [(name, json.dumps(route).encode()) if name.endswith("v1-preferredversion/namespaces/app/r5.json")
                 else (name, data) for name, data in entries]
    errors = []
    for parallel in (False, True):
        with pytest.raises(ArchiveError, match="routes.route.openshift.io app/r5 differ") as raised:
            run(diverging, parallel)
        errors.append(str(raised.value))
    assert errors[0] == errors[1] and len(workers) == 2


def test_items_of_resources_no_action_changes_are_parsed_by_the_main_process(monkeypatch, workers):
    parsed = []
    record_inert = transform.ItemTransformer.record_inert

    def spy(self, path, raw):
        parsed.append(path.resource)
        return record_inert(self, path, raw)
    monkeypatch.setattr(transform.ItemTransformer, "record_inert", spy)  # seen in the main process only
    entries = archive_entries(many_objects())
    serial = run(entries, False)
    assert not parsed
    parallel = run(entries, True)
    assert parallel["bytes"] == serial["bytes"] and parallel["result"] == serial["result"]
    assert parsed and set(parsed) == {"endpoints"}
    entries.insert(len(entries) - 4, ("resources/endpoints/namespaces/app/bad.json", b"{not json"))
    errors = []
    for parallel in (False, True):
        with pytest.raises(ArchiveError, match="endpoints/namespaces/app/bad.json is not valid JSON") as raised:
            run(entries, parallel)
        errors.append(str(raised.value))
    assert errors[0] == errors[1]


def test_a_large_archive_forks_before_its_first_entry():
    config = settings(True)
    assert transform_worker.wants_worker(config, 1, transform_worker.PARALLEL_SIZE)
    assert not transform_worker.wants_worker(config, 1, transform_worker.PARALLEL_SIZE - 1)
    assert not transform_worker.wants_worker(config, 2, transform_worker.PARALLEL_SIZE)


def test_a_worker_that_dies_is_an_error_not_a_hang(monkeypatch, capfd):
    def crash(items, batch):
        raise SystemExit("worker gone")  # not an item error: the worker process ends
    monkeypatch.setattr(transform_worker, "_transform_items", crash)
    with pytest.raises(MigrationError, match="worker process stopped unexpectedly"):
        run(archive_entries(many_objects()), True)
    assert "worker gone" in capfd.readouterr().err
    assert not [t for t in threading.enumerate() if t.name in ("archive-deflater", "archive-item-sender")]
