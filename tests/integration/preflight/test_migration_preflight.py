"""migration_preflight against the lab: one run that passes, then one run per bad input.

Each failing run must name the cluster, the object and the fix in one line per problem, and must
not bury it under problems that only follow from it.
"""
from __future__ import annotations

import pytest
from preflight_helpers import closed_port, run_module

LOCATION_FIX = ("check its bucket, prefix, provider config and credentials (velero backup-location get {name} -n velero), "
                "and that the Velero server runs")


def problem_lines(result: dict) -> list[str]:
    assert result["failed"] is True, result
    lines = result["msg"].splitlines()
    assert lines[0] == f"preflight found {len(result['problems'])} problem{'s' if len(result['problems']) != 1 else ''}:"
    return lines[1:]


def test_all_good_sample_namespace_onto_a_fresh_name(lab, args, migration_registry):
    destination_registry = lab["registries"]["destination-internal"]
    # The internal registry is named by its cluster: the preflight finds its host as cluster_info does.
    args = dict(args, registries=[migration_registry, {"name": "destination internal", "host": "", "cluster": "destination",
                                                       "ca_file": destination_registry["ca_file"]}])
    for check in (False, True):
        result = run_module(args, check=check)
        assert result.get("failed") is not True, result.get("msg")
        assert result["changed"] is False and result["ok"] is True and result["problems"] == []
        checks = {(entry["name"], entry["cluster"]): entry for entry in result["checks"]}
        assert all(entry["ok"] for entry in result["checks"]), result["checks"]
        assert set(checks) == {("reachable", "source"), ("reachable", "destination"), ("rights", "source"),
                               ("rights", "destination"), ("velero", "source"), ("velero", "destination"),
                               ("namespaces", "source"), ("api_kinds", "destination"), ("storage_classes", "destination"),
                               ("registries", None), ("destination_namespaces", "destination")}
        assert checks[("reachable", "source")]["detail"].startswith(f"{lab['clusters']['source']['api_url']} answers")
        assert checks[("velero", "destination")]["detail"] == (
            "Velero's CRDs are served and BackupStorageLocation velero/default is Available")
        registries = [entry["detail"] for entry in result["checks"] if entry["name"] == "registries"]
        assert registries == [f"registry migration ({migration_registry['host']}): "
                              f"http://{migration_registry['host']}/v2/ accepts the credentials",
                              f"registry destination internal ({destination_registry['address']}): "
                              f"https://{destination_registry['address']}/v2/ answers"]
        assert result["clusters"] == {
            side: {"api_url": lab["clusters"][side]["api_url"], "registry_hostname": lab["clusters"][side]["registry_hostname"]}
            for side in ("source", "destination")}
    assert migration_registry["password"] not in str(result)


def test_unreachable_cluster_is_one_problem(lab, args):
    port = closed_port()
    args = dict(args, destination={"host": f"https://127.0.0.1:{port}", "api_key": "never-sent", "validate_certs": False})
    result = run_module(args)
    [line] = problem_lines(result)
    assert line.startswith(f"- [destination] destination cluster https://127.0.0.1:{port} is unreachable: ")
    assert line.endswith("Connection refused; fix: check host/kubeconfig")
    [problem] = result["problems"]
    assert (problem["check"], problem["cluster"]) == ("reachable", "destination")
    skipped = sorted(entry["name"] for entry in result["checks"] if entry["detail"].startswith("skipped"))
    assert skipped == ["api_kinds", "destination_namespaces", "rights", "storage_classes", "velero"]
    assert "never-sent" not in str(result)


def test_cluster_without_velero(lab, args, bare_cluster, source):
    args = dict(args, destination={"kubeconfig": str(bare_cluster.kubeconfig)})
    result = run_module(args)
    lines = problem_lines(result)
    assert lines[0] == (f"- [destination] Velero is not installed on the destination cluster {bare_cluster.api_url}: its "
                        "CRDs Backup.velero.io/v1, Restore.velero.io/v1, BackupStorageLocation.velero.io/v1 are not "
                        "served; fix: install Velero on that cluster (velero install, or the OADP operator)")
    # The OpenShift kinds of the sample namespace are missing there too, each listed with its count.
    sample = lab["sample"]["namespace"]
    streams = len(source.resources.get(api_version="image.openshift.io/v1", kind="ImageStream")
                  .get(namespace=sample).items)
    kinds = {problem["object"]: problem for problem in result["problems"] if problem["check"] == "api_kinds"}
    assert {"ImageStream.image.openshift.io", "DeploymentConfig.apps.openshift.io", "Route.route.openshift.io",
            "BuildConfig.build.openshift.io"} <= set(kinds)
    assert kinds["ImageStream.image.openshift.io"]["message"] == (
        f"ImageStream.image.openshift.io is not served on the destination cluster, and the source namespaces hold "
        f"{streams} objects of it ({sample}: {streams})")
    assert {problem["check"] for problem in result["problems"]} == {"velero", "api_kinds"}


def test_storage_location_not_available(lab, args, broken_location):
    name = broken_location["metadata"]["name"]
    result = run_module(dict(args, storage_location=name))
    said = broken_location["status"].get("message")
    expected = f"BackupStorageLocation velero/{name} on the source cluster is Unavailable" + (f": {said}" if said else "")
    lines = problem_lines(result)
    assert lines == [
        f"- [source] {expected}; fix: {LOCATION_FIX.format(name=name)}",
        f"- [destination] BackupStorageLocation velero/{name} does not exist on the destination cluster; "
        "fix: create it (velero backup-location create) or set storage_location to one of: default"]


def test_source_namespace_missing(args, suffix):
    result = run_module(dict(args, namespaces=[f"nowhere-{suffix}"], namespace_mapping={}))
    assert problem_lines(result) == [
        f"- [source] namespace nowhere-{suffix} does not exist on the source cluster; "
        "fix: check the name (oc get ns) and fix namespaces"]


def test_mapping_onto_a_namespace_in_use(lab, args, busy_namespace):
    sample = lab["sample"]["namespace"]
    result = run_module(dict(args, namespace_mapping={sample: busy_namespace}))
    assert problem_lines(result) == [
        f"- [destination] namespace {busy_namespace} on the destination cluster holds at least 1 object not created by "
        "this migration, e.g. ConfigMap/foo; fix: map it onto another namespace (namespace_mapping) or empty it; "
        "objects restored by an earlier run of this migration pass when its restore is named in restore_names"]


def test_namespace_restored_by_this_migration_passes(lab, args, busy_namespace, destination):
    # What a first run of the same migration leaves: objects labelled with its restore's name.
    configmaps = destination.resources.get(api_version="v1", kind="ConfigMap")
    configmaps.patch(body={"metadata": {"labels": {"velero.io/restore-name": "pf-restore"}}}, name="foo",
                     namespace=busy_namespace, content_type="application/merge-patch+json")
    sample = lab["sample"]["namespace"]
    result = run_module(dict(args, namespace_mapping={sample: busy_namespace}, restore_names=["pf-restore"]))
    assert result.get("failed") is not True, result.get("msg")
    assert result["ok"] is True


def test_mapped_storage_class_missing(args, suffix):
    result = run_module(dict(args, storage_class_mapping={"manual": f"fast-{suffix}"}))
    assert problem_lines(result) == [
        f"- [destination] storage class fast-{suffix} (mapped from manual) does not exist on the destination cluster; "
        "fix: create it, or map manual onto a class created there first (the cluster has none)"]


def test_registry_wrong_credentials(args, migration_registry):
    registry = dict(migration_registry, password="not-the-password")
    result = run_module(dict(args, registries=[registry]))
    host = registry["host"]
    assert problem_lines(result) == [
        f"- [registry] registry migration ({host}) rejected the credentials (401 Unauthorized at http://{host}/v2/); "
        "fix: check username/password or token of this registry"]
    assert "not-the-password" not in str(result)


def test_registry_unreachable(args):
    port = closed_port()
    result = run_module(dict(args, registries=[{"name": "gone", "host": f"127.0.0.1:{port}"}]))
    assert problem_lines(result) == [
        f"- [registry] registry gone (127.0.0.1:{port}) is unreachable at https://127.0.0.1:{port}/v2/: Connection refused "
        "(after 3 attempts); fix: check host and port, and that the registry runs and is reachable from here"]


@pytest.mark.parametrize("fail_on_problems", [True, False])
def test_several_problems_listed_in_one_run(args, suffix, migration_registry, fail_on_problems):
    port = closed_port()
    result = run_module(dict(args, namespaces=args["namespaces"] + [f"nowhere-{suffix}"],
                             storage_class_mapping={"manual": f"fast-{suffix}"}, fail_on_problems=fail_on_problems,
                             registries=[dict(migration_registry, password="wrong"),
                                         {"name": "gone", "host": f"127.0.0.1:{port}"}]))
    assert [(problem["check"], problem["cluster"], problem["object"]) for problem in result["problems"]] == [
        ("namespaces", "source", f"Namespace/nowhere-{suffix}"),
        ("storage_classes", "destination", f"StorageClass/fast-{suffix}"),
        ("registries", None, f"registry migration ({migration_registry['host']})"),
        ("registries", None, f"registry gone (127.0.0.1:{port})")]
    assert result["ok"] is False and result["changed"] is False
    if fail_on_problems:
        assert len(problem_lines(result)) == 4
    else:
        assert result.get("failed") is not True


def test_rejected_token_after_a_kubeconfig_cluster(lab, args):
    # The source comes from a kubeconfig; the destination, given as host and token, must not borrow its settings.
    destination = lab["clusters"]["destination"]
    args = dict(args, destination={"host": destination["api_url"], "api_key": "not-the-lab-token",
                                   "ca_cert": destination["ca_file"]})
    result = run_module(args)
    assert problem_lines(result) == [
        f"- [destination] destination cluster {destination['api_url']} rejected the credentials (401 Unauthorized); "
        "fix: check the token or kubeconfig"]
    assert "not-the-lab-token" not in str(result)
