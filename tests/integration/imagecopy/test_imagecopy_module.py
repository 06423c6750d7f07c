"""imagestream_copy against real registries: backup, then restore, then again (no change)."""
from __future__ import annotations

import pytest
from imagecopy_helpers import (
    INTERNAL,
    backup_args,
    migration_auth,
    push_source_app,
    restore_args,
    run_module,
)
from tests.lab.images import host_architecture, image_stream
from tests.lab.registries import free_port

MAPPING = {"app": "app-new"}


def images_of(result: dict, stream: str) -> list[dict]:
    return [image for image in result["images"] if image["imagestream"] == stream]


def assert_stream_in_registry(client, stream: dict, namespace: str, *,
                              tag_filter=lambda tag: True) -> None:
    """Every internal image of the stream is in ``namespace/<stream>``, with its digest.

    Tags copied to their tag carry their newest image; all their older images and the images
    of by-digest tags are in the repository by digest.
    """
    repository = f"{namespace}/{stream['metadata']['name']}"
    by_tag = {t["name"] for t in stream["spec"]["tags"] if t.get("from")}
    for status_tag in stream["status"]["tags"]:
        items = [i for i in status_tag["items"] if i["dockerImageReference"].startswith(INTERNAL)]
        if not items or not tag_filter(status_tag["tag"]):
            continue
        if status_tag["tag"] not in by_tag:
            assert client.digest(repository, status_tag["tag"]) == items[0]["image"]
        for item in items:
            assert client.digest(repository, item["image"]) == item["image"]


def test_backup_then_restore_moves_every_internal_image(lab, builder, tmp_path):
    app = push_source_app(lab, builder)

    backup = run_module(backup_args(lab, app.streams, parallel=3), tmp_path)
    assert backup["changed"] is True, backup
    # 2 web latest + 1 web v1 + api latest + api stable (by digest) + ruby + cart; ext is external.
    assert backup["totals"] == {"copied": 7, "present": 0, "failed": 0, "skipped": 0}
    assert all(image["digest"] == image["image"] for image in backup["images"])
    assert not images_of(backup, "app/ext")

    migration = lab.client(lab.migration)
    for stream in backup["imagestreams"]:
        assert_stream_in_registry(migration, stream, stream["metadata"]["namespace"])
    # The pulled-through image lives under the stream's own repository, not openshift/ruby.
    assert "openshift/ruby" not in migration.repositories()
    # The by-digest tag moved no tag: app/api has only its own "latest".
    assert migration.tags("app/api") == ["latest"]
    assert migration.tags("app/web") == ["latest", "v1"]
    assert backup["imagestreams"] == app.streams  # digests kept, nothing to record

    restore = run_module(restore_args(lab, backup["imagestreams"], namespace_mapping=MAPPING),
                         tmp_path)
    assert restore["changed"] is True, restore
    assert restore["totals"] == {"copied": 7, "present": 0, "failed": 0, "skipped": 0}
    destination = lab.client(lab.destination)
    for stream in backup["imagestreams"]:
        namespace = stream["metadata"]["namespace"]
        assert_stream_in_registry(destination, stream, MAPPING.get(namespace, namespace))
    assert destination.repositories() == ["app-new/api", "app-new/ruby-app", "app-new/web",
                                          "shop/cart"]
    assert destination.digest("app-new/web", "latest") == app.digests["app/web:v2"]
    assert destination.digest("app-new/ruby-app", "latest") == app.digests["openshift/ruby:3.1"]

    again = run_module(restore_args(lab, backup["imagestreams"], namespace_mapping=MAPPING),
                       tmp_path)
    assert again["changed"] is False
    assert again["totals"] == {"copied": 0, "present": 7, "failed": 0, "skipped": 0}
    backup_again = run_module(backup_args(lab, app.streams), tmp_path)
    assert backup_again["changed"] is False
    assert backup_again["totals"]["present"] == 7


def test_check_mode_reports_what_would_be_copied_and_copies_nothing(lab, builder, tmp_path):
    app = push_source_app(lab, builder)
    first = run_module(backup_args(lab, app.streams), tmp_path, check_mode=True)
    assert first["changed"] is True
    assert first["totals"] == {"copied": 0, "present": 0, "failed": 0, "skipped": 7}
    assert {i["reason"] for i in first["images"]} == {"check mode: would be copied"}
    assert lab.client(lab.migration).repositories() == []

    run_module(backup_args(lab, app.streams), tmp_path)
    second = run_module(backup_args(lab, app.streams), tmp_path, check_mode=True)
    assert second["changed"] is False
    assert second["totals"]["present"] == 7


def test_a_newer_image_pushed_since_the_last_run_is_copied_alone(lab, builder, tmp_path):
    app = push_source_app(lab, builder)
    run_module(backup_args(lab, app.streams), tmp_path)
    v3 = builder.push("app-web", "v3", f"docker://{lab.source.address}/app/web:v3",
                      tls_verify=False)
    web = app.streams[0]
    web["status"]["tags"][0]["items"].insert(0, {"dockerImageReference": f"{INTERNAL}/app/web@{v3}",
                                                 "image": v3})
    result = run_module(backup_args(lab, [web]), tmp_path)
    assert result["changed"] is True
    statuses = [(i["tag"], i["image"], i["status"]) for i in result["images"]]
    assert statuses == [("latest", app.digests["app/web:v1"], "present"),
                        ("latest", app.digests["app/web:v2"], "present"),
                        ("latest", v3, "copied"),
                        ("v1", app.digests["app/web:v1"], "present")]
    assert lab.client(lab.migration).digest("app/web", "latest") == v3


def test_wrong_credentials_fail_clearly_without_retrying(lab, builder, tmp_path):
    app = push_source_app(lab, builder)
    wrong = "not-the-password-" + "x" * 8
    args = backup_args(lab, app.streams[:1], dest_auth=migration_auth(lab, password=wrong),
                       retries=3)
    result = run_module(args, tmp_path)
    assert result["failed"] is True
    assert "3 of 3 ImageStream images were not copied" in result["msg"]
    assert "refused the credentials" in result["msg"]
    assert {i["attempts"] for i in result["images"]} == {1}
    assert wrong not in str(result) and lab.migration.password not in str(result)


def test_unreachable_registry_fails_after_bounded_retries_listing_every_image(lab, builder,
                                                                              tmp_path):
    app = push_source_app(lab, builder)
    down = f"127.0.0.1:{free_port()}"
    result = run_module(backup_args(lab, app.streams, dest_registry=down, retries=2), tmp_path)
    assert result["failed"] is True
    assert result["totals"] == {"copied": 0, "present": 0, "failed": 7, "skipped": 0}
    for image in result["images"]:
        assert f"{image['src']} -> {image['dest']}:" in result["msg"]
        assert image["attempts"] <= 3
    assert f"registry {down} did not answer" in result["msg"]


def test_tls_registry_needs_its_ca(lab, builder, tmp_path):
    app = push_source_app(lab, builder)
    backup = run_module(backup_args(lab, app.streams[4:]), tmp_path)
    args = restore_args(lab, backup["imagestreams"], retries=0)
    args["dest_auth"] = {}
    result = run_module(args, tmp_path)
    assert result["failed"] is True
    assert "certificate" in result["msg"]


@pytest.mark.parametrize(("override", "message"), [
    ({"dest_registry": ""}, "ImageStream app/web has internal images but no copy destination"),
    ({"parallel": 0}, "parallel must be at least 1"),
])
def test_bad_options_give_one_clear_message(lab, builder, tmp_path, override, message):
    app = push_source_app(lab, builder)
    result = run_module(backup_args(lab, app.streams, **override), tmp_path)
    assert result["failed"] is True
    assert message in result["msg"]
    assert result["msg"].startswith("imagestream_copy (backup): ")


def test_multi_platform_images_keep_their_digest_or_have_the_new_one_recorded(lab, builder,
                                                                              tmp_path):
    index, platforms = builder.push_multi_platform(
        "multi", "v1", f"docker://{lab.source.address}/app/multi:v1", tls_verify=False)
    reference = f"{INTERNAL}/app/multi@{index}"
    pinned = {"pinned": {"kind": "ImageStreamTag", "name": "multi:latest"}}
    whole = image_stream("app", "whole", {"latest": [reference], "pinned": [reference]},
                         spec_tags=pinned)
    single = image_stream("app", "single", {"latest": [reference], "pinned": [reference]},
                          spec_tags=pinned)
    migration = lab.client(lab.migration)

    kept = run_module(backup_args(lab, [whole]), tmp_path)
    # The by-digest copy finds the index the tag copy just pushed.
    assert [i["status"] for i in kept["images"]] == ["copied", "present"]
    assert kept["imagestreams"] == [whole]
    assert migration.digest("app/whole", "latest") == index
    assert run_module(backup_args(lab, [whole]), tmp_path)["changed"] is False

    backup = run_module(backup_args(lab, [single], all_platforms=False), tmp_path)
    assert [i["status"] for i in backup["images"]] == ["copied", "copied"]
    host = platforms[host_architecture()]
    latest, by_digest = backup["imagestreams"][0]["status"]["tags"]
    assert latest["items"][0]["image"] == host
    assert latest["items"][0]["dockerImageReference"] == f"{INTERNAL}/app/multi@{host}"
    assert by_digest["items"][0]["image"] == index  # pushed by digest: every platform kept
    assert migration.digest("app/single", "latest") == host

    restore = run_module(restore_args(lab, backup["imagestreams"], all_platforms=False),
                         tmp_path)
    assert restore["totals"] == {"copied": 2, "present": 0, "failed": 0, "skipped": 0}
    destination = lab.client(lab.destination)
    assert destination.digest("app/single", "latest") == host
    assert destination.digest("app/single", index) == index
