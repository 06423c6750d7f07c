"""Fixtures shared by the tests against the local lab (tests/lab): its state and API clients.

The lab must be up (``make lab-up``; ``make integration`` does it). A missing lab is an error,
not a skip. The image-copy tests start their own registries and override ``lab``.
"""
from __future__ import annotations

import secrets

import pytest
from kubernetes import config
from kubernetes.dynamic import DynamicClient

from tests.lab.migrate_vars import lab_state_file, load_lab


@pytest.fixture(scope="session")
def lab() -> dict:
    if not lab_state_file().exists():
        pytest.fail(f"the lab is not up ({lab_state_file()} is missing): run `make lab-up` first")
    return load_lab()


@pytest.fixture(scope="session")
def suffix() -> str:
    """Makes this run's namespaces, Backups and Restores unique, so reruns never clash."""
    return secrets.token_hex(3)


def lab_client(lab: dict, name: str) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(config_file=lab["clusters"][name]["kubeconfig"]))


@pytest.fixture(scope="session")
def source(lab) -> DynamicClient:
    return lab_client(lab, "source")


@pytest.fixture(scope="session")
def destination(lab) -> DynamicClient:
    return lab_client(lab, "destination")
