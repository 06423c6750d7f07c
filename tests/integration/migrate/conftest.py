"""Fixtures of the migration playbook tests: the lab and API clients.

The lab must be up (``make lab-up``; ``make integration`` does it); a missing lab is an error.
"""
from __future__ import annotations

import pytest
from kubernetes import config
from kubernetes.dynamic import DynamicClient

from tests.lab.migrate_vars import load_lab


@pytest.fixture(scope="session")
def lab() -> dict:
    return load_lab()


def _client(lab: dict, name: str) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(config_file=lab["clusters"][name]["kubeconfig"]))


@pytest.fixture(scope="session")
def source(lab) -> DynamicClient:
    return _client(lab, "source")


@pytest.fixture(scope="session")
def destination(lab) -> DynamicClient:
    return _client(lab, "destination")
