"""The copy engine (module_utils/image_copy.py) against real registries."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
from imagecopy_helpers import INTERNAL, push_source_app

from ansible_collections.openshift_migration.velero.plugins.module_utils.image_copy import (
    COPIED,
    FAILED,
    PRESENT,
    CopyEngine,
    ImageCopySetupError,
    RegistryAuth,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.image_plan import (
    ImageCopy,
    plan_imagestream_copies,
)
from tests.lab.images import image_stream, write_authfile

PLAIN = RegistryAuth(tls_verify=False)


def backup_plan(lab, streams):
    return [copy for stream in streams
            for copy in plan_imagestream_copies(stream, mode="backup", internal_registry=INTERNAL,
                                                src_registry=lab.source.address,
                                                dest_registry=lab.migration.address,
                                                dest_namespace=stream["metadata"]["namespace"])]


def migration_auth(lab, **extra):
    return RegistryAuth(username=lab.migration.username, password=lab.migration.password,
                        tls_verify=False, **extra)


def test_long_tag_history_lands_newest_on_the_tag_with_many_workers(lab, builder):
    references = []
    for index in range(6):
        digest = builder.push("hist", f"v{index}", f"docker://{lab.source.address}/app/hist:v{index}",
                              tls_verify=False)
        references.insert(0, f"{INTERNAL}/app/hist@{digest}")  # newest first
    stream = image_stream("app", "hist", {"latest": references, "copy": references[:1]})
    seen = []
    engine = CopyEngine(PLAIN, migration_auth(lab), parallel=8, attempts=2, backoff=0.05,
                        progress=seen.append)
    results = engine.copy(backup_plan(lab, [stream]))
    assert [r.status for r in results] == [COPIED] * 7
    assert sorted(id(r) for r in seen) == sorted(id(r) for r in results)
    client = lab.client(lab.migration)
    newest = references[0].rsplit("@", 1)[1]
    assert client.digest("app/hist", "latest") == newest
    assert client.digest("app/hist", "copy") == newest
    for reference in references:
        digest = reference.rsplit("@", 1)[1]
        assert client.digest("app/hist", digest) == digest


def test_token_and_auth_file_authenticate(lab, builder, tmp_path):
    app = push_source_app(lab, builder)
    plan = backup_plan(lab, app.streams[4:])  # shop/cart
    token = RegistryAuth(username=lab.migration.username, token=lab.migration.password,
                         tls_verify=False)
    assert [r.status for r in CopyEngine(PLAIN, token).copy(plan)] == [COPIED]
    auth_file = write_authfile(tmp_path / "auth.json", {
        lab.migration.address: (lab.migration.username, lab.migration.password)})
    from_file = RegistryAuth(auth_file=str(auth_file), tls_verify=False)
    assert [r.status for r in CopyEngine(PLAIN, from_file).copy(plan)] == [PRESENT]
    assert json.loads(auth_file.read_text())["auths"]  # the user's file is used, not removed


def test_credentials_never_reach_the_command_line(lab, builder, monkeypatch):
    app = push_source_app(lab, builder)
    commands = []
    real_run = __import__("subprocess").run

    def recording_run(command, *args, **kwargs):
        commands.append(list(command))
        for option in command:
            if option.startswith(("--src-authfile=", "--dest-authfile=")):
                path = option.split("=", 1)[1]
                assert os.stat(path).st_mode & 0o777 == 0o600
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr("subprocess.run", recording_run)
    results = CopyEngine(PLAIN, migration_auth(lab)).copy(backup_plan(lab, app.streams))
    assert {r.status for r in results} == {COPIED}
    assert commands and not any(lab.migration.password in " ".join(c) for c in commands)
    auth_files = {o.split("=", 1)[1] for c in commands for o in c if o.startswith("--dest-authfile=")}
    assert auth_files and not any(os.path.exists(path) for path in auth_files)


def test_registry_going_down_mid_run_fails_the_rest_after_bounded_retries(lab, builder):
    app = push_source_app(lab, builder)
    plan = backup_plan(lab, app.streams)
    stopped = threading.Event()

    def stop_after_first(result):
        if not stopped.is_set():
            lab.migration.stop()
            stopped.set()

    engine = CopyEngine(PLAIN, migration_auth(lab), parallel=1, attempts=3, backoff=0.05,
                        progress=stop_after_first)
    started = time.monotonic()
    results = engine.copy(plan)
    elapsed = time.monotonic() - started
    assert [r.status for r in results[:1]] == [COPIED]
    failed = results[1:]
    assert len(failed) == 6 and {r.status for r in failed} == {FAILED}
    # The first copy after the outage tries every attempt; the others give up at once.
    assert failed[0].attempts == 3 and "failed after 3 attempts" in failed[0].error
    assert all(r.attempts == 0 for r in failed[1:])
    assert all(f"registry {lab.migration.address} did not answer" in r.error for r in failed[1:])
    assert elapsed < 30


def test_missing_source_image_fails_that_image_only(lab, builder):
    app = push_source_app(lab, builder)
    plan = backup_plan(lab, app.streams[4:])
    missing = ImageCopy(src=f"docker://{lab.source.address}/app/gone@sha256:{'1' * 64}",
                        dest=f"docker://{lab.migration.address}/app/gone:latest", tag="latest",
                        tag_index=0, item_index=0, image=f"sha256:{'1' * 64}",
                        by_digest_only=False)
    results = CopyEngine(PLAIN, migration_auth(lab), attempts=2, backoff=0.01).copy(
        [missing, *plan])
    assert [r.status for r in results] == [FAILED, COPIED]
    assert "manifest unknown" in results[0].error and results[0].attempts == 2


def test_missing_skopeo_is_a_setup_error(lab, builder):
    app = push_source_app(lab, builder)
    engine = CopyEngine(PLAIN, PLAIN, skopeo="skopeo-is-not-installed")
    with pytest.raises(ImageCopySetupError, match="install the skopeo package"):
        engine.copy(backup_plan(lab, app.streams))


def test_missing_ca_file_is_a_setup_error(lab, builder, tmp_path):
    app = push_source_app(lab, builder)
    engine = CopyEngine(PLAIN, RegistryAuth(ca_file=str(tmp_path / "none.crt")))
    with pytest.raises(ImageCopySetupError, match="dest: ca_file .* does not exist"):
        engine.copy(backup_plan(lab, app.streams))


def test_nothing_to_copy_runs_nothing():
    assert CopyEngine(skopeo="skopeo-is-not-installed").copy([]) == []
