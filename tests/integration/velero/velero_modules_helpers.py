"""Helpers of the Velero module tests: run a module as Ansible does, lab clients, kubeconfig variants."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from kubernetes import config
from kubernetes.dynamic import DynamicClient

ANSIBLE = Path(sys.executable).parent / "ansible"


def client_for(lab: dict, cluster: str) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(config_file=lab["clusters"][cluster]["kubeconfig"]))


def run_module(module: str, args: dict, check: bool = False) -> dict:
    """The result of one module run (``failed`` set when it failed)."""
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    command = [str(ANSIBLE), "localhost", "-m", f"openshift_migration.velero.{module}", "-a", json.dumps(args)]
    if check:
        command.append("--check")
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    try:
        output = json.loads(process.stdout)
        return output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as error:
        raise AssertionError(f"no result from {module}: {error}\nstdout: {process.stdout}\nstderr: {process.stderr}") from error


def kubeconfig_variant(lab: dict, cluster: str, tmp_path: Path, server: str | None = None, token: str | None = None) -> str:
    """A copy of a lab kubeconfig pointing at another server or holding another token."""
    kubeconfig = yaml.safe_load(Path(lab["clusters"][cluster]["kubeconfig"]).read_text())
    for entry in kubeconfig["clusters"]:
        if server:
            entry["cluster"]["server"] = server
    for entry in kubeconfig["users"]:
        if token:
            entry["user"] = {"token": token}
    path = tmp_path / f"{cluster}-variant.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    path.chmod(0o600)
    return str(path)


def run_playbook(playbook: str, tmp_path: Path, check: bool = False) -> subprocess.CompletedProcess:
    """ansible-playbook on a playbook text, with the JSON callback (stdout is one JSON document)."""
    path = tmp_path / "playbook.yml"
    path.write_text(playbook)
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    command = [str(ANSIBLE.parent / "ansible-playbook"), str(path)] + (["--check"] if check else [])
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path)
