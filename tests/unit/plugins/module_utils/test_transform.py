"""ArchiveTransform over archives built like Velero's: actions applied, skips removed, copies kept equal."""
import gzip
import io
import json
import threading

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.archive import (
    ArchiveError,
    ArchiveWriter,
    iter_entries,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.context import (
    BackupContext,
    RestoreContext,
    facts_from_dict,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.item_diff import item_diff
from ansible_collections.openshift_migration.velero.plugins.module_utils.item_index import ItemIndex
from ansible_collections.openshift_migration.velero.plugins.module_utils.report import TransformReport
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform import (
    ArchiveTransform,
    TransformSettings,
)

from .backup_archives import (
    DESTINATION_FACTS,
    NEW_REG,
    OLD_REG,
    SOURCE_FACTS,
    archive_entries,
    item_bytes,
    item_paths,
    obj,
    sample_objects,
    source_scc,
    tar_bytes,
    velero_backup,
)

SCC_PATHS = ["resources/securitycontextconstraints.security.openshift.io/cluster/app-anyuid.json",
             "resources/securitycontextconstraints.security.openshift.io/v1-preferredversion/cluster/app-anyuid.json"]
RESTORE = {"metadata": {"name": "r1"}, "spec": {"backupName": "b1", "namespaceMapping": {"app": "app-new"}}}


def settings(phases=("backup", "restore"), source_objects=None, **extra) -> TransformSettings:
    source = facts_from_dict(dict(SOURCE_FACTS, objects=source_objects if source_objects is not None
                                  else [source_scc()]))
    destination = facts_from_dict(DESTINATION_FACTS)
    backup_ctx = BackupContext(velero_backup("b1"), source) if "backup" in phases else None
    restore_ctx = RestoreContext(RESTORE, destination, backup=velero_backup("b1")) if "restore" in phases else None
    return TransformSettings(backup_ctx, restore_ctx, **extra)


def transform(entries, config=None, fetch=None):
    """Run a transform over tar entries; return (output entries, report, stats, item records, bytes)."""
    config = config or settings()
    source = io.BytesIO(gzip.compress(tar_bytes(entries)))
    out = io.BytesIO()
    report, index = TransformReport(), ItemIndex()
    lookup = config.backup_ctx.cluster.lookup if config.backup_ctx else None
    if fetch is None and lookup is not None:
        def fetch(api, kind, name, ns):
            return lookup.get(api, kind, name, ns or None)
    try:
        with ArchiveWriter(out) as writer:
            stats = ArchiveTransform(config, report, index).run(source, writer, "test archive", fetch)
        items = list(report.items())
    finally:
        index.close()
    written = [(entry.name, entry.data) for entry in iter_entries(io.BytesIO(out.getvalue()))]
    return written, report, stats, items, out.getvalue()


def test_both_phases_round_trip_many_kinds():
    objects = sample_objects()
    written, report, stats, items, _index = transform(archive_entries(objects))
    output = dict(written)
    assert written[0] == ("metadata/version", b"1.1.0\n")
    # Builds are skipped by the restore action: gone from both folders.
    assert not [name for name in output if "builds.build.openshift.io" in name]
    # Every other item keeps both copies, and they are identical.
    for item in objects:
        if item["kind"] == "Build":
            continue
        plain, preferred = item_paths(item)
        assert output[plain] == output[preferred], plain
    route = json.loads(output["resources/routes.route.openshift.io/namespaces/app/web.json"])
    assert "host" not in route["spec"]
    account = json.loads(output["resources/serviceaccounts/namespaces/app/builder.json"])
    assert account["secrets"] == [{"name": "builder-token-x"}]
    deployment = json.loads(output["resources/deployments.apps/namespaces/app/web.json"])
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{NEW_REG}/app-new/web:1"
    assert deployment["metadata"]["namespace"] == "app"  # Velero applies the mapping itself
    # Items no action changes are written byte for byte as they were.
    configmap = [o for o in objects if o["kind"] == "ConfigMap"][0]
    assert output[item_paths(configmap)[0]] == item_bytes(configmap)
    # The SCC of the ServiceAccount is added from the source cluster, in both folders.
    assert json.loads(output[SCC_PATHS[0]])["metadata"]["name"] == "app-anyuid"
    assert output[SCC_PATHS[0]] == output[SCC_PATHS[1]]
    totals = report.totals
    assert totals["added"] == 1 and totals["skipped"] == 1
    assert sum(totals.values()) == len(objects) + 1
    assert report.kinds["builds.build.openshift.io"]["skipped"] == 1
    assert report.kinds["configmaps"] == {"kept": 1, "changed": 0, "skipped": 0, "added": 0}
    changed = {(i["resource"], i["name"]): i for i in items if i["status"] == "changed"}
    assert "host" in changed[("routes.route.openshift.io", "web")]["diff"]
    assert "openshift.io/05-route-restore-plugin" in changed[("routes.route.openshift.io", "web")]["actions"]
    assert stats.entries_in == 1 + 2 * len(objects)
    assert stats.entries_out == stats.entries_in - 2 + 2
    assert stats.format_version == "1.1.0"


def test_backup_phase_only_stamps_the_source_cluster():
    written, report, *_rest = transform(archive_entries(sample_objects()), settings(phases=("backup",)))
    output = dict(written)
    pod = json.loads(output["resources/pods/namespaces/app/web-1.json"])
    assert pod["metadata"]["annotations"]["openshift.io/backup-registry-hostname"] == OLD_REG
    route = json.loads(output["resources/routes.route.openshift.io/namespaces/app/web.json"])
    assert route["spec"]["host"] == "web-app.apps.old.example.com"
    assert report.totals["skipped"] == 0


def test_output_is_reproducible():
    entries = archive_entries(sample_objects())
    assert transform(entries)[4] == transform(entries)[4]


def test_copies_far_apart_still_match():
    """All plain copies first, all preferred copies after: more items than the cache holds."""
    objects = [obj("route.openshift.io/v1", "Route", f"r{n}", "app",
                   annotations={"openshift.io/host.generated": "true"}, spec={"host": f"r{n}.old"})
               for n in range(150)]
    entries = archive_entries(objects)
    reordered = [entries[0]] + entries[1::2] + entries[2::2]
    written, report, *_rest = transform(reordered)
    output = dict(written)
    for item in objects:
        plain, preferred = item_paths(item)
        assert output[plain] == output[preferred]
        assert "host" not in json.loads(output[plain])["spec"]
    assert report.totals["changed"] == 150


def test_other_version_folders_are_transformed_but_not_counted():
    route = obj("route.openshift.io/v1", "Route", "web", "app",
                annotations={"openshift.io/host.generated": "true"}, spec={"host": "x"})
    entries = archive_entries([route]) + [("resources/routes.route.openshift.io/v1beta1/namespaces/app/web.json",
                                           item_bytes(route))]
    written, report, *_rest = transform(entries)
    assert "host" not in json.loads(dict(written)[entries[-1][0]])["spec"]
    assert report.totals["changed"] == 1


def test_diverging_copies_are_an_error():
    route = obj("route.openshift.io/v1", "Route", "web", "app",
                annotations={"openshift.io/host.generated": "true"}, spec={"host": "x"})
    other = json.loads(json.dumps(route))
    other["metadata"]["annotations"] = {}
    plain, preferred = item_paths(route)
    entries = [("metadata/version", b"1.1.0\n"), (plain, item_bytes(route)), (preferred, item_bytes(other))]
    with pytest.raises(ArchiveError, match="routes.route.openshift.io app/web differ"):
        transform(entries)


def test_additional_item_the_source_cluster_lacks_is_a_warning():
    written, report, *_rest = transform(archive_entries(sample_objects()), fetch=lambda *args: None)
    assert SCC_PATHS[0] not in dict(written)
    assert report.totals["added"] == 0
    assert report.warnings == ["additional item securitycontextconstraints.security.openshift.io app-anyuid is "
                               "not in the archive and could not be read from the source cluster; it is left out"]


def test_additional_item_present_in_archive_is_not_added_twice():
    objects = sample_objects() + [source_scc()]
    written, report, *_rest = transform(archive_entries(objects))
    names = [name for name, _body in written]
    assert names.count(SCC_PATHS[0]) == 1 and names.count(SCC_PATHS[1]) == 1
    assert report.totals["added"] == 0


@pytest.mark.parametrize("entries, message", [
    ([("resources/pods/namespaces/app/x.json", b"{}")], "has no metadata/version"),
    ([("metadata/version", b"9.0.0\n")], "unknown backup format version"),
    ([("metadata/version", b"1.1.0\n"), ("resources/pods/namespaces/app/x.json", b"{not json")],
     "item resources/pods/namespaces/app/x.json is not valid JSON"),
    ([("metadata/version", b"1.1.0\n"), ("resources/pods/namespaces/app/x.json", b"[1, 2]")],
     "is not a JSON object"),
])
def test_bad_items_raise_one_clear_error(entries, message):
    with pytest.raises(ArchiveError, match=message):
        transform(entries)
    assert not [thread for thread in threading.enumerate() if thread.name == "archive-deflater"]


def test_secret_values_never_reach_diffs():
    before = obj("v1", "Secret", "s", "app", data={"token": "c2VjcmV0LXZhbHVl", "same": "YQ=="},
                 annotations={"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"token":"c2Vj"}}'})
    after = json.loads(json.dumps(before))
    after["data"]["token"] = "bmV3LXNlY3JldA=="
    after["metadata"]["labels"] = {"x": "y"}
    diff = item_diff(before, after, "secrets app/s")
    assert "c2Vj" not in diff and "bmV3" not in diff and "YQ==" not in diff
    assert "<redacted, changed>" in diff and '"x": "y"' in diff
    assert item_diff(after, after, "same") == ""


def test_progress_is_reported_on_long_runs(monkeypatch):
    from ansible_collections.openshift_migration.velero.plugins.module_utils import transform as module

    monkeypatch.setattr(module, "_PROGRESS_EVERY", 0.0)
    lines = []
    transform(archive_entries(sample_objects()), settings(progress=lines.append))
    assert lines and "entries read" in lines[-1]


def test_diffs_show_changed_paths_and_say_what_was_left_out():
    before = obj("route.openshift.io/v1", "Route", "web", "app", annotations={"a": "1"},
                 spec={"host": "h", "to": {"name": "web"}}, status={"ingress": [{"host": "h"}]})
    after = json.loads(json.dumps(before))
    del after["spec"]["host"]
    diff = item_diff(before, after, "routes app/web")
    assert diff.startswith("--- routes app/web (before)\n+++ routes app/web (after)\n")
    assert '-    "host": "h"\n' in diff
    assert '"...": "1 unchanged"' in diff and "ingress" not in diff and "metadata" not in diff


def test_entries_named_with_a_leading_dot_slash_are_items_too():
    route = obj("route.openshift.io/v1", "Route", "web", "app",
                annotations={"openshift.io/host.generated": "true"}, spec={"host": "x"})
    entries = [(f"./{name}", data) for name, data in archive_entries([route])]
    written, report, *_rest = transform(entries)
    assert report.totals["changed"] == 1
    assert [name for name, _body in written][:2] == ["metadata/version", item_paths(route)[0]]


@pytest.mark.parametrize("value", [
    {}, [], {"a": []}, {"a": {}, "b": [{}]}, {"z": 1, "a": [True, False, None, -3, 10 ** 30]},
    {"text": "é \u2028 \x7f \x00 \"quoted\" \\ 😀"}, {"nested": {"list": [[1, [2]], {"k": "v"}]}},
    {"float": 1.5}, {"tuple": (1, 2)}, {1: "not a string key"},  # left to the json module
])
def test_diff_lines_are_those_of_the_json_module(value):
    from ansible_collections.openshift_migration.velero.plugins.module_utils.item_diff import _json_lines

    assert _json_lines(value) == json.dumps(value, indent=2, sort_keys=True).splitlines(keepends=True)


def test_diffs_made_ahead_are_the_diffs_made_when_read():
    def changed_route(number):
        before = obj("route.openshift.io/v1", "Route", f"r{number}", "app", spec={"host": f"h{number}"})
        after = dict(before, spec={})
        return json.dumps(before).encode(), json.dumps(after).encode()

    reports = [TransformReport(diffs_ahead=ahead) for ahead in (0, 3)]
    try:
        for report in reports:
            for number in range(5):
                report.record("routes.route.openshift.io", "app", f"r{number}", "changed", ["a"], *changed_route(number))
            report.record("pods", "app", "gone", "skipped", ["b"])
        while reports[1].prepare_diff():
            pass
        assert len(reports[1]._diffs) == 3  # pylint: disable=protected-access
        assert list(reports[0].items()) == list(reports[1].items())
        assert reports[0].as_result(4) == reports[1].as_result(4)
    finally:
        for report in reports:
            report.close()
