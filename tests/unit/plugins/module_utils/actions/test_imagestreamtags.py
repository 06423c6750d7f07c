"""ImageStreamTag backup and restore (plugin-spec §4.9, §4.10; test-cases §10)."""

from tests.unit.builders import BACKUP_REGISTRY, OLD_REG, ann, backup, backup_ctx, obj, restore, restore_cr, restore_ctx

RELATED = "migration.openshift.io/related-istag"
RELATED_NS = "migration.openshift.io/related-istag-ns"
ISTAG_BACKUP = "openshift.io/04-imagestreamtag-backup-plugin"
ISTAG_RESTORE = "openshift.io/04-imagestreamtag-restore-plugin"


def _istag(name="web:latest", namespace="app", tag_from=None, image_ref=None, annotations=None, digest="sha256:aa"):
    fields = {"image": {"metadata": {"name": digest}, "dockerImageReference": image_ref or f"{OLD_REG}/app/web@{digest}"}}
    fields["tag"] = {"name": name.split(":")[-1], "annotations": {"a": "b"}, "from": tag_from} if tag_from else None
    return obj("image.openshift.io/v1", "ImageStreamTag", name, namespace, annotations, **fields)


# --- §4.9 backup ----------------------------------------------------------------------------

def test_backup_records_the_imagestreamtag_a_reference_tag_follows():
    """§4.9 step 2 kind ImageStreamTag: found -> related-istag(-ns) set; namespace defaults to item's."""
    ctx = backup_ctx(objects=[_istag("base:v1", "app")])
    result = backup(_istag(tag_from={"kind": "ImageStreamTag", "name": "base:v1"}), ctx)
    assert ann(result.item)[RELATED_NS] == "app"
    assert ann(result.item)[RELATED] == "base:v1"
    assert ISTAG_BACKUP in result.actions


def test_backup_uses_the_tag_from_namespace():
    """§4.9 step 2: tagNs = tag.from.namespace when set."""
    ctx = backup_ctx(objects=[_istag("base:v1", "shared")])
    result = backup(_istag(tag_from={"kind": "ImageStreamTag", "name": "base:v1", "namespace": "shared"}), ctx)
    assert (ann(result.item)[RELATED_NS], ann(result.item)[RELATED]) == ("shared", "base:v1")


def test_backup_removes_stale_related_annotations_when_target_is_missing():
    """§4.9 step 1 + lookup error -> nothing."""
    item = _istag(tag_from={"kind": "ImageStreamTag", "name": "gone:v1"}, annotations={RELATED: "x", RELATED_NS: "y"})
    result = backup(item, backup_ctx(objects=[]))
    assert RELATED not in ann(result.item) and RELATED_NS not in ann(result.item)


def test_backup_finds_the_tag_of_an_imagestreamimage_by_digest():
    """§4.9 step 2 kind ImageStreamImage: first istag with that digest and tag null or DockerImage."""
    tracking = _istag("other:v2", "app", tag_from={"kind": "ImageStreamTag", "name": "x:y"}, digest="sha256:bb")
    plain = _istag("plain:v1", "app", digest="sha256:bb")
    ctx = backup_ctx(objects=[tracking, plain])
    result = backup(_istag(tag_from={"kind": "ImageStreamImage", "name": "plain@sha256:bb"}), ctx)
    assert ann(result.item)[RELATED] == "plain:v1"


def test_backup_ignores_a_malformed_imagestreamimage_name():
    """§4.9: name must split on '@' into 2 parts with a digest."""
    ctx = backup_ctx(objects=[_istag("plain:v1", "app", digest="sha256:bb")])
    result = backup(_istag(tag_from={"kind": "ImageStreamImage", "name": "plain@"}), ctx)
    assert RELATED not in ann(result.item)


def test_backup_of_a_docker_image_tag_records_nothing():
    """§4.9: other kinds -> nothing."""
    result = backup(_istag(tag_from={"kind": "DockerImage", "name": "quay.io/x/y:1"}), backup_ctx())
    assert RELATED not in ann(result.item)
    assert result.additional_items == []


# --- §4.10 restore --------------------------------------------------------------------------

def _restorable(**kw):
    item = _istag(**kw)
    item["metadata"].setdefault("annotations", {})[BACKUP_REGISTRY] = OLD_REG
    return item


def test_restore_skips_a_plain_local_tag():
    """§4.10 step 5 / test-cases §10: local image without tag.from -> skip."""
    result = restore(_restorable())
    assert result.skip is True
    assert ISTAG_RESTORE in result.actions


def test_restore_keeps_a_tag_whose_image_is_external():
    """§4.10 step 4: not local -> restored."""
    result = restore(_restorable(image_ref="quay.io/app/web@sha256:aa"))
    assert result.skip is False


def test_restore_treats_every_image_as_external_without_backup_registry():
    """§4.10 step 1: backupRegistry '' -> not local."""
    result = restore(_istag())
    assert result.skip is False


def test_restore_maps_reference_tag_and_adds_the_related_tag():
    """§4.10 step 2-4 / test-cases §10: from.namespace mapped, tag.annotations cleared, additional item."""
    item = _restorable(tag_from={"kind": "ImageStreamTag", "name": "base:v1", "namespace": "a"},
                       annotations={RELATED: "base:v1", RELATED_NS: "a"})
    result = restore(item, restore_ctx(restore_cr(mapping={"a": "b"})))
    assert result.skip is False
    assert result.item["tag"]["from"]["namespace"] == "b"
    assert not result.item["tag"].get("annotations")
    assert result.additional_items == [
        {"group": "image.openshift.io", "resource": "imagestreamtags", "namespace": "a", "name": "base:v1"}
    ]
    assert result.item["metadata"]["namespace"] == "app"


def test_restore_without_both_related_annotations_adds_nothing():
    """§4.10 step 2: both annotations must be non-empty."""
    item = _restorable(tag_from={"kind": "ImageStreamTag", "name": "base:v1"}, annotations={RELATED: "base:v1"})
    assert restore(item).additional_items == []


def test_restore_skips_imagestreamimage_reference_in_own_namespace():
    """§4.10 step 3 / test-cases §10: ImageStreamImage in own namespace + local image -> skip."""
    for ns in ("", "app"):
        tag_from = {"kind": "ImageStreamImage", "name": "web@sha256:aa", "namespace": ns}
        assert restore(_restorable(tag_from=tag_from)).skip is True


def test_restore_keeps_imagestreamimage_reference_in_another_namespace():
    """§4.10 step 3: other namespace stays a reference tag; namespace mapped."""
    tag_from = {"kind": "ImageStreamImage", "name": "web@sha256:aa", "namespace": "shared"}
    result = restore(_restorable(tag_from=tag_from), restore_ctx(restore_cr(mapping={"shared": "shared2"})))
    assert result.skip is False
    assert result.item["tag"]["from"]["namespace"] == "shared2"


def test_restore_keeps_docker_image_reference_unchanged():
    """§4.10 step 3: other kinds (DockerImage) stay reference tags, from unchanged."""
    tag_from = {"kind": "DockerImage", "name": "quay.io/x/y:1"}
    result = restore(_restorable(tag_from=tag_from), restore_ctx(restore_cr(mapping={"app": "b"})))
    assert result.skip is False
    assert result.item["tag"]["from"] == {"kind": "DockerImage", "name": "quay.io/x/y:1"}
