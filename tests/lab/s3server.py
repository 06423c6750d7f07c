"""Start and stop a loopback S3 server (MinIO built from the Go module proxy) for tests and the lab.

Velero's AWS object-store plugin talks to it with path-style URLs, region ``us-east-1``.
The binary is built once by ``tests/lab/build.sh minio`` into
``$HOME/.cache/openshift-migration-velero/bin/minio-<version>/minio`` and reused afterwards.

Library use::

    from tests.lab.s3server import start_s3_server, stop_s3_server
    server = start_s3_server(9000, Path("/tmp/s3-data"), buckets=["velero"])
    ... server.endpoint, server.access_key, server.secret_key, server.region ...
    server.stop()            # or stop_s3_server(Path("/tmp/s3-data"))

Command line::

    python tests/lab/s3server.py build
    python tests/lab/s3server.py start  --port 9000 --data DIR [--bucket NAME]...
    python tests/lab/s3server.py status --data DIR
    python tests/lab/s3server.py stop   --data DIR

``start`` prints and writes ``DIR.s3server.json`` (beside DIR, mode 0600) with ``endpoint``,
``port``, ``access_key``, ``secret_key``, ``region``, ``buckets``, ``pid``, ``data_dir``, ``log``.
Data survives a stop; delete DIR to start empty.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
REGION = "us-east-1"


class S3ServerError(RuntimeError):
    """The S3 server could not be built, started or stopped."""


def _versions() -> dict[str, str]:
    values = {}
    for line in (LAB_DIR / "versions.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip().strip('"')
    return values


def minio_binary(build: bool = True) -> Path:
    """Path of the cached MinIO binary; build it first (slow, once) when missing and build=True."""
    cache = Path(os.environ.get("LAB_CACHE", Path.home() / ".cache/openshift-migration-velero"))
    folder = cache / "bin" / f"minio-{_versions()['MINIO_VERSION']}"
    if not (folder / ".complete").exists():
        if not build:
            raise S3ServerError(f"MinIO is not built ({folder}): run tests/lab/build.sh minio")
        result = subprocess.run([str(LAB_DIR / "build.sh"), "minio"], check=False)
        if result.returncode != 0:
            raise S3ServerError("building MinIO failed: see the output of tests/lab/build.sh minio")
    return folder / "minio"


@dataclass
class S3Server:
    port: int
    data_dir: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = REGION
    buckets: list[str] = field(default_factory=list)
    pid: int | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return f"{self.data_dir}.log"

    @property
    def state_file(self) -> Path:
        return state_file_for(Path(self.data_dir))

    def to_dict(self) -> dict:
        return {**asdict(self), "endpoint": self.endpoint, "log": self.log}

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/minio/health/live", timeout=2):
                return True
        except (OSError, urllib.error.HTTPError):
            return False

    def is_running(self) -> bool:
        return self.pid is not None and _pid_alive(self.pid)

    def create_bucket(self, name: str) -> None:
        """Create a bucket (no error when it already exists and is ours)."""
        status, body = _signed_request(self, "PUT", f"/{name}")
        if status not in (200, 409) or (status == 409 and b"BucketAlreadyOwnedByYou" not in body):
            raise S3ServerError(f"creating bucket {name} on {self.endpoint} failed: "
                                f"HTTP {status} {body[:300]!r}")
        if name not in self.buckets:
            self.buckets.append(name)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (TERM to its process group, then KILL); data stays in data_dir."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        _kill_group(pid, timeout)
        _write_private(self.state_file, self.to_dict())


def state_file_for(data_dir: Path) -> Path:
    data_dir = data_dir.resolve()
    return data_dir.parent / f"{data_dir.name}.s3server.json"


def load_s3_server(data_dir: Path) -> S3Server | None:
    path = state_file_for(data_dir)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    names = {"port", "data_dir", "access_key", "secret_key", "region", "buckets", "pid"}
    return S3Server(**{k: v for k, v in data.items() if k in names})


def start_s3_server(port: int, data_dir: Path, *, buckets: list[str] | tuple[str, ...] = (),
                    access_key: str | None = None, secret_key: str | None = None,
                    timeout: float = 60.0, build: bool = True) -> S3Server:
    """Start MinIO on 127.0.0.1:port serving data_dir, create buckets, return once it answers.

    A server already running for data_dir on the same port is reused. Credentials are generated
    when not given and kept in the state file, so a restart on the same data_dir keeps them.
    """
    data_dir = data_dir.resolve()
    previous = load_s3_server(data_dir)
    if previous and previous.is_running() and previous.answers() and previous.port == port:
        for bucket in buckets:
            previous.create_bucket(bucket)
        _write_private(previous.state_file, previous.to_dict())
        return previous
    if previous:
        previous.stop()
    binary = minio_binary(build)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = S3Server(
        port=port, data_dir=str(data_dir),
        access_key=access_key or (previous.access_key if previous else "lab-" + secrets.token_hex(6)),
        secret_key=secret_key or (previous.secret_key if previous else secrets.token_urlsafe(24)),
    )
    env = {**os.environ, "MINIO_ROOT_USER": server.access_key,
           "MINIO_ROOT_PASSWORD": server.secret_key, "MINIO_BROWSER": "off",
           "MINIO_UPDATE": "off", "MINIO_REGION": REGION}
    # The console address is pinned to loopback too; MinIO otherwise picks a port on all interfaces.
    command = [str(binary), "server", "--quiet", "--address", f"127.0.0.1:{port}",
               "--console-address", f"127.0.0.1:{port + 1}", str(data_dir)]
    with open(server.log, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server.pid = process.pid
    _write_private(server.state_file, server.to_dict())
    deadline = time.monotonic() + timeout
    while not server.answers():
        if process.poll() is not None:
            raise S3ServerError(f"MinIO exited with {process.returncode} on start; log: {server.log}")
        if time.monotonic() > deadline:
            server.stop()
            raise S3ServerError(f"MinIO did not answer on {server.endpoint} within "
                                f"{timeout:.0f} s; log: {server.log}")
        time.sleep(0.2)
    for bucket in buckets:
        server.create_bucket(bucket)
    _write_private(server.state_file, server.to_dict())
    return server


def stop_s3_server(data_dir: Path) -> None:
    server = load_s3_server(data_dir)
    if server is not None:
        server.stop()


def _signed_request(server: S3Server, method: str, path: str) -> tuple[int, bytes]:
    """One AWS Signature V4 request with an empty body (stdlib only, so the CLI needs no boto3)."""
    now = datetime.datetime.now(datetime.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = f"127.0.0.1:{server.port}"
    payload_hash = hashlib.sha256(b"").hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "",
                           signed, payload_hash])
    scope = f"{day}/{server.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + server.secret_key).encode()
    for part in (day, server.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={server.access_key}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    request = urllib.request.Request(server.endpoint + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _pid_alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(pid: int, timeout: float) -> None:
    # The server runs in its own session (start_new_session), so its group id is its pid.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.05)


def _write_private(path: Path, data: dict) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["build", "start", "stop", "status"])
    parser.add_argument("--port", type=int, default=9000, help="API port (console: port+1)")
    parser.add_argument("--data", type=Path, help="data directory (required except for build)")
    parser.add_argument("--bucket", action="append", default=[], help="bucket to create (repeat)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(minio_binary(build=True))
            return 0
        if args.data is None:
            parser.error("--data is required")
        if args.command == "start":
            server = start_s3_server(args.port, args.data, buckets=args.bucket)
            print(json.dumps(server.to_dict(), indent=2))
            return 0
        if args.command == "stop":
            stop_s3_server(args.data)
            return 0
        server = load_s3_server(args.data)
        up = bool(server and server.is_running() and server.answers())
        print(f"s3 {server.endpoint if server else '-':28} {'up' if up else 'down'}")
        return 0 if up else 1
    except S3ServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
