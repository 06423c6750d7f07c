"""Helpers of the workload tests: run a module as Ansible does, create and read objects on the lab."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from kubernetes import config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

ANSIBLE = Path(sys.executable).parent / "ansible"
RESTORE_NAME_LABEL = "velero.io/restore-name"


def client_for(lab: dict, cluster: str) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(config_file=lab["clusters"][cluster]["kubeconfig"]))


def run_module(module: str, args: dict, check: bool = False, diff: bool = False) -> dict:
    """The result of one module run (``failed`` set when it failed)."""
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    command = [str(ANSIBLE), "localhost", "-m", f"openshift_migration.velero.{module}", "-a", json.dumps(args)]
    command += (["--check"] if check else []) + (["--diff"] if diff else [])
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    try:
        output = json.loads(process.stdout)
        return output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as error:
        raise AssertionError(f"no result from {module}: {error}\nstdout: {process.stdout}\nstderr: {process.stderr}") from error


def sample_workloads(lab: dict, namespace: str) -> list[dict]:
    """The controllers of the lab's sample application (tests/lab/sample-app/50-workloads.yaml), moved to ``namespace``."""
    images = lab["sample"]["images"]
    substitutions = {"REGISTRY": lab["sample"]["registry"],
                     "FRONTEND_LATEST": images["sample-app/frontend:latest"].split("@")[1],
                     "FRONTEND_V1": images["sample-app/frontend:v1"].split("@")[1],
                     "BACKEND_LATEST": images["sample-app/backend:latest"].split("@")[1],
                     "CLI_LATEST": images["openshift/cli:latest"].split("@")[1]}
    text = (Path(lab["sample"]["manifests"]) / "50-workloads.yaml").read_text()
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    text = text.replace(f"namespace: {lab['sample']['namespace']}", f"namespace: {namespace}")
    items = [item for doc in yaml.safe_load_all(text) if doc for item in doc.get("items", [doc])]
    kinds = {"DeploymentConfig", "ReplicationController", "Deployment", "StatefulSet", "CronJob"}
    return [item for item in items if item["kind"] in kinds]


def create(client: DynamicClient, doc: dict) -> dict:
    resource = client.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    namespace = doc["metadata"].get("namespace") if resource.namespaced else None
    status = doc.get("status")
    body = {key: value for key, value in doc.items() if key != "status"}
    created = resource.create(body=body, namespace=namespace).to_dict()
    if status and "status" in resource.subresources:
        path = resource.path(name=doc["metadata"]["name"], namespace=namespace) + "/status"
        client.request("patch", path, body={"status": status}, content_type="application/merge-patch+json")
    return created


def read(client: DynamicClient, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
    try:
        return client.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def delete(client: DynamicClient, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
    try:
        client.resources.get(api_version=api_version, kind=kind).delete(name=name, namespace=namespace)
    except NotFoundError:
        pass


def wait_for(condition, timeout: float = 60, what: str = "condition"):
    """Poll ``condition()`` until it returns something true; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:g} s")
        time.sleep(0.5)


def labelled(client: DynamicClient, kinds: list[tuple[str, str]], restore: str) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of the objects of ``kinds`` carrying the restore label."""
    found = set()
    for api_version, kind in kinds:
        resource = client.resources.get(api_version=api_version, kind=kind)
        for item in resource.get(label_selector=f"{RESTORE_NAME_LABEL}={restore}").to_dict()["items"]:
            found.add((kind, item["metadata"].get("namespace") or "", item["metadata"]["name"]))
    return found
