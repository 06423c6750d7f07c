"""Fixtures of the workload_quiesce and restore_rollback tests: the lab's state file and its clients.

The modules run as Ansible runs them (``ansible localhost -m``, workload_helpers.py) with the lab's
kubeconfigs. Every test works in namespaces of its own, named with this run's suffix, and removes
them afterwards; the lab's ``sample-app`` namespace is only read. The lab must be up
(``make lab-up``): a missing lab is an error, not a skip.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest
from workload_helpers import client_for

DEFAULT_STATE = Path.home() / ".cache/openshift-migration-velero/lab-state"


@pytest.fixture(scope="session")
def lab() -> dict:
    path = Path(os.environ.get("LAB_STATE", DEFAULT_STATE)) / "lab.json"
    if not path.exists():
        pytest.fail(f"the lab is not up ({path} is missing): run `make lab-up` first")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def suffix() -> str:
    """Makes this run's namespaces, Backups and Restores unique, so reruns and parallel runs never clash."""
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def source(lab):
    return client_for(lab, "source")


@pytest.fixture(scope="session")
def destination(lab):
    return client_for(lab, "destination")
