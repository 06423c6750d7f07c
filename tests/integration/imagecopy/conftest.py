"""Fixtures of the image copy tests: real registries and an image builder.

Each test gets the lab's three registries of its own (tests/lab/registries.py), so tests that
break a registry or fill one leave the others alone: the source cluster's internal registry
(plain HTTP), the migration registry (htpasswd) and the destination cluster's internal registry
(TLS with a CA made at run time).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from imagecopy_helpers import Lab, start_lab

from tests.lab.images import ImageBuilder


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("imagecopy-lab")


@pytest.fixture(scope="session")
def builder(lab_root) -> ImageBuilder:
    return ImageBuilder(lab_root / "layouts")


@pytest.fixture
def lab(tmp_path) -> Lab:
    """Fresh registries for one test (each starts in well under a second)."""
    registries = start_lab(tmp_path / "registries")
    yield registries
    for registry in (registries.source, registries.migration, registries.destination):
        registry.stop()
