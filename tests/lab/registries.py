"""Start and stop local container registries (Debian's ``docker-registry``) for tests and the lab.

Each registry listens on 127.0.0.1 with its own directory holding a config file, its storage,
its log and (when asked for) an htpasswd file or a TLS certificate signed by a CA made at run
time with openssl. Nothing is installed system-wide; stopping a registry kills its process.

Library use::

    from tests.lab.registries import start_registry
    reg = start_registry("migration", Path("/tmp/state"), htpasswd=True)
    ... reg.address, reg.username, reg.password ...
    reg.stop()

Command line (what tests/lab/lab.sh calls)::

    python tests/lab/registries.py start  --state DIR [--base-port 5100]
    python tests/lab/registries.py status --state DIR
    python tests/lab/registries.py stop   --state DIR [--purge]

``start`` runs the lab's three registries and writes ``DIR/registries.json`` (mode 0600): for
each name its ``address`` (host:port as written in image references), ``url``, ``port``,
``pid``, ``tls``, ``ca_file``, ``username``, ``password``, ``config``, ``log`` and ``storage``.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

REGISTRY_BINARY = "docker-registry"
LAB_FILE = "registries.json"
# The lab's three roles: the source cluster's internal registry, the migration registry the
# backup copies into, and the destination cluster's internal registry.
LAB_LAYOUT = {
    "source-internal": {"htpasswd": False, "tls": False},
    "migration": {"htpasswd": True, "tls": False},
    "destination-internal": {"htpasswd": False, "tls": True},
}


class RegistryError(RuntimeError):
    """A registry could not be prepared, started or stopped."""


@dataclass
class Registry:
    name: str
    root: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    pid: int | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @property
    def config(self) -> str:
        return os.path.join(self.root, "config.yml")

    @property
    def log(self) -> str:
        return os.path.join(self.root, "registry.log")

    @property
    def storage(self) -> str:
        return os.path.join(self.root, "storage")

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(address=self.address, url=self.url, config=self.config, log=self.log,
                    storage=self.storage)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Registry:
        names = {"name", "root", "port", "tls", "username", "password", "ca_file", "pid"}
        return cls(**{k: v for k, v in data.items() if k in names})

    def is_running(self) -> bool:
        return self.pid is not None and _pid_alive(self.pid)

    def start(self, timeout: float = 30.0) -> Registry:
        """Start the process (config already written) and wait until /v2/ answers."""
        if shutil.which(REGISTRY_BINARY) is None:
            raise RegistryError(f"{REGISTRY_BINARY} not found: install the Debian package "
                                "docker-registry (make system-deps)")
        with open(self.log, "ab") as log:
            process = subprocess.Popen([REGISTRY_BINARY, "serve", self.config], stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        self.pid = process.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RegistryError(f"registry {self.name} exited with {process.returncode} "
                                    f"on start: see {self.log}")
            if self.answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RegistryError(f"registry {self.name} did not answer on {self.url}/v2/ within "
                            f"{timeout:.0f}s: see {self.log}")

    def answers(self) -> bool:
        """True when /v2/ responds (200, or 401 when authentication is on)."""
        context = ssl.create_default_context(cafile=self.ca_file) if self.tls else None
        try:
            with urllib.request.urlopen(f"{self.url}/v2/", timeout=2, context=context):
                return True
        except urllib.error.HTTPError as error:
            return error.code == 401
        except (OSError, ssl.SSLError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Kill the process (TERM, then KILL); data stays in root."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while _pid_alive(pid):
            time.sleep(0.05)


def _pid_alive(pid: int) -> bool:
    try:
        # Reap our own child if it has exited, so a zombie does not count as running.
        done = os.waitpid(pid, os.WNOHANG)[0]
        if done == pid:
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str], stdin: str | None = None) -> None:
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RegistryError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def make_ca(directory: Path) -> tuple[str, str]:
    """Create a throw-away certificate authority; return (certificate, key) paths."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "ca.crt", directory / "ca.key"
    if not cert.exists():
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
              "-days", "30", "-subj", "/CN=openshift-migration-velero lab CA",
              "-keyout", str(key), "-out", str(cert)])
        key.chmod(0o600)
    return str(cert), str(key)


def issue_server_certificate(ca: tuple[str, str], directory: Path) -> tuple[str, str]:
    """Issue a certificate for 127.0.0.1/localhost signed by ``ca``; return (cert, key)."""
    cert, key, request = directory / "tls.crt", directory / "tls.key", directory / "tls.csr"
    extensions = directory / "tls.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                          "extendedKeyUsage=serverAuth\n")
    _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
          "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(request)])
    key.chmod(0o600)
    _run(["openssl", "x509", "-req", "-in", str(request), "-CA", ca[0], "-CAkey", ca[1],
          "-CAcreateserial", "-days", "30", "-sha256", "-extfile", str(extensions),
          "-out", str(cert)])
    return str(cert), str(key)


def write_htpasswd(path: Path, username: str, password: str) -> None:
    # -i reads the password from stdin so that it never appears in a process listing.
    _run(["htpasswd", "-c", "-B", "-i", str(path), username], stdin=password)
    path.chmod(0o600)


def prepare_registry(name: str, state_dir: Path, *, port: int | None = None,
                     htpasswd: bool = False, tls: bool = False,
                     ca: tuple[str, str] | None = None) -> Registry:
    """Write the config, credentials and certificates of one registry under state_dir/name."""
    root = (state_dir / name).resolve()
    (root / "storage").mkdir(parents=True, exist_ok=True)
    registry = Registry(name=name, root=str(root), port=port or free_port(), tls=tls)
    http: dict = {"addr": registry.address, "secret": secrets.token_hex(16),
                  "headers": {"X-Content-Type-Options": ["nosniff"]}}
    config: dict = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": registry.storage},
                    "delete": {"enabled": True},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": http,
    }
    if htpasswd:
        registry.username, registry.password = "migration", secrets.token_urlsafe(18)
        write_htpasswd(root / "htpasswd", registry.username, registry.password)
        config["auth"] = {"htpasswd": {"realm": f"{name}-realm", "path": str(root / "htpasswd")}}
    if tls:
        ca = ca or make_ca(state_dir.resolve() / "ca")
        cert, key = issue_server_certificate(ca, root)
        http["tls"] = {"certificate": cert, "key": key}
        registry.ca_file = ca[0]
    # JSON is valid YAML, so the config needs no YAML library here.
    Path(registry.config).write_text(json.dumps(config, indent=2) + "\n")
    return registry


def start_registry(name: str, state_dir: Path, *, port: int | None = None,
                   htpasswd: bool = False, tls: bool = False,
                   ca: tuple[str, str] | None = None) -> Registry:
    """Prepare and start one registry; return it once /v2/ answers."""
    registry = prepare_registry(name, state_dir, port=port, htpasswd=htpasswd, tls=tls, ca=ca)
    return registry.start()


def load_lab(state_dir: Path) -> dict[str, Registry]:
    path = state_dir / LAB_FILE
    if not path.exists():
        return {}
    return {name: Registry.from_dict(data) for name, data in json.loads(path.read_text()).items()}


def save_lab(state_dir: Path, registries: dict[str, Registry]) -> None:
    path = state_dir / LAB_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({name: reg.to_dict() for name, reg in registries.items()}, handle, indent=2)
        handle.write("\n")


def start_lab(state_dir: Path, base_port: int | None = None) -> dict[str, Registry]:
    """Start the three lab registries (idempotent: running ones are kept)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    registries = load_lab(state_dir)
    for offset, (name, layout) in enumerate(LAB_LAYOUT.items()):
        current = registries.get(name)
        if current is not None and current.is_running() and current.answers():
            continue
        if current is not None:
            current.stop()
        port = base_port + offset if base_port else (current.port if current else None)
        registries[name] = start_registry(name, state_dir, port=port, **layout)
        save_lab(state_dir, registries)
    return registries


def stop_lab(state_dir: Path, purge: bool = False) -> None:
    registries = load_lab(state_dir)
    for registry in registries.values():
        registry.stop()
    if purge:
        for registry in registries.values():
            shutil.rmtree(registry.root, ignore_errors=True)
        shutil.rmtree(state_dir / "ca", ignore_errors=True)
        (state_dir / LAB_FILE).unlink(missing_ok=True)
    elif registries:
        save_lab(state_dir, registries)


def _status(state_dir: Path) -> int:
    registries = load_lab(state_dir)
    for name, registry in registries.items():
        state = "up" if registry.is_running() and registry.answers() else "down"
        print(f"{name:22} {registry.url:28} {state}")
    return 0 if registries and all(r.is_running() for r in registries.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--state", required=True, type=Path, help="directory for the lab state")
    parser.add_argument("--base-port", type=int, help="ports base, base+1, base+2 (default: free ports)")
    parser.add_argument("--purge", action="store_true", help="stop: also delete the stored images")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            for name, registry in start_lab(args.state, args.base_port).items():
                print(f"{name:22} {registry.url}")
            print(f"details in {args.state / LAB_FILE}")
            return 0
        if args.command == "stop":
            stop_lab(args.state, args.purge)
            return 0
        return _status(args.state)
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
