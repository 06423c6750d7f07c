"""The local lab: two clusters with Velero, one S3 server and three registries on 127.0.0.1.

    python tests/lab/lab.py up | down | status

``up`` is idempotent (running parts are kept) and ends by writing ``<state>/lab.json``, the
machine-readable description of every endpoint (see tests/lab/README.md). ``down`` stops every
process the lab started and deletes the state folder (``LAB_KEEP_STATE=1`` keeps it).
The state folder is ``$LAB_STATE``, by default ``~/.cache/openshift-migration-velero/lab-state``.
``down`` and ``status`` need only the standard library; ``up`` needs the test venv.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import procs
import registries
import s3server
from cluster import Cluster, ClusterPorts

LAB_DIR = Path(__file__).resolve().parent
STATE = Path(os.environ.get("LAB_STATE", Path.home() / ".cache/openshift-migration-velero/lab-state"))
STATE_FILE = STATE / "lab.json"

# LAB_PORT_OFFSET shifts every port, so a second lab (another LAB_STATE) can run beside the first.
OFFSET = int(os.environ.get("LAB_PORT_OFFSET", "0"))
S3_PORT = 19000 + OFFSET  # the MinIO console takes the next port
S3_BUCKET = "velero"
S3_PREFIX = "velero"
# A second bucket for tests that write their own objects: unknown top-level folders under the
# Velero location's prefix would make the location unavailable.
S3_SCRATCH_BUCKET = "scratch"
REGISTRY_BASE_PORT = 5001 + OFFSET  # source-internal 5001, migration 5002, destination-internal 5003
SAMPLE_NAMESPACE = "sample-app"


def _ports(*ports: int) -> list[int]:
    return [port + OFFSET for port in ports]


CLUSTERS = {
    "source": {"ports": ClusterPorts(*_ports(23790, 23800, 16443, 10357)),
               "service_cidr": "10.96.0.0/24", "velero_ports": tuple(_ports(18085, 16060)),
               "registry": "source-internal", "openshift_version": "4.12.30"},
    "destination": {"ports": ClusterPorts(*_ports(23791, 23801, 26443, 10358)),
                    "service_cidr": "10.97.0.0/24", "velero_ports": tuple(_ports(18086, 16061)),
                    "registry": "destination-internal", "openshift_version": "4.16.10"},
}


def log(message: str) -> None:
    print(f"[lab {time.strftime('%H:%M:%S')}] {message}", flush=True)


def binaries() -> dict[str, str]:
    out = subprocess.run([str(LAB_DIR / "build.sh"), "paths"], capture_output=True, text=True,
                         check=True).stdout
    paths = dict(line.split("=", 1) for line in out.split())
    return {"etcd": paths["ETCD_BIN"], "kube-apiserver": paths["KUBE_APISERVER_BIN"],
            "kube-controller-manager": paths["KUBE_CONTROLLER_MANAGER_BIN"],
            "velero": paths["VELERO_BIN"], "velero-plugin-dir": paths["VELERO_PLUGIN_DIR"],
            "velero-version": paths["VELERO_VERSION"], "kubectl": paths["KUBECTL_BIN"]}


# Binaries the lab runs; kubectl is only offered to people (see the state file's "tools").
REQUIRED = ("etcd", "kube-apiserver", "kube-controller-manager", "velero", "velero-plugin-dir")


def make_cluster(name: str, bins: dict[str, str]) -> Cluster:
    layout = CLUSTERS[name]
    return Cluster(name=name, state=STATE, ports=layout["ports"],
                   service_cidr=layout["service_cidr"], binaries=bins)


def up() -> dict:
    started = time.monotonic()
    bins = binaries()
    missing = [bins[key] for key in REQUIRED if not Path(bins[key]).exists()]
    if missing:
        raise procs.LabError(f"not built: {missing}; run tests/lab/build.sh (make lab-build)")
    STATE.mkdir(parents=True, exist_ok=True)
    STATE.chmod(0o700)

    s3 = s3server.start_s3_server(S3_PORT, STATE / "s3" / "data",
                                  buckets=[S3_BUCKET, S3_SCRATCH_BUCKET])
    credentials = write_s3_credentials(s3)
    log(f"S3 (MinIO) on {s3.endpoint}")
    regs = registries.start_lab(STATE / "registries", REGISTRY_BASE_PORT)
    log("registries: " + ", ".join(f"{n} {r.url}" for n, r in regs.items()))

    clusters = {name: make_cluster(name, bins) for name in CLUSTERS}
    for cluster in clusters.values():
        cluster.start()
        log(f"cluster {cluster.name}: {cluster.api_url}")

    # The Kubernetes client is only needed from here on (down and status work without the venv).
    import setup_cluster

    cli_digests = {}
    for name, cluster in clusters.items():
        registry = regs[CLUSTERS[name]["registry"]]
        cli_digests[name] = setup_cluster.install_platform(
            cluster, registry, STATE / "images", CLUSTERS[name]["openshift_version"])
        server = setup_cluster.velero_server(cluster, bins, CLUSTERS[name]["velero_ports"],
                                             s3, S3_BUCKET, S3_PREFIX, credentials)
        setup_cluster.install_velero(server)
        log(f"cluster {name}: OpenShift CRDs, platform objects and Velero ready")
    sample = setup_cluster.install_sample_app(
        clusters["source"], regs["source-internal"], STATE / "images", LAB_DIR / "sample-app",
        cli_digests["source"])
    log(f"sample application in namespace {SAMPLE_NAMESPACE} on the source")

    state = describe(clusters, s3, credentials, regs, sample)
    state["tools"] = {"velero": bins["velero"],
                      "kubectl": bins["kubectl"] if Path(bins["kubectl"]).exists() else None}
    write_private(STATE_FILE, state)
    log(f"lab up in {time.monotonic() - started:.0f} s; state: {STATE_FILE}")
    return state


def write_s3_credentials(s3: s3server.S3Server) -> Path:
    path = STATE / "s3" / "credentials"
    text = (f"[default]\naws_access_key_id = {s3.access_key}\n"
            f"aws_secret_access_key = {s3.secret_key}\n")
    write_private_text(path, text)
    return path


def describe(clusters: dict[str, Cluster], s3, credentials: Path, regs, sample: dict) -> dict:
    """The lab.json document; its keys are documented in tests/lab/README.md."""
    versions = dict(line.split("=", 1) for line in (LAB_DIR / "versions.env").read_text().split("\n")
                    if line and not line.startswith("#") and "=" in line)
    return {
        "schema": 1,
        "state_dir": str(STATE),
        "clusters": {name: {
            "api_url": cluster.api_url,
            "kubeconfig": str(cluster.kubeconfig),
            "token": cluster.token,
            "ca_file": str(cluster.ca_file),
            "etcd_url": cluster.etcd_url,
            "server_version": ".".join(versions["KUBERNETES_VERSION"].lstrip("v").split(".")[:2]),
            "openshift_version": CLUSTERS[name]["openshift_version"],
            "registry": CLUSTERS[name]["registry"],
            "registry_hostname": regs[CLUSTERS[name]["registry"]].address,
            "velero": {"namespace": "velero", "backup_storage_location": "default",
                       "metrics_url": f"http://127.0.0.1:{CLUSTERS[name]['velero_ports'][0]}/metrics",
                       "log": str(procs.log_file(STATE, cluster.process("velero")))},
        } for name, cluster in clusters.items()},
        "s3": {"endpoint": s3.endpoint, "region": s3.region, "access_key": s3.access_key,
               "secret_key": s3.secret_key, "bucket": S3_BUCKET, "prefix": S3_PREFIX,
               "scratch_bucket": S3_SCRATCH_BUCKET, "credentials_file": str(credentials),
               "data_dir": s3.data_dir},
        "registries": {name: reg.to_dict() for name, reg in regs.items()},
        "sample": sample,
        "versions": {k.lower(): v.strip('"') for k, v in versions.items()
                     if k.endswith("_VERSION")},
    }


def down() -> None:
    """Stop everything the lab started (also after a failed or partial up)."""
    pids = STATE / "pids"
    names = sorted(p.stem for p in pids.glob("*.pid")) if pids.exists() else []
    # Velero first (it talks to the API servers and S3), then controllers, API servers, etcd.
    order = ("velero", "controller-manager", "apiserver", "etcd")
    names.sort(key=lambda n: next((i for i, s in enumerate(order) if n.endswith("-" + s)), 99))
    for name in names:
        if procs.stop(STATE, name):
            log(f"stopped {name}")
    s3server.stop_s3_server(STATE / "s3" / "data")
    registries.stop_lab(STATE / "registries", purge=False)
    if os.environ.get("LAB_KEEP_STATE") == "1":
        log(f"kept the state in {STATE}")
    elif STATE.exists():
        shutil.rmtree(STATE)
        log(f"removed {STATE}")


def status() -> int:
    healthy = True
    pids = STATE / "pids"
    for path in sorted(pids.glob("*.pid")) if pids.exists() else []:
        running = procs.running_pid(STATE, path.stem) is not None
        healthy &= running
        print(f"{path.stem:32} {'up' if running else 'down'}")
    server = s3server.load_s3_server(STATE / "s3" / "data")
    s3_up = bool(server and server.is_running() and server.answers())
    healthy &= s3_up
    print(f"{'s3 ' + (server.endpoint if server else ''):32} {'up' if s3_up else 'down'}")
    healthy &= registries._status(STATE / "registries") == 0
    if STATE_FILE.exists():
        state = json.loads(STATE_FILE.read_text())
        for name, cluster in state["clusters"].items():
            ready = procs.http_ok(cluster["api_url"] + "/readyz", cluster["token"])
            healthy &= ready
            print(f"{'api ' + name:32} {cluster['api_url']} {'ready' if ready else 'not ready'}")
        print(f"state file: {STATE_FILE}")
    else:
        healthy = False
        print(f"no state file ({STATE_FILE}): the lab is not up")
    return 0 if healthy else 1


def write_private(path: Path, data: dict) -> None:
    write_private_text(path, json.dumps(data, indent=2) + "\n")


def write_private_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    try:
        if command == "up":
            up()
            return 0
        if command == "down":
            down()
            return 0
        if command == "status":
            return status()
    except (procs.LabError, s3server.S3ServerError, registries.RegistryError) as error:
        print(f"lab {command} failed: {error}", file=sys.stderr)
        return 1
    print(f"usage: {argv and argv[0]} up|down|status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
