"""Copy engine: runs an ImageStream copy plan (image_plan.py) with ``skopeo copy``.

* Credentials reach skopeo through private temporary files (auth.json, certificate folders),
  never through its command line; the files are removed when the run ends.
* Copies run in parallel, except that the copies of one destination tag run one after the
  other in plan order (oldest first, so the newest image ends up on the tag), and the first
  tag of each repository is copied before its others (see CopyEngine.copy).
* An image already at the destination with the expected digest is reported ``present`` and
  not copied again, which makes a second run a no-op.
* Each copy is retried with exponential backoff; a failure does not stop the other copies.
  Once a registry stays unreachable through all retries, the copies still waiting for it fail
  at once instead of each waiting through its own retries.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .image_plan import TRANSPORT, ImageCopy

COPIED, PRESENT, FAILED, SKIPPED = "copied", "present", "failed", "skipped"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
ABSENT = re.compile(r"manifest unknown|name unknown|not found", re.IGNORECASE)
AUTH_REFUSED = re.compile(r"unauthorized|authentication required|denied|invalid username",
                          re.IGNORECASE)
UNREACHABLE = re.compile(r"connection refused|no such host|i/o timeout|no route to host|"
                         r"connection reset|timed out", re.IGNORECASE)
MAX_BACKOFF = 30.0
TOKEN_USER = "serviceaccount"


class ImageCopySetupError(Exception):
    """The engine cannot run at all (skopeo missing, unusable credentials)."""


@dataclass(frozen=True)
class RegistryAuth:
    """How to reach one side of the copies; every field is optional."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # Sent as the basic-auth password (OpenShift's registry takes user or service account
    # tokens this way), with ``username`` or "serviceaccount" as the user.
    token: str | None = field(default=None, repr=False)
    tls_verify: bool = True
    ca_file: str | None = None
    auth_file: str | None = None  # an existing containers auth.json, used as is


@dataclass
class CopyResult:
    copy: ImageCopy
    status: str  # copied, present, failed or skipped
    digest: str = ""  # digest at the destination (written, or found there)
    error: str = ""
    reason: str = ""  # why an image was skipped
    attempts: int = 0

    def to_dict(self) -> dict:
        return {"src": self.copy.src, "dest": self.copy.dest, "tag": self.copy.tag,
                "tag_index": self.copy.tag_index, "item_index": self.copy.item_index,
                "image": self.copy.image, "digest": self.digest, "status": self.status,
                "error": self.error, "reason": self.reason, "attempts": self.attempts}


def registry_host(reference: str) -> str:
    return reference.removeprefix(TRANSPORT).split("/", 1)[0]


def _repository(reference: str) -> str:
    """``docker://host/ns/name`` of a reference carrying a tag or a digest, or neither."""
    name = reference.split("@", 1)[0]
    head, slash, last = name.rpartition("/")
    return f"{head}{slash}{last.split(':', 1)[0]}"


def _tag_groups(copies: list[ImageCopy]) -> dict[str, list[list[int]]]:
    """Indices of the copies by destination repository, then by group, in plan order.

    A group holds the copies of one destination tag (they must run one after the other,
    oldest first), or the identical by-digest copies of one image.
    """
    repositories: dict[str, dict[tuple[str, str], list[int]]] = {}
    for index, item in enumerate(copies):
        key = (item.dest, item.image if item.by_digest_only else "")
        repositories.setdefault(_repository(item.dest), {}).setdefault(key, []).append(index)
    return {repository: list(groups.values()) for repository, groups in repositories.items()}


def _tag_of(reference: str) -> str:
    """Tag of ``docker://host/ns/name:tag`` ("" when it has none)."""
    last = reference.split("@", 1)[0].rpartition("/")[2]
    return last.partition(":")[2]


def _skopeo_message(stderr: str) -> str:
    """The readable part of skopeo's error output (its ``msg="..."`` field when logged)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return "skopeo failed without a message"
    match = re.search(r'msg="(.*)"\s*$', lines[-1])
    return match.group(1).replace('\\"', '"') if match else lines[-1]


class _Side:
    """skopeo options for the source or destination side, with private credential files."""

    def __init__(self, auth: RegistryAuth | None, hosts: set[str], workdir: str, name: str):
        auth = auth or RegistryAuth()
        self.tls_verify = auth.tls_verify
        self.auth_file = auth.auth_file
        self.cert_dir: str | None = None
        secret = auth.password if auth.token is None else auth.token
        if auth.auth_file and (auth.username or secret):
            raise ImageCopySetupError(f"{name}: give either auth_file or username/password/token")
        if auth.auth_file and not os.path.isfile(auth.auth_file):
            raise ImageCopySetupError(f"{name}: auth_file {auth.auth_file} does not exist")
        if secret:
            user = auth.username or (TOKEN_USER if auth.token else "")
            self.auth_file = self._write_auth_file(workdir, name, hosts, user, secret)
        if auth.ca_file:
            if not os.path.isfile(auth.ca_file):
                raise ImageCopySetupError(f"{name}: ca_file {auth.ca_file} does not exist")
            # skopeo reads CAs from a folder of *.crt files, so give it a folder of its own.
            self.cert_dir = os.path.join(workdir, f"{name}-certs")
            os.mkdir(self.cert_dir, 0o700)
            shutil.copyfile(auth.ca_file, os.path.join(self.cert_dir, "ca.crt"))

    @staticmethod
    def _write_auth_file(workdir: str, name: str, hosts: set[str], user: str, secret: str) -> str:
        encoded = base64.b64encode(f"{user}:{secret}".encode()).decode()
        path = os.path.join(workdir, f"{name}-auth.json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"auths": {host: {"auth": encoded} for host in sorted(hosts)}}, handle)
        return path

    def options(self, prefix: str = "") -> list[str]:
        """Options for ``copy`` (prefix "src-"/"dest-") or ``inspect`` (no prefix)."""
        args = [f"--{prefix}tls-verify={'true' if self.tls_verify else 'false'}"]
        if self.auth_file:
            args.append(f"--{prefix}authfile={self.auth_file}")
        if self.cert_dir:
            args.append(f"--{prefix}cert-dir={self.cert_dir}")
        return args


@dataclass
class _Run:
    """State of one CopyEngine.copy() call, so that calls never share credentials or outages."""

    src: _Side
    dest: _Side
    workdir: str
    dry_run: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    down: dict[str, str] = field(default_factory=dict)  # unreachable host -> why


class CopyEngine:
    """Runs copy plans; per-image failures are results, setup problems raise."""

    def __init__(self, src_auth: RegistryAuth | None = None,
                 dest_auth: RegistryAuth | None = None, parallel: int = 4, attempts: int = 5,
                 backoff: float = 1.0, progress: Callable[[CopyResult], None] | None = None,
                 *, require_same_digest: bool = False, all_platforms: bool = True,
                 timeout: float = 900.0, skopeo: str = "skopeo"):
        self.src_auth, self.dest_auth = src_auth, dest_auth
        self.parallel, self.attempts, self.backoff = max(1, parallel), max(1, attempts), backoff
        self.progress = progress
        # Restore must land every image under the digest the stream records: pods pin it.
        self.require_same_digest = require_same_digest
        # Copying every platform of a multi-platform image keeps its digest; with only the
        # host's platform the digest changes (backup records the new one, see record_digests).
        self.all_platforms = all_platforms
        self.timeout, self.skopeo = timeout, skopeo

    def copy(self, copies: list[ImageCopy], *, dry_run: bool = False) -> list[CopyResult]:
        """Copy (or with dry_run only check) every image; results in plan order."""
        if not copies:
            return []
        if shutil.which(self.skopeo) is None:
            raise ImageCopySetupError(f"{self.skopeo} was not found: install the skopeo "
                                      "package (bindep.txt)")
        results: list[CopyResult | None] = [None] * len(copies)
        workdir = tempfile.mkdtemp(prefix="imagestream-copy-")
        try:
            run = _Run(src=_Side(self.src_auth, {registry_host(c.src) for c in copies}, workdir,
                                 "src"),
                       dest=_Side(self.dest_auth, {registry_host(c.dest) for c in copies},
                                  workdir, "dest"),
                       workdir=workdir, dry_run=dry_run)
            repositories = _tag_groups(copies)
            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                # The first group of each repository runs alone: it brings the layers the
                # repository's images share, so that its other groups can then run side by
                # side without racing pushes of the same layers (docker-registry answers 500).
                firsts = {repository: pool.submit(self._first_group, run, copies, groups[0],
                                                  results)
                          for repository, groups in repositories.items()}
                tags = {repository: future.result() for repository, future in firsts.items()}
                rest = [pool.submit(self._run_group, run, copies, group, results, tags[repository])
                        for repository, groups in repositories.items() for group in groups[1:]]
                for future in rest:
                    future.result()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return [result for result in results if result is not None]

    def _first_group(self, run: _Run, copies: list[ImageCopy], group: list[int],
                     results: list[CopyResult | None]) -> set[str] | None:
        """List the repository's tags, run its first group; return the tags for the others."""
        tags = self._destination_tags(run, _repository(copies[group[0]].dest))
        self._run_group(run, copies, group, results, tags)
        return tags

    def _run_group(self, run: _Run, copies: list[ImageCopy], group: list[int],
                   results: list[CopyResult | None], tags: set[str] | None) -> None:
        """Copy one group (the images of a tag, or one by-digest image) in plan order.

        ``tags`` lists the repository's tags before the run (None when unknown): an image
        whose tag is missing needs no inspection.
        """
        moved = False  # an earlier copy of this group re-pointed the tag
        for index in group:
            item = copies[index]
            if not item.by_digest_only and (moved or (
                    tags is not None and _tag_of(item.dest) not in tags)):
                found, check_error = None, ""
            else:
                found, check_error = self._present(run, item, index == group[-1])
            if found:
                result = CopyResult(item, PRESENT, digest=found)
            elif run.dry_run:
                result = (CopyResult(item, FAILED, error=check_error) if check_error else
                          CopyResult(item, SKIPPED, reason="check mode: would be copied"))
            else:
                result = self._copy_with_retries(run, item)
            moved = moved or result.status in (COPIED, SKIPPED)
            results[index] = result
            if self.progress is not None:
                with run.lock:
                    self.progress(result)

    def _destination_tags(self, run: _Run, repository: str) -> set[str] | None:
        """Tags of a destination repository (empty when it does not exist), None when unknown.

        One listing per repository spares an inspection per image when the tag is missing,
        which is every image of a first run.
        """
        command = [self.skopeo, "list-tags", *run.dest.options(), repository]
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            return None
        if result.returncode == 0:
            try:
                return set(json.loads(result.stdout).get("Tags") or [])
            except ValueError:
                return None
        return set() if ABSENT.search(_skopeo_message(result.stderr)) else None

    @staticmethod
    def _expected_digest(item: ImageCopy) -> str:
        return item.image or item.src.rpartition("@")[2]

    def _target(self, item: ImageCopy) -> str:
        """Where the copy writes: by-digest copies are pushed by digest and move no tag."""
        if item.by_digest_only:
            return f"{_repository(item.dest)}@{self._expected_digest(item)}"
        return item.dest

    def _present(self, run: _Run, item: ImageCopy, is_last: bool) -> tuple[str | None, str]:
        """(digest, "") when the destination already holds the image as it should.

        The last copy of a tag must find the tag itself on the image; older images of the tag
        only need to exist in the repository, since the newer ones moved the tag on.
        """
        expected = self._expected_digest(item)
        if not DIGEST.match(expected):
            return None, ""
        if item.by_digest_only or not is_last:
            reference = f"{_repository(item.dest)}@{expected}"
        else:
            reference = item.dest
        digest, error = self._destination_digest(run, reference)
        return (digest if digest == expected else None), error

    def _destination_digest(self, run: _Run, reference: str) -> tuple[str | None, str]:
        """(digest of the manifest at ``reference`` or None when absent, error when unknown)."""
        command = [self.skopeo, "inspect", "--raw", *run.dest.options(), reference]
        try:
            result = subprocess.run(command, capture_output=True, timeout=self.timeout,
                                    check=False)
        except subprocess.TimeoutExpired:
            return None, f"checking {reference} timed out after {self.timeout:.0f}s"
        if result.returncode == 0:
            return "sha256:" + hashlib.sha256(result.stdout).hexdigest(), ""
        message = _skopeo_message(result.stderr.decode(errors="replace"))
        return None, ("" if ABSENT.search(message) else message)

    def _copy_with_retries(self, run: _Run, item: ImageCopy) -> CopyResult:
        hosts = (registry_host(item.src), registry_host(item.dest))
        error = ""
        for attempt in range(1, self.attempts + 1):
            with run.lock:
                down = next((run.down[h] for h in hosts if h in run.down), None)
            if down:
                return CopyResult(item, FAILED, attempts=attempt - 1,
                                  error=f"not copied: {down}" + (f"; {error}" if error else ""))
            if attempt > 1:
                time.sleep(min(self.backoff * 2 ** (attempt - 2), MAX_BACKOFF))
            digest, error, retry = self._copy_once(run, item)
            if digest:
                return CopyResult(item, COPIED, digest=digest, attempts=attempt)
            if not retry:
                return CopyResult(item, FAILED, error=error, attempts=attempt)
        if UNREACHABLE.search(error):
            with run.lock:
                for host in hosts:
                    if host in error:
                        why = f"registry {host} did not answer through {self.attempts} attempts"
                        run.down.setdefault(host, why)
        return CopyResult(item, FAILED, attempts=self.attempts,
                          error=f"failed after {self.attempts} attempts: {error}")

    def _copy_once(self, run: _Run, item: ImageCopy) -> tuple[str, str, bool]:
        """One ``skopeo copy``: (written digest, "", _) or ("", error, retry?)."""
        fd, digest_file = tempfile.mkstemp(dir=run.workdir, prefix="digest-")
        os.close(fd)
        command = [self.skopeo, "--insecure-policy", "copy", "--quiet",
                   f"--digestfile={digest_file}", *run.src.options("src-"),
                   *run.dest.options("dest-")]
        # A by-digest push is accepted only under the very digest it names.
        if self.require_same_digest or item.by_digest_only:
            command.append("--preserve-digests")
        if self.all_platforms or item.by_digest_only:
            command.append("--multi-arch=all")
        command += [item.src, self._target(item)]
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=self.timeout, check=False)
            with open(digest_file) as handle:
                digest = handle.read().strip()
        except subprocess.TimeoutExpired:
            return "", f"copy timed out after {self.timeout:.0f}s", True
        finally:
            os.unlink(digest_file)
        if result.returncode != 0:
            message = _skopeo_message(result.stderr)
            if AUTH_REFUSED.search(message):
                return "", ("a registry refused the credentials (check src_auth and "
                            f"dest_auth): {message}"), False
            return "", message, True
        return self._check_digest(item, digest)

    def _check_digest(self, item: ImageCopy, digest: str) -> tuple[str, str, bool]:
        if not DIGEST.match(digest):
            return "", f"skopeo reported no valid digest for the copy ({digest!r})", True
        expected = self._expected_digest(item)
        if digest != expected and (self.require_same_digest or item.by_digest_only):
            return "", (f"the destination stored digest {digest} but the stream records "
                        f"{expected}"), False
        return digest, "", False
