"""The ImageStream copy plan: which images move where, in which order (plugin-spec §5.3, §5.5)."""
import copy

import pytest
from ansible_collections.openshift_migration.velero.plugins.module_utils.image_plan import (
    ImageCopy,
    ImageCopyError,
    plan_imagestream_copies,
    record_digests,
)

IR = "image-registry.openshift-image-registry.svc:5000"
MIG = "migreg.example.com"
IR2 = "default-route-openshift-image-registry.apps.dest.example.com"
D1, D2, D3, D4 = (f"sha256:{c * 64}" for c in "abcd")


def stream(tags, spec_tags=None, namespace="app", name="web"):
    """tags: {tag: [reference, ...] newest first}; spec_tags: {tag: from-or-None}."""
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"tags": [{"name": t, **({"from": f} if f else {})}
                          for t, f in (spec_tags or {}).items()]},
        "status": {"tags": [{"tag": t, "items": [{"dockerImageReference": r,
                                                  "image": r.rsplit("@", 1)[-1]} for r in refs]}
                            for t, refs in tags.items()]},
    }


def backup_plan(imagestream, **overrides):
    options = {"mode": "backup", "internal_registry": IR, "src_registry": IR,
               "dest_registry": MIG, "dest_namespace": imagestream["metadata"]["namespace"]}
    options.update(overrides)
    return plan_imagestream_copies(imagestream, **options)


def restore_plan(imagestream, dest_namespace="app2", **overrides):
    options = {"mode": "restore", "internal_registry": IR, "src_registry": MIG,
               "dest_registry": IR2, "dest_namespace": dest_namespace}
    options.update(overrides)
    return plan_imagestream_copies(imagestream, **options)


def test_backup_tag_without_spec_from_is_copied_to_its_tag():
    copies = backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}))
    assert copies == [ImageCopy(src=f"docker://{IR}/app/web@{D1}",
                                dest=f"docker://{MIG}/app/web:latest", tag="latest",
                                tag_index=0, item_index=0, image=D1, by_digest_only=False)]


def test_items_are_copied_oldest_first_so_the_newest_wins_the_tag():
    copies = backup_plan(stream({"latest": [f"{IR}/app/web@{D1}", f"{IR}/app/web@{D2}",
                                            f"{IR}/app/web@{D3}"]}))
    assert [c.item_index for c in copies] == [2, 1, 0]
    assert [c.image for c in copies] == [D3, D2, D1]
    assert {c.dest for c in copies} == {f"docker://{MIG}/app/web:latest"}


def test_status_tags_keep_their_order():
    copies = backup_plan(stream({"v1": [f"{IR}/app/web@{D1}"], "v2": [f"{IR}/app/web@{D2}"]}))
    assert [(c.tag, c.tag_index) for c in copies] == [("v1", 0), ("v2", 1)]


@pytest.mark.parametrize("source", [
    {"kind": "ImageStreamTag", "name": "other:v1"},
    {"kind": "DockerImage", "name": "quay.io/org/web:1"},
    {"kind": "ImageStreamImage", "name": f"web@{D1}", "namespace": "elsewhere"},
])
def test_tags_tracking_something_else_are_copied_by_digest_only(source):
    copies = backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}, {"latest": source}))
    assert copies[0].by_digest_only
    assert copies[0].dest == f"docker://{MIG}/app/web"


@pytest.mark.parametrize("source", [
    None,
    {"kind": "ImageStreamImage", "name": f"web@{D1}"},
    {"kind": "ImageStreamImage", "name": f"web@{D1}", "namespace": ""},
    {"kind": "ImageStreamImage", "name": f"web@{D1}", "namespace": "app"},
])
def test_tags_without_from_or_with_a_same_namespace_image_keep_their_tag(source):
    copies = backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}, {"latest": source}))
    assert not copies[0].by_digest_only
    assert copies[0].dest == f"docker://{MIG}/app/web:latest"


def test_the_first_spec_tag_of_a_name_decides():
    imagestream = stream({"v1": [f"{IR}/app/web@{D1}"]})
    imagestream["spec"]["tags"] = [{"name": "v1", "from": {"kind": "DockerImage", "name": "x"}},
                                   {"name": "v1"}]
    assert backup_plan(imagestream)[0].by_digest_only


def test_external_images_are_left_alone():
    imagestream = stream({"latest": [f"{IR}/app/web@{D1}", f"quay.io/org/web@{D2}"],
                          "ext": [f"docker.io/library/nginx@{D3}"]})
    copies = backup_plan(imagestream)
    assert [c.image for c in copies] == [D1]


def test_no_internal_registry_means_nothing_is_local():
    assert backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}), internal_registry="") == []


def test_stream_without_status_plans_nothing():
    assert backup_plan({"metadata": {"name": "web", "namespace": "app"}}) == []


def test_local_test_is_a_plain_prefix_of_the_reference():
    # The reference is compared as a string, as the plugin does.
    copies = backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}), internal_registry=IR[:-2],
                         src_registry=MIG)
    assert copies[0].src == f"docker://{MIG}00/app/web@{D1}"


def test_backup_source_is_the_reference_moved_to_the_source_registry():
    imagestream = stream({"latest": [f"{IR}/openshift/ruby@{D1}"]})
    copies = backup_plan(imagestream, src_registry="127.0.0.1:5000")
    assert copies[0].src == f"docker://127.0.0.1:5000/openshift/ruby@{D1}"
    assert copies[0].dest == f"docker://{MIG}/app/web:latest"


def test_restore_reads_the_repository_the_backup_wrote():
    # The item was pulled through from openshift/ruby, but backup pushed it to app/web.
    imagestream = stream({"latest": [f"{IR}/openshift/ruby@{D1}"]})
    copies = restore_plan(imagestream)
    assert copies[0].src == f"docker://{MIG}/app/web@{D1}"
    assert copies[0].dest == f"docker://{IR2}/app2/web:latest"


def test_restore_uses_the_recorded_digest_not_the_reference():
    imagestream = stream({"latest": [f"{IR}/app/web@{D1}"]})
    imagestream["status"]["tags"][0]["items"][0]["image"] = D4
    assert restore_plan(imagestream)[0].src == f"docker://{MIG}/app/web@{D4}"


def test_restore_into_the_mapped_namespace_by_digest_only():
    imagestream = stream({"v1": [f"{IR}/app/web@{D1}"]},
                         {"v1": {"kind": "ImageStreamTag", "name": "base:1"}})
    copies = restore_plan(imagestream, dest_namespace="mapped")
    assert copies[0].dest == f"docker://{IR2}/mapped/web"
    assert copies[0].by_digest_only


def test_restore_item_without_digest_is_an_error():
    imagestream = stream({"latest": [f"{IR}/app/web@{D1}"]})
    imagestream["status"]["tags"][0]["items"][0]["image"] = ""
    with pytest.raises(ImageCopyError, match="app/web.*records no image digest"):
        restore_plan(imagestream)


def test_missing_source_registry_with_internal_images_is_an_error():
    with pytest.raises(ImageCopyError, match="ImageStream app/web .*give src_registry"):
        backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}), src_registry="")


def test_missing_destination_registry_with_internal_images_is_an_error():
    with pytest.raises(ImageCopyError, match="ImageStream app/web .*give dest_registry"):
        backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}), dest_registry="")


def test_missing_registries_do_not_matter_without_internal_images():
    imagestream = stream({"latest": [f"quay.io/org/web@{D1}"]})
    assert backup_plan(imagestream, src_registry="", dest_registry="") == []


def test_registry_options_may_carry_the_transport_and_a_trailing_slash():
    copies = backup_plan(stream({"latest": [f"{IR}/app/web@{D1}"]}),
                         src_registry=f"docker://{IR}/", dest_registry=f"docker://{MIG}/")
    assert copies[0].src == f"docker://{IR}/app/web@{D1}"
    assert copies[0].dest == f"docker://{MIG}/app/web:latest"


def test_unknown_mode_is_an_error():
    with pytest.raises(ImageCopyError, match="unknown copy mode 'bsl'"):
        backup_plan(stream({}), mode="bsl")


def test_stream_without_name_is_an_error():
    with pytest.raises(ImageCopyError, match="no metadata.name"):
        backup_plan({"metadata": {"namespace": "app"}, "status": {"tags": []}},
                    dest_namespace="app")


def test_record_digests_updates_changed_items_only_and_leaves_the_input_alone():
    imagestream = stream({"latest": [f"{IR}/app/web@{D1}", f"{IR}/app/web@{D2}"]})
    original = copy.deepcopy(imagestream)
    updated = record_digests(imagestream, {(0, 0): D3, (0, 1): D2})
    assert imagestream == original
    items = updated["status"]["tags"][0]["items"]
    assert items[0] == {"dockerImageReference": f"{IR}/app/web@{D3}", "image": D3}
    assert items[1] == {"dockerImageReference": f"{IR}/app/web@{D2}", "image": D2}
    assert updated["spec"] == original["spec"]


def test_record_digests_keeps_a_reference_without_exactly_one_at():
    imagestream = stream({"latest": [f"{IR}/app/web:latest"]})
    imagestream["status"]["tags"][0]["items"][0]["image"] = D1
    updated = record_digests(imagestream, {(0, 0): D2})
    item = updated["status"]["tags"][0]["items"][0]
    assert item == {"dockerImageReference": f"{IR}/app/web:latest", "image": D2}


def test_record_digests_ignores_empty_digests():
    imagestream = stream({"latest": [f"{IR}/app/web@{D1}"]})
    assert record_digests(imagestream, {(0, 0): ""}) == imagestream
