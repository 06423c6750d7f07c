"""One lab cluster: etcd, kube-apiserver and kube-controller-manager on loopback.

Authentication is a static token (system:masters) generated at start into the cluster's state
folder; service-account tokens are signed with a key made there too. No kubelet runs, so pods
stay Pending: the lab is for resource-level backups and restores.
"""
from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import procs


@dataclass(frozen=True)
class ClusterPorts:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int


@dataclass
class Cluster:
    name: str
    state: Path          # the lab state folder (pids/ and logs/ live there)
    ports: ClusterPorts
    service_cidr: str
    binaries: dict[str, str]

    @property
    def root(self) -> Path:
        return self.state / self.name

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.etcd_client}"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def ca_file(self) -> Path:
        # kube-apiserver writes a self-signed certificate followed by its CA here.
        return self.root / "pki" / "apiserver.crt"

    @property
    def token(self) -> str:
        return (self.root / "admin.token").read_text().strip()

    def process(self, component: str) -> str:
        return f"{self.name}-{component}"

    def prepare(self) -> None:
        """Create keys and the admin token once; later starts reuse them (and etcd's data)."""
        for folder in ("etcd", "pki", "kcm-pki"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        key = self.root / "sa.key"
        if not key.exists():
            _run(["openssl", "genrsa", "-out", str(key), "2048"])
            _run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(self.root / "sa.pub")])
            key.chmod(0o600)
        token_path = self.root / "admin.token"
        if not token_path.exists():
            token_path.write_text(secrets.token_hex(24) + "\n")
            token_path.chmod(0o600)
        tokens = self.root / "tokens.csv"
        tokens.write_text(f'{self.token},lab-admin,lab-admin-uid,"system:masters"\n')
        tokens.chmod(0o600)

    def start(self) -> None:
        self.prepare()
        self._start_etcd()
        self._start_apiserver()
        self._write_kubeconfig()
        self._start_controller_manager()

    def stop(self) -> None:
        # Reverse order: controllers first, etcd last, so nothing logs storage errors on the way.
        for component in ("controller-manager", "apiserver", "etcd"):
            procs.stop(self.state, self.process(component))

    def _start_etcd(self) -> None:
        name = self.process("etcd")
        if procs.running_pid(self.state, name) is None:
            peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
            procs.start(self.state, name, [
                self.binaries["etcd"], "--name", self.name, "--data-dir", str(self.root / "etcd"),
                "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"{self.name}={peer}",
                # A throw-away lab: durability is not worth the fsync latency on a shared disk.
                "--unsafe-no-fsync", "--log-level", "warn",
            ])
        procs.wait_until(lambda: procs.http_ok(f"{self.etcd_url}/health"),
                         f"answer on {self.etcd_url}/health", 30, self.state, name)

    def _start_apiserver(self) -> None:
        name = self.process("apiserver")
        if procs.running_pid(self.state, name) is None:
            root = self.root
            procs.start(self.state, name, [
                self.binaries["kube-apiserver"], "--etcd-servers", self.etcd_url,
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
                "--secure-port", str(self.ports.apiserver), "--cert-dir", str(root / "pki"),
                "--service-cluster-ip-range", self.service_cidr, "--allow-privileged",
                "--service-account-issuer", "https://kubernetes.default.svc",
                "--service-account-key-file", str(root / "sa.pub"),
                "--service-account-signing-key-file", str(root / "sa.key"),
                "--token-auth-file", str(root / "tokens.csv"), "--authorization-mode", "RBAC",
                # Without kubelets no token volume can be mounted; envtest does the same.
                "--disable-admission-plugins", "ServiceAccount",
                "--storage-media-type", "application/json",
            ])
        procs.wait_until(lambda: procs.http_ok(f"{self.api_url}/readyz", self.token),
                         f"get ready on {self.api_url}/readyz", 90, self.state, name)

    def _write_kubeconfig(self) -> None:
        text = f"""apiVersion: v1
kind: Config
clusters:
- name: {self.name}
  cluster:
    server: {self.api_url}
    certificate-authority: {self.ca_file}
users:
- name: lab-admin
  user:
    token: {self.token}
contexts:
- name: {self.name}
  context:
    cluster: {self.name}
    user: lab-admin
current-context: {self.name}
"""
        self.kubeconfig.write_text(text)
        self.kubeconfig.chmod(0o600)

    def _start_controller_manager(self) -> None:
        name = self.process("controller-manager")
        if procs.running_pid(self.state, name) is None:
            kubeconfig = str(self.kubeconfig)
            procs.start(self.state, name, [
                self.binaries["kube-controller-manager"], "--kubeconfig", kubeconfig,
                "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
                "--bind-address", "127.0.0.1", "--secure-port", str(self.ports.controller_manager),
                "--cert-dir", str(self.root / "kcm-pki"), "--leader-elect=false",
                "--cluster-name", self.name, "--service-cluster-ip-range", self.service_cidr,
                "--service-account-private-key-file", str(self.root / "sa.key"),
                "--root-ca-file", str(self.ca_file),
            ])
        url = f"https://127.0.0.1:{self.ports.controller_manager}/healthz"
        procs.wait_until(lambda: procs.http_ok(url), f"answer on {url}",
                         60, self.state, name)

    def is_up(self) -> bool:
        return procs.http_ok(f"{self.api_url}/readyz", self.token)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise procs.LabError(f"{' '.join(command)} failed: {result.stderr.strip()}")
