"""Generated pull secret remapping (plugin-spec §3.6; test-cases §10)."""

import pytest
from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import (
    MigrationError,
    PullSecretError,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.lookups import (
    SnapshotLookup,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.pullsecrets import (
    update_pull_secret,
)

from tests.unit.builders import obj

SA_NAME = "openshift.io/internal-registry-auth-token.service-account"
PULL_REF = "openshift.io/internal-registry-pull-secret-ref"
LEGACY_NAME = "kubernetes.io/service-account.name"
LEGACY_UID = "kubernetes.io/service-account.uid"


def _secret(name, **annotations):
    return obj("v1", "Secret", name, "dest", annotations)


def _sa(name, uid="uid-1", **annotations):
    sa = obj("v1", "ServiceAccount", name, "dest", annotations)
    sa["metadata"]["uid"] = uid
    return sa


def test_new_style_secret_is_chosen_when_its_sa_points_back_at_it():
    """§3.6 (OCP >= 4.16): SA annotation internal-registry-pull-secret-ref == secret name."""
    secrets = [_secret("default-dockercfg-xyz", **{SA_NAME: "default"})]
    lookup = SnapshotLookup([_sa("default", **{PULL_REF: "default-dockercfg-xyz"})])
    assert update_pull_secret({"name": "default-dockercfg-abc"}, secrets, lookup) == {"name": "default-dockercfg-xyz"}


def test_new_style_secret_not_referenced_by_its_sa_is_passed_over():
    """§3.6: SA ref mismatch -> continue with the next secret."""
    secrets = [
        _secret("builder-dockercfg-stale", **{SA_NAME: "builder"}),
        _secret("builder-dockercfg-live", **{SA_NAME: "builder"}),
    ]
    lookup = SnapshotLookup([_sa("builder", **{PULL_REF: "builder-dockercfg-live"})])
    assert update_pull_secret({"name": "builder-dockercfg-old"}, secrets, lookup) == {"name": "builder-dockercfg-live"}


def test_legacy_secret_is_chosen_by_service_account_uid():
    """test-cases §1.2 (UpdateCommonSpec): legacy name/uid annotations, uid must match."""
    secrets = [
        _secret("builder-dockercfg-old", **{LEGACY_NAME: "builder", LEGACY_UID: "wrong-uid-on-dest"}),
        _secret("builder-dockercfg-new", **{LEGACY_NAME: "builder", LEGACY_UID: "DEST_UID"}),
    ]
    lookup = SnapshotLookup([_sa("builder", uid="DEST_UID")])
    assert update_pull_secret({"name": "builder-dockercfg-old"}, secrets, lookup) == {"name": "builder-dockercfg-new"}


def test_only_secrets_with_the_same_prefix_are_candidates():
    """§3.6 step 2: a deployer ref is only replaced by a deployer-dockercfg- secret."""
    secrets = [_secret("default-dockercfg-xyz", **{SA_NAME: "default"})]
    lookup = SnapshotLookup([_sa("default", **{PULL_REF: "default-dockercfg-xyz"})])
    with pytest.raises(PullSecretError):
        update_pull_secret({"name": "deployer-dockercfg-abc"}, secrets, lookup)


def test_missing_counterpart_raises_secret_not_found():
    """§3.6 / test-cases §10: no matching secret -> error 'secret not found'."""
    secrets = [_secret("default-dockercfg-orphan")]
    with pytest.raises(PullSecretError, match="secret not found") as err:
        update_pull_secret({"name": "default-dockercfg-abc"}, secrets, SnapshotLookup([]))
    assert isinstance(err.value, MigrationError)


def test_secret_whose_service_account_is_missing_is_not_a_match():
    """§3.6: the owning SA must exist in the destination (snapshot: not found)."""
    secrets = [_secret("default-dockercfg-xyz", **{SA_NAME: "default"})]
    with pytest.raises(PullSecretError):
        update_pull_secret({"name": "default-dockercfg-abc"}, secrets, SnapshotLookup([]))


def test_non_generated_secret_reference_is_returned_unchanged():
    """§3.6 step 3 / test-cases §10: ref 'my-secret' unchanged."""
    ref = {"name": "my-secret"}
    assert update_pull_secret(ref, [], SnapshotLookup([])) == {"name": "my-secret"}


def test_null_reference_stays_null():
    """§3.6 step 1."""
    assert update_pull_secret(None, [], SnapshotLookup([])) is None
