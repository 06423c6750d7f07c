"""ImageStream backup and restore (plugin-spec §4.28, §4.29, §5.3, §5.5; §7 #15, #16, #18)."""

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.errors import ActionError
from tests.unit.builders import (
    MIG_REG,
    MIGRATION_REGISTRY,
    NEW_REG,
    OLD_REG,
    FakeCopier,
    ann,
    backup,
    backup_cr,
    backup_ctx,
    migration_backup,
    migration_restore,
    obj,
    registry_annotations,
    restore,
    restore_cr,
    restore_ctx,
)

IS_BACKUP = "openshift.io/19-is-backup-plugin"
IS_RESTORE = "openshift.io/19-is-restore-plugin"
SKIP_COPY = "openshift.io/skip-image-copy"
DISABLE_COPY = "migration.openshift.io/disable-image-copy"


def _stream(annotations=None, spec_tags=None):
    items = [{"dockerImageReference": f"{OLD_REG}/app/web@sha256:new", "image": "sha256:new"},
             {"dockerImageReference": f"{OLD_REG}/app/web@sha256:old", "image": "sha256:old"}]
    external = [{"dockerImageReference": "quay.io/x/y@sha256:ext", "image": "sha256:ext"}]
    status = {"dockerImageRepository": f"{OLD_REG}/app/web",
              "tags": [{"tag": "latest", "items": items}, {"tag": "ext", "items": external}]}
    return obj("image.openshift.io/v1", "ImageStream", "web", "app", annotations,
               spec={"tags": spec_tags or []}, status=status)


def _pairs(copies):
    return [(c.src, c.dest) for c in copies]


# --- §4.28 backup ---------------------------------------------------------------------------

def test_backup_outside_migration_leaves_stream_unchanged(monkeypatch):
    """§4.28 step 2 (OADP mode, in-process registry not implemented): unchanged, no copy, env ignored."""
    monkeypatch.setenv("OPENSHIFT_IMAGESTREAM_BACKUP", "true")
    copier = FakeCopier()
    result = backup(_stream(), backup_ctx(backup_cr(), image_copier=copier))
    assert copier.calls == []
    assert MIGRATION_REGISTRY not in ann(result.item)
    assert result.item["status"] == _stream()["status"]
    assert IS_BACKUP in result.actions


def test_backup_copies_internal_images_oldest_first_to_migration_registry():
    """§4.28 step 7 / §5.3: internal items only, last-to-first, dest <mig>/<ns>/<name>:<tag>."""
    copier = FakeCopier()
    result = backup(_stream(), backup_ctx(migration_backup(), image_copier=copier))
    assert _pairs(copier.copies) == [
        (f"docker://{OLD_REG}/app/web@sha256:old", f"docker://{MIG_REG}/app/web:latest"),
        (f"docker://{OLD_REG}/app/web@sha256:new", f"docker://{MIG_REG}/app/web:latest"),
    ]
    assert ann(result.item)[MIGRATION_REGISTRY] == MIG_REG
    assert result.skip is False


def test_backup_copies_tracking_tags_by_digest_only():
    """§5.3 step 2: a tag following another ImageStreamTag is pushed without a tag."""
    spec_tags = [{"name": "latest", "from": {"kind": "ImageStreamTag", "name": "other:v1"}}]
    copier = FakeCopier()
    backup(_stream(spec_tags=spec_tags), backup_ctx(migration_backup(), image_copier=copier))
    assert {c.dest for c in copier.copies} == {f"docker://{MIG_REG}/app/web"}


def test_backup_records_changed_digests():
    """§5.5: new digest -> status item image and the '@' part of dockerImageReference updated."""
    copier = FakeCopier(digest="sha256:conv")
    result = backup(_stream(), backup_ctx(migration_backup(), image_copier=copier))
    latest, ext = result.item["status"]["tags"]
    assert [i["image"] for i in latest["items"]] == ["sha256:conv", "sha256:conv"]
    assert latest["items"][0]["dockerImageReference"] == f"{OLD_REG}/app/web@sha256:conv"
    assert ext["items"][0]["image"] == "sha256:ext"
    assert result.item["spec"] == {"tags": []}


def test_backup_keeps_digests_that_did_not_change():
    """§5.5: digest equal -> nothing rewritten."""
    result = backup(_stream(), backup_ctx(migration_backup(), image_copier=FakeCopier()))
    assert result.item["status"]["tags"] == _stream()["status"]["tags"]


def test_backup_copy_failure_is_an_action_error():
    """§4.28 step 7: copy error -> action error."""
    with pytest.raises(ActionError, match="19-is-backup-plugin"):
        backup(_stream(), backup_ctx(migration_backup(), image_copier=FakeCopier(status="failed")))


def test_backup_without_copier_plans_the_copies():
    """Product: no copier -> copies appended to ctx.planned_copies; stream left as when copy is skipped."""
    ctx = backup_ctx(migration_backup())
    result = backup(_stream(), ctx)
    assert len(ctx.planned_copies) == 2
    assert ctx.planned_copies[0].dest == f"docker://{MIG_REG}/app/web:latest"
    assert result.item["status"] == _stream()["status"]


def test_backup_skip_image_copy_returns_the_stream_without_copying():
    """§4.28 step 4: item annotation skip-image-copy "true" -> original item, no copy."""
    copier = FakeCopier()
    result = backup(_stream({SKIP_COPY: "true"}), backup_ctx(migration_backup(), image_copier=copier))
    assert copier.calls == []
    assert MIGRATION_REGISTRY not in ann(result.item)
    assert result.item["status"] == _stream()["status"]


def test_backup_disable_image_copy_strips_tags():
    """§4.28 step 3: Backup disable-image-copy "true" -> annotation copied, spec/status tags removed."""
    copier = FakeCopier()
    bk = migration_backup()
    bk["metadata"]["annotations"][DISABLE_COPY] = "true"
    result = backup(_stream(), backup_ctx(bk, image_copier=copier))
    assert copier.calls == []
    assert ann(result.item)[DISABLE_COPY] == "true"
    assert "tags" not in result.item["spec"] and "tags" not in result.item["status"]


def test_backup_without_migration_registry_names_the_annotation():
    """§4.28 step 5 + §7 #15 (intended): error names openshift.io/migration-registry."""
    bk = migration_backup()
    del bk["metadata"]["annotations"][MIGRATION_REGISTRY]
    with pytest.raises(ActionError, match="openshift.io/migration-registry"):
        backup(_stream(), backup_ctx(bk, image_copier=FakeCopier()))


def test_backup_writes_migration_registry_on_stream_without_annotations():
    """§7 #16 (intended): annotation kept on the output even when the item had none."""
    result = backup(_stream(), backup_ctx(migration_backup(), image_copier=FakeCopier()),
                    disabled=("01-common-backup-plugin",))
    assert ann(result.item) == {MIGRATION_REGISTRY: MIG_REG}


# --- §4.29 restore --------------------------------------------------------------------------

def _backed_up(**extra):
    anns = registry_annotations()
    anns.update(extra)
    return _stream(anns)


def test_restore_outside_migration_restores_stream_without_backup(monkeypatch):
    """§4.29 + §7 #18 (intended): not skipped, unchanged, no Velero Backup needed, env ignored."""
    monkeypatch.setenv("OPENSHIFT_IMAGESTREAM_BACKUP", "true")
    copier = FakeCopier()
    result = restore(_backed_up(), restore_ctx(restore_cr(), image_copier=copier))
    assert result.skip is False
    assert copier.calls == []
    assert result.item["status"] == _stream()["status"]
    assert IS_RESTORE in result.actions


def test_restore_pushes_images_to_destination_and_skips_the_stream():
    """§4.29 steps 6-9: src <mig>/<ns>/<name>@digest, dest <restore registry>/<mapped ns>/<name>:<tag>; skip."""
    copier = FakeCopier()
    ctx = restore_ctx(migration_restore(mapping={"app": "app2"}), image_copier=copier)
    result = restore(_backed_up(), ctx)
    assert _pairs(copier.copies) == [
        (f"docker://{MIG_REG}/app/web@sha256:old", f"docker://{NEW_REG}/app2/web:latest"),
        (f"docker://{MIG_REG}/app/web@sha256:new", f"docker://{NEW_REG}/app2/web:latest"),
    ]
    assert result.skip is True


def test_restore_plans_from_item_from_backup():
    """§4.29 step 8: the ItemFromBackup stream is copied (Item may have lost its status)."""
    copier = FakeCopier()
    item = _backed_up()
    del item["status"]
    restore(item, restore_ctx(migration_restore(), image_copier=copier), item_from_backup=_backed_up())
    assert len(copier.copies) == 2


def test_restore_without_copier_plans_and_restores_unchanged():
    """Product: no copier -> item restored unchanged (not skipped), copies in ctx.planned_copies."""
    ctx = restore_ctx(migration_restore())
    result = restore(_backed_up(), ctx)
    assert result.skip is False
    assert _pairs(ctx.planned_copies)[0] == (f"docker://{MIG_REG}/app/web@sha256:old", f"docker://{NEW_REG}/app/web:latest")


@pytest.mark.parametrize("key", [SKIP_COPY, DISABLE_COPY])
def test_restore_with_copy_switched_off_restores_stream(key):
    """§4.29 steps 3-4: disable-image-copy / skip-image-copy "true" -> restored, no copy."""
    copier = FakeCopier()
    result = restore(_backed_up(**{key: "true"}), restore_ctx(migration_restore(), image_copier=copier))
    assert result.skip is False
    assert copier.calls == []


def test_restore_copy_failure_is_an_action_error():
    """§4.29 step 8: copy error -> action error."""
    with pytest.raises(ActionError, match="19-is-restore-plugin"):
        restore(_backed_up(), restore_ctx(migration_restore(), image_copier=FakeCopier(status="failed")))


def test_restore_without_migration_registry_names_the_annotation():
    """§4.29 step 5 + §7 #15 (intended)."""
    rs = migration_restore()
    del rs["metadata"]["annotations"][MIGRATION_REGISTRY]
    with pytest.raises(ActionError, match="openshift.io/migration-registry"):
        restore(_backed_up(), restore_ctx(rs, image_copier=FakeCopier()))
