"""Helpers of the preflight tests: run the module as Ansible does, lab clients, a bare extra cluster."""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from kubernetes import config
from kubernetes.dynamic import DynamicClient

ANSIBLE = Path(sys.executable).parent / "ansible"
LAB_DIR = Path(__file__).resolve().parents[2] / "lab"


def run_module(args: dict, check: bool = False) -> dict:
    """The result of one migration_preflight run (``failed`` set when it failed)."""
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    command = [str(ANSIBLE), "localhost", "-m", "openshift_migration.velero.migration_preflight", "-a", json.dumps(args)]
    if check:
        command.append("--check")
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(process.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as error:
        raise AssertionError(f"no result: {error}\nstdout: {process.stdout}\nstderr: {process.stderr}") from error


def client_for(kubeconfig: str) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(config_file=kubeconfig))


def closed_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, what: str, timeout: float = 120.0, sleep: float = 1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(sleep)


def _lab_module(name: str):
    """A module of tests/lab (they import each other by bare name, so that folder goes on sys.path)."""
    if str(LAB_DIR) not in sys.path:
        sys.path.insert(0, str(LAB_DIR))
    spec = importlib.util.spec_from_file_location(f"preflight_lab_{name}", LAB_DIR / f"{name}.py")
    if spec.name not in sys.modules:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[spec.name]


def start_bare_cluster(state: Path):
    """etcd + kube-apiserver (+ controller-manager) of the lab's build, without CRDs: no Velero, no OpenShift kinds."""
    cluster_module = _lab_module("cluster")
    binaries = _lab_module("lab").binaries()
    ports = cluster_module.ClusterPorts(closed_port(), closed_port(), closed_port(), closed_port())
    cluster = cluster_module.Cluster(name="bare", state=state, ports=ports, service_cidr="10.98.0.0/24",
                                     binaries=binaries)
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        raise
    return cluster
