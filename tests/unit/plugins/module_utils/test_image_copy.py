"""Copy engine logic (order, presence, retries, credentials) with a scripted stand-in for skopeo.

tests/integration/imagecopy runs the same engine against real registries and the real skopeo.
"""
import base64
import hashlib
import json
import os
import sys

import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils.image_copy import (
    COPIED,
    FAILED,
    PRESENT,
    SKIPPED,
    CopyEngine,
    ImageCopySetupError,
    RegistryAuth,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.image_plan import ImageCopy

# The stand-in reads its behaviour from behaviour.json and appends each call to calls.jsonl.
FAKE_SKOPEO = r'''#!{python}
import json, os, stat, sys
here = os.path.dirname(os.path.abspath(__file__))
config = json.load(open(os.path.join(here, "behaviour.json")))
args = sys.argv[1:]
options = [a for a in args if a.startswith("--")]
refs = [a for a in args if not a.startswith("-") and a not in ("copy", "inspect", "list-tags")]
verb = next(a for a in args if a in ("copy", "inspect", "list-tags"))
call = {{"verb": verb, "refs": refs, "options": options, "authfiles": {{}}}}
for option in options:
    if "authfile=" in option:
        name, path = option.split("=", 1)
        call["authfiles"][name] = {{"mode": stat.S_IMODE(os.stat(path).st_mode),
                                   "content": json.load(open(path))}}
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps(call) + "\n")

def fail(message):
    sys.stderr.write('time="now" level=fatal msg="' + message.replace('"', '\\"') + '"\n')
    sys.exit(1)

if verb == "list-tags":
    tags = config.get("tags", {{}}).get(refs[0])
    if tags is None:
        fail("fetching tags list: invalid status code from registry 404 (Not Found)")
    print(json.dumps({{"Repository": refs[0], "Tags": tags}}))
elif verb == "inspect":
    content = config.get("manifests", {{}}).get(refs[0])
    if content is None:
        fail("reading manifest in " + refs[0] + ": manifest unknown: manifest unknown")
    sys.stdout.write(content)
else:
    src, dest = refs
    for marker, message in config.get("errors", {{}}).items():
        if marker in dest or marker in src:
            fail(message)
    digest = config.get("rewrite", {{}}).get(src, src.rpartition("@")[2])
    digest_file = next(o for o in options if o.startswith("--digestfile=")).split("=", 1)[1]
    open(digest_file, "w").write(digest)
'''


def manifest(name):
    return f'{{"manifest": "{name}"}}'


def digest_of(name):
    return "sha256:" + hashlib.sha256(manifest(name).encode()).hexdigest()


A, B, C = digest_of("a"), digest_of("b"), digest_of("c")
SRC = "docker://src.example.com:5000"
DEST = "docker://dest.example.com:5000"


def item(image, dest, tag="latest", tag_index=0, item_index=0, by_digest_only=False):
    return ImageCopy(src=f"{SRC}/app/web@{image}", dest=dest, tag=tag, tag_index=tag_index,
                     item_index=item_index, image=image, by_digest_only=by_digest_only)


class FakeSkopeo:
    def __init__(self, directory):
        self.directory = directory
        self.path = directory / "skopeo"
        self.path.write_text(FAKE_SKOPEO.format(python=sys.executable))
        self.path.chmod(0o755)
        self.behave()

    def behave(self, **config):
        (self.directory / "behaviour.json").write_text(json.dumps(config))

    def calls(self, verb=None):
        log = self.directory / "calls.jsonl"
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return [call for call in calls if verb is None or call["verb"] == verb]

    def engine(self, **options):
        options.setdefault("backoff", 0.001)
        return CopyEngine(skopeo=str(self.path), **options)


@pytest.fixture
def skopeo(tmp_path):
    return FakeSkopeo(tmp_path)


def test_copies_of_one_repository_run_in_plan_order(skopeo):
    plan = [item(A, f"{DEST}/app/web:latest", item_index=2),
            item(B, f"{DEST}/app/web:latest", item_index=1),
            item(C, f"{DEST}/app/web:latest", item_index=0),
            item(A, f"{DEST}/app/api:latest"),
            item(B, f"{DEST}/app/web:v1", tag="v1", tag_index=1)]
    results = skopeo.engine(parallel=4).copy(plan)
    assert [r.status for r in results] == [COPIED] * 5
    assert [r.digest for r in results] == [A, B, C, A, B]
    web = [call["refs"][1] for call in skopeo.calls("copy") if "/app/web" in call["refs"][1]]
    assert web == [f"{DEST}/app/web:latest"] * 3 + [f"{DEST}/app/web:v1"]
    web_sources = [call["refs"][0] for call in skopeo.calls("copy") if "/app/web" in call["refs"][1]]
    assert web_sources == [f"{SRC}/app/web@{d}" for d in (A, B, C, B)]


def test_a_missing_tag_needs_no_inspection(skopeo):
    skopeo.behave(tags={f"{DEST}/app/web": ["other"]})
    skopeo.engine().copy([item(A, f"{DEST}/app/web:latest")])
    assert skopeo.calls("inspect") == []
    assert len(skopeo.calls("list-tags")) == 1


def test_image_on_its_tag_is_present_and_not_copied(skopeo):
    skopeo.behave(tags={f"{DEST}/app/web": ["latest"]},
                  manifests={f"{DEST}/app/web:latest": manifest("a")})
    results = skopeo.engine().copy([item(A, f"{DEST}/app/web:latest")])
    assert [(r.status, r.digest, r.attempts) for r in results] == [(PRESENT, A, 0)]
    assert skopeo.calls("copy") == []


def test_tag_on_another_image_is_copied_again(skopeo):
    skopeo.behave(tags={f"{DEST}/app/web": ["latest"]},
                  manifests={f"{DEST}/app/web:latest": manifest("b")})
    assert [r.status for r in skopeo.engine().copy([item(A, f"{DEST}/app/web:latest")])] == [COPIED]


def test_older_images_of_a_tag_only_need_to_exist_by_digest(skopeo):
    skopeo.behave(tags={f"{DEST}/app/web": ["latest"]},
                  manifests={f"{DEST}/app/web@{A}": manifest("a"),
                             f"{DEST}/app/web:latest": manifest("a")})
    plan = [item(A, f"{DEST}/app/web:latest", item_index=1),
            item(B, f"{DEST}/app/web:latest", item_index=0)]
    results = skopeo.engine().copy(plan)
    assert [r.status for r in results] == [PRESENT, COPIED]


def test_once_a_tag_moved_the_newer_images_are_pushed_again(skopeo):
    # The newest image is on the tag but an older one is missing: copying the older one moves
    # the tag, so the newest must be pushed again to end up on it.
    skopeo.behave(tags={f"{DEST}/app/web": ["latest"]},
                  manifests={f"{DEST}/app/web:latest": manifest("b"),
                             f"{DEST}/app/web@{B}": manifest("b")})
    plan = [item(A, f"{DEST}/app/web:latest", item_index=1),
            item(B, f"{DEST}/app/web:latest", item_index=0)]
    assert [r.status for r in skopeo.engine().copy(plan)] == [COPIED, COPIED]


def test_by_digest_copies_are_pushed_by_digest(skopeo):
    skopeo.behave(tags={f"{DEST}/app/api": ["latest"]})
    results = skopeo.engine().copy([item(A, f"{DEST}/app/api", tag="stable", by_digest_only=True)])
    assert results[0].status == COPIED
    assert skopeo.calls("copy")[0]["refs"][1] == f"{DEST}/app/api@{A}"
    assert [c["refs"][0] for c in skopeo.calls("inspect")] == [f"{DEST}/app/api@{A}"]


@pytest.mark.parametrize(("all_platforms", "by_digest_only", "expected"), [
    (True, False, {"--multi-arch=all"}),
    (False, False, set()),
    (False, True, {"--multi-arch=all", "--preserve-digests"}),
    (True, True, {"--multi-arch=all", "--preserve-digests"}),
])
def test_platforms_and_digest_preservation(skopeo, all_platforms, by_digest_only, expected):
    dest = f"{DEST}/app/web" + ("" if by_digest_only else ":latest")
    skopeo.engine(all_platforms=all_platforms).copy([item(A, dest, by_digest_only=by_digest_only)])
    options = set(skopeo.calls("copy")[0]["options"])
    assert options & {"--multi-arch=all", "--preserve-digests"} == expected


def test_check_mode_inspects_and_copies_nothing(skopeo):
    skopeo.behave(tags={f"{DEST}/app/web": ["latest"]},
                  manifests={f"{DEST}/app/web:latest": manifest("a")})
    plan = [item(A, f"{DEST}/app/web:latest"), item(B, f"{DEST}/app/web:v1", tag="v1")]
    results = skopeo.engine().copy(plan, dry_run=True)
    assert [(r.status, r.reason) for r in results] == [
        (PRESENT, ""), (SKIPPED, "check mode: would be copied")]
    assert skopeo.calls("copy") == []


def test_failures_are_retried_then_reported_and_the_registry_is_given_up(skopeo):
    skopeo.behave(errors={"down.example.com": "pinging container registry down.example.com:5000: "
                                              "dial tcp 10.0.0.1:5000: connect: connection refused"})
    down = "docker://down.example.com:5000"
    plan = [item(A, f"{down}/app/web:latest"), item(B, f"{down}/app/web:v1", tag="v1"),
            item(C, f"{DEST}/app/other:latest")]
    results = skopeo.engine(parallel=1, attempts=3).copy(plan)
    assert [(r.status, r.attempts) for r in results] == [(FAILED, 3), (FAILED, 0), (COPIED, 1)]
    assert results[0].error.startswith("failed after 3 attempts: pinging container registry")
    assert results[1].error == ("not copied: registry down.example.com:5000 did not answer "
                                "through 3 attempts")
    assert len(skopeo.calls("copy")) == 4


def test_an_outage_is_forgotten_by_the_next_run(skopeo):
    skopeo.behave(errors={"app/web": "dial tcp 10.0.0.1:5000: connect: connection refused "
                                     "(dest.example.com:5000)"})
    engine = skopeo.engine(attempts=2)
    first = engine.copy([item(A, f"{DEST}/app/web:latest"), item(B, f"{DEST}/app/web:v1")])
    assert [(r.status, r.attempts) for r in first] == [(FAILED, 2), (FAILED, 0)]
    skopeo.behave()
    second = engine.copy([item(A, f"{DEST}/app/web:latest")])
    assert [(r.status, r.attempts) for r in second] == [(COPIED, 1)]


def test_refused_credentials_are_not_retried(skopeo):
    skopeo.behave(errors={"app/web": "writing manifest: unauthorized: authentication required"})
    results = skopeo.engine(attempts=5).copy([item(A, f"{DEST}/app/web:latest")])
    assert (results[0].status, results[0].attempts) == (FAILED, 1)
    assert "refused the credentials (check src_auth and dest_auth)" in results[0].error


def test_restore_requires_the_recorded_digest(skopeo):
    skopeo.behave(rewrite={f"{SRC}/app/web@{A}": B})
    engine = skopeo.engine(require_same_digest=True)
    results = engine.copy([item(A, f"{DEST}/app/web:latest")])
    assert results[0].status == FAILED
    assert results[0].error == f"the destination stored digest {B} but the stream records {A}"
    assert "--preserve-digests" in skopeo.calls("copy")[0]["options"]


def test_backup_accepts_a_new_digest(skopeo):
    skopeo.behave(rewrite={f"{SRC}/app/web@{A}": B})
    results = skopeo.engine().copy([item(A, f"{DEST}/app/web:latest")])
    assert (results[0].status, results[0].digest) == (COPIED, B)


def test_credentials_go_through_private_files_that_are_removed(skopeo, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("CA")
    engine = skopeo.engine(src_auth=RegistryAuth(token="s3cr3t-token", tls_verify=False),
                           dest_auth=RegistryAuth(username="mig", password="pa55word", ca_file=str(ca)))
    results = engine.copy([item(A, f"{DEST}/app/web:latest")])
    assert results[0].status == COPIED
    call = skopeo.calls("copy")[0]
    joined = " ".join(call["options"] + call["refs"])
    assert "s3cr3t-token" not in joined and "pa55word" not in joined
    assert "--src-tls-verify=false" in call["options"]
    assert "--dest-tls-verify=true" in call["options"]

    def basic(user, secret):
        return base64.b64encode(f"{user}:{secret}".encode()).decode()

    assert call["authfiles"] == {
        "--src-authfile": {"mode": 0o600, "content": {"auths": {
            "src.example.com:5000": {"auth": basic("serviceaccount", "s3cr3t-token")}}}},
        "--dest-authfile": {"mode": 0o600, "content": {"auths": {
            "dest.example.com:5000": {"auth": basic("mig", "pa55word")}}}},
    }
    files = {o.split("=", 1)[0]: o.split("=", 1)[1] for o in call["options"] if "=" in o}
    for option in ("--src-authfile", "--dest-authfile", "--dest-cert-dir"):
        assert not os.path.exists(files[option])


def test_results_carry_no_secret(skopeo):
    skopeo.behave(errors={"app/web": "unauthorized: authentication required"})
    engine = skopeo.engine(dest_auth=RegistryAuth(username="mig", password="pa55word"))
    results = engine.copy([item(A, f"{DEST}/app/web:latest")])
    assert "pa55word" not in json.dumps(results[0].to_dict())
    assert "pa55word" not in repr(RegistryAuth(username="mig", password="pa55word"))


@pytest.mark.parametrize(("auth", "message"), [
    (RegistryAuth(auth_file="/nonexistent/auth.json"), "src: auth_file /nonexistent/auth.json does not exist"),
    (RegistryAuth(ca_file="/nonexistent/ca.crt"), "src: ca_file /nonexistent/ca.crt does not exist"),
    (RegistryAuth(auth_file="/etc/hostname", password="x"), "src: give either auth_file or"),
])
def test_unusable_credentials_are_setup_errors(skopeo, auth, message):
    with pytest.raises(ImageCopySetupError, match=message):
        skopeo.engine(src_auth=auth).copy([item(A, f"{DEST}/app/web:latest")])


def test_missing_skopeo_names_the_package(tmp_path):
    engine = CopyEngine(skopeo=str(tmp_path / "no-skopeo"))
    with pytest.raises(ImageCopySetupError, match=r"install the skopeo package \(bindep.txt\)"):
        engine.copy([item(A, f"{DEST}/app/web:latest")])


def test_progress_reports_every_image(skopeo):
    seen = []
    plan = [item(A, f"{DEST}/app/web:latest"), item(B, f"{DEST}/app/api:latest")]
    skopeo.engine(progress=seen.append).copy(plan)
    assert sorted(r.copy.dest for r in seen) == sorted(c.dest for c in plan)
