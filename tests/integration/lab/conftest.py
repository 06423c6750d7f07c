"""Fixtures for tests against the local lab (tests/lab): its state file and API clients.

The lab must be up (``make lab-up``; ``make integration`` does it). A missing lab is an error,
not a skip: these tests are the lab's acceptance test.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from kubernetes import config
from kubernetes.dynamic import DynamicClient

DEFAULT_STATE = Path.home() / ".cache/openshift-migration-velero/lab-state"


def lab_state_file() -> Path:
    return Path(os.environ.get("LAB_STATE", DEFAULT_STATE)) / "lab.json"


@pytest.fixture(scope="session")
def lab() -> dict:
    path = lab_state_file()
    if not path.exists():
        pytest.fail(f"the lab is not up ({path} is missing): run `make lab-up` first")
    return json.loads(path.read_text())


def _client(lab: dict, name: str) -> DynamicClient:
    api = config.new_client_from_config(config_file=lab["clusters"][name]["kubeconfig"])
    return DynamicClient(api)


@pytest.fixture(scope="session")
def source(lab) -> DynamicClient:
    return _client(lab, "source")


@pytest.fixture(scope="session")
def destination(lab) -> DynamicClient:
    return _client(lab, "destination")
