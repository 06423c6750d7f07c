"""migration_preflight's main(): options, result, failure message, check mode, secrets kept out of the result."""
import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.openshift_migration.velero.plugins.module_utils.preflight import Unreachable
from ansible_collections.openshift_migration.velero.plugins.modules import migration_preflight

from ..module_utils.test_preflight import GROUPS, OPENSHIFT, FakeApi, cluster


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def run_module(monkeypatch, args, apis, check_mode=False):
    def exit_json(self, **result):
        raise Exit(dict(result, failed=False))

    def fail_json(self, msg, **result):
        raise Exit(dict(result, failed=True, msg=msg))

    def connector(option, role):
        def connect():
            if isinstance(apis[role], Exception):
                raise apis[role]
            return apis[role]
        return connect

    monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(migration_preflight, "cluster_connector", connector)
    with patch_module_args(dict(args, _ansible_check_mode=check_mode)), pytest.raises(Exit) as caught:
        migration_preflight.main()
    return caught.value.result


ARGS = {"source": {"kubeconfig": "/tmp/source"}, "destination": {"host": "https://dest:6443", "api_key": "s3cret-token"},
        "namespaces": ["shop"]}


def lab_apis():
    return {"source": FakeApi("https://source:6443", cluster(dict(GROUPS, **OPENSHIFT), namespaces=("velero", "shop"))),
            "destination": FakeApi("https://dest:6443", cluster(dict(GROUPS, **OPENSHIFT), namespaces=("velero",)))}


@pytest.mark.parametrize("check_mode", [False, True])
def test_all_good_never_changes(monkeypatch, check_mode):
    result = run_module(monkeypatch, ARGS, lab_apis(), check_mode=check_mode)
    assert result["failed"] is False and result["changed"] is False
    assert result["ok"] is True and result["problems"] == []
    assert {check["name"] for check in result["checks"]} == {
        "reachable", "rights", "velero", "namespaces", "api_kinds", "storage_classes", "destination_namespaces"}
    assert result["clusters"] == {"source": {"api_url": "https://source:6443", "registry_hostname": ""},
                                  "destination": {"api_url": "https://dest:6443", "registry_hostname": ""}}


def test_problems_fail_with_one_line_each(monkeypatch):
    apis = lab_apis()
    apis["destination"] = Unreachable("cluster https://dest:6443 is unreachable: Connection refused; check host/kubeconfig")
    result = run_module(monkeypatch, dict(ARGS, namespaces=["shop", "gone"]), apis)
    assert result["failed"] is True and result["ok"] is False
    assert result["msg"] == (
        "preflight found 2 problems:\n"
        "- [destination] destination cluster https://dest:6443 is unreachable: Connection refused; fix: check host/kubeconfig\n"
        "- [source] namespace gone does not exist on the source cluster; fix: check the name (oc get ns) and fix namespaces")
    assert [problem["check"] for problem in result["problems"]] == ["reachable", "namespaces"]
    assert "s3cret-token" not in str(result)


def test_problems_reported_without_failing(monkeypatch):
    result = run_module(monkeypatch, dict(ARGS, namespaces=["gone"], fail_on_problems=False), lab_apis())
    assert result["failed"] is False and result["ok"] is False and len(result["problems"]) == 1


@pytest.mark.parametrize("args, msg", [
    (dict(ARGS, registries=[{"name": "source internal", "host": ""}]),
     "migration_preflight: registries: source internal has no host; give its host, or cluster (source or destination) "
     "to check that cluster's internal registry"),
    (dict(ARGS, source={}), "migration_preflight: source: give the options to connect to the source cluster "
                            "(kubeconfig, context, host, api_key, ...)"),
    (dict(ARGS, namespaces=[""]), "migration_preflight: namespaces: name at least one source namespace"),
])
def test_unusable_options(monkeypatch, args, msg):
    result = run_module(monkeypatch, args, lab_apis())
    assert result["failed"] is True and result["msg"] == msg


def test_argument_spec_reuses_the_connection_options_and_hides_secrets():
    spec = migration_preflight.argument_spec()
    options = spec["source"]["options"]
    assert "server_version" not in options and "objects" not in options
    assert options["api_key"]["no_log"] and options["password"]["no_log"] and options["kubeconfig"]["no_log"]
    assert options["validate_certs"]["aliases"] == ["verify_ssl"]
    registry = spec["registries"]["options"]
    assert registry["password"]["no_log"] and registry["token"]["no_log"]
    assert spec["source"]["required"] and spec["destination"]["required"]
