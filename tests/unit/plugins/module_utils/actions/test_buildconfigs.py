"""BuildConfig restore and UpdateCommonSpec (plugin-spec §4.26, §3.7; test-cases §1.2; §7 #2)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.actions.buildconfigs import update_common_spec
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError, PullSecretError
from ansible_collections.openshift_migration.velero.plugins.module_utils.lookups import SnapshotLookup
from tests.unit.builders import NEW_REG, OLD_REG, obj, registry_annotations, restore, restore_cr, restore_ctx

BC_RESTORE = "openshift.io/17-buildconfig-restore-plugin"
LEGACY_NAME = "kubernetes.io/service-account.name"
LEGACY_UID = "kubernetes.io/service-account.uid"
SA_NAME = "openshift.io/internal-registry-auth-token.service-account"
PULL_REF = "openshift.io/internal-registry-pull-secret-ref"


def test_update_common_spec_go_case():
    """test-cases §1.2: builder-dockercfg-old -> builder-dockercfg-new by SA uid; custom push secret kept."""
    sa = obj("v1", "ServiceAccount", "builder", "default", {})
    sa["metadata"]["uid"] = "DEST_UID"
    secrets = [
        obj("v1", "Secret", "builder-dockercfg-old", "default", {LEGACY_NAME: "builder", LEGACY_UID: "wrong-uid-on-dest"}),
        obj("v1", "Secret", "builder-dockercfg-new", "default", {LEGACY_NAME: "builder", LEGACY_UID: "DEST_UID"}),
    ]
    spec = {"strategy": {"sourceStrategy": {"pullSecret": {"name": "builder-dockercfg-old"}, "from": {}}},
            "output": {"pushSecret": {"name": "custom-old"}, "to": None}}
    out = update_common_spec(spec, "registry", "backupRegistry", secrets, {}, SnapshotLookup([sa]))
    assert out["output"]["pushSecret"] == {"name": "custom-old"}
    assert out["strategy"]["sourceStrategy"]["pullSecret"] == {"name": "builder-dockercfg-new"}
    assert out["strategy"]["sourceStrategy"]["from"] == {}


def test_update_common_spec_fails_when_generated_secret_has_no_counterpart():
    """§3.7 step 1 + §3.6: generated secrets exist, none owned by its account -> 'secret not found'."""
    spec = {"output": {"pushSecret": {"name": "builder-dockercfg-old"}}}
    orphan = obj("v1", "Secret", "builder-dockercfg-orphan", "app")
    with pytest.raises(PullSecretError, match="secret not found"):
        update_common_spec(spec, NEW_REG, OLD_REG, [orphan], {}, SnapshotLookup([]))


def test_update_common_spec_drops_generated_secret_before_the_namespace_has_any():
    """Intended behaviour (never waiting, like §7 #21): no generated secret exists yet -> the
    reference is dropped, so the build falls back to its builder service account's own secret."""
    spec = {"output": {"pushSecret": {"name": "builder-dockercfg-old"}},
            "strategy": {"sourceStrategy": {"pullSecret": {"name": "my-pull-secret"}}}}
    update_common_spec(spec, NEW_REG, OLD_REG, [], {}, SnapshotLookup([]))
    assert "pushSecret" not in spec["output"]
    assert spec["strategy"]["sourceStrategy"]["pullSecret"] == {"name": "my-pull-secret"}


def _destination(namespace):
    secret = obj("v1", "Secret", "builder-dockercfg-new", namespace, {SA_NAME: "builder"})
    account = obj("v1", "ServiceAccount", "builder", namespace, {PULL_REF: "builder-dockercfg-new"})
    return [secret, account, obj("v1", "Secret", "unrelated", namespace)]


def _docker(name):
    return {"kind": "DockerImage", "name": name}


def _bc():
    gen = {"name": "builder-dockercfg-old"}
    spec = {
        "output": {"to": _docker(f"{OLD_REG}/app/out:latest"), "pushSecret": dict(gen)},
        "strategy": {"dockerStrategy": {"from": _docker(f"{OLD_REG}/app/base:1"), "pullSecret": dict(gen)}},
        "source": {"images": [{"from": _docker(f"{OLD_REG}/app/assets:1"), "pullSecret": dict(gen), "paths": []},
                              {"from": {"kind": "ImageStreamTag", "name": "tools:1", "namespace": "app"}}]},
        "triggers": [{"type": "ImageChange", "imageChange": {"from": {"kind": "ImageStreamTag", "name": "b:1", "namespace": "app"}}}],
    }
    return obj("build.openshift.io/v1", "BuildConfig", "web", "app", registry_annotations(), spec=spec)


def test_restore_points_build_at_destination_registry_and_secrets():
    """§4.26 + §3.7: output.to, strategy from/pullSecret, pushSecret remapped in the mapped namespace."""
    ctx = restore_ctx(restore_cr(mapping={"app": "app2"}), objects=_destination("app2"))
    result = restore(_bc(), ctx)
    spec = result.item["spec"]
    assert spec["output"]["to"] == _docker(f"{NEW_REG}/app2/out:latest")
    assert spec["output"]["pushSecret"] == {"name": "builder-dockercfg-new"}
    assert spec["strategy"]["dockerStrategy"]["from"] == _docker(f"{NEW_REG}/app2/base:1")
    assert spec["strategy"]["dockerStrategy"]["pullSecret"] == {"name": "builder-dockercfg-new"}
    assert result.actions[-1] == BC_RESTORE
    assert result.item["metadata"]["namespace"] == "app"


def test_restore_updates_source_images():
    """§7 #2 (intended): spec.source.images[*] pullSecret and DockerImage from are updated."""
    ctx = restore_ctx(restore_cr(mapping={"app": "app2"}), objects=_destination("app2"))
    images = restore(_bc(), ctx).item["spec"]["source"]["images"]
    assert images[0]["from"] == _docker(f"{NEW_REG}/app2/assets:1")
    assert images[0]["pullSecret"] == {"name": "builder-dockercfg-new"}


def test_restore_leaves_imagestreamtag_references_and_triggers_alone():
    """§3.7 / §4.26: ImageStreamTag from/to and triggers are not namespace-mapped."""
    ctx = restore_ctx(restore_cr(mapping={"app": "app2"}), objects=_destination("app2"))
    spec = restore(_bc(), ctx).item["spec"]
    assert spec["source"]["images"][1]["from"] == {"kind": "ImageStreamTag", "name": "tools:1", "namespace": "app"}
    assert spec["triggers"] == _bc()["spec"]["triggers"]


def test_restore_reads_secrets_of_the_mapped_namespace_only():
    """§4.26: secrets listed in mapping[ns]; source-namespace secrets do not count."""
    ctx = restore_ctx(restore_cr(mapping={"app": "app2"}), objects=_destination("app") + _destination("app2")[:1])
    with pytest.raises(ActionError, match="17-buildconfig-restore-plugin"):
        restore(_bc(), ctx)


def test_restore_fails_when_generated_secret_has_no_owner():
    """§4.26: UpdateCommonSpec error (secret not found) -> action error."""
    orphan = obj("v1", "Secret", "builder-dockercfg-orphan", "app2")
    with pytest.raises(ActionError, match="secret not found"):
        restore(_bc(), restore_ctx(restore_cr(mapping={"app": "app2"}), objects=[orphan]))


def test_restore_before_destination_namespace_exists_drops_generated_secrets():
    """Intended behaviour: the archive is rewritten before the restore creates the namespace."""
    spec = restore(_bc(), restore_ctx(restore_cr(mapping={"app": "app2"}), objects=[])).item["spec"]
    assert "pushSecret" not in spec["output"]
    assert "pullSecret" not in spec["strategy"]["dockerStrategy"]
    assert spec["output"]["to"]["name"].startswith(NEW_REG + "/app2/")


def test_restore_without_registries_keeps_docker_references():
    """§3.7 updateDockerReference: registry or backupRegistry "" -> unchanged."""
    item = _bc()
    del item["metadata"]["annotations"]["openshift.io/backup-registry-hostname"]
    spec = restore(item, restore_ctx(restore_cr(), objects=_destination("app"))).item["spec"]
    assert spec["output"]["to"] == _docker(f"{OLD_REG}/app/out:latest")
