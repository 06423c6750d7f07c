"""Fixtures of the Velero module tests: the lab's state file and a runner for the modules.

The modules run as Ansible runs them (``ansible localhost -m``, velero_modules_helpers.py), with
the lab's kubeconfigs. The lab must be up (``make lab-up``): a missing lab is an error, not a skip.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

DEFAULT_STATE = Path.home() / ".cache/openshift-migration-velero/lab-state"


@pytest.fixture(scope="session")
def lab() -> dict:
    path = Path(os.environ.get("LAB_STATE", DEFAULT_STATE)) / "lab.json"
    if not path.exists():
        pytest.fail(f"the lab is not up ({path} is missing): run `make lab-up` first")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def suffix() -> str:
    """Makes the names of this run's Backups, Restores and namespaces unique, so reruns never clash."""
    return secrets.token_hex(3)
