"""Fixtures shared by the module_utils tests."""
import pytest

from ansible_collections.openshift_migration.velero.plugins.module_utils import tarstream

from .backup_archives import sample_objects, write_backup_folder


@pytest.fixture
def bucket(tmp_path):
    """A local folder laid out like a bucket, holding backups/b1/ as Velero writes it."""
    root = tmp_path / "bucket"
    write_backup_folder(str(root / "velero" / "backups" / "b1"), "b1", sample_objects())
    return root


@pytest.fixture(params=["zlib", "isal"])
def codec(request, monkeypatch):
    """Archives inflated and deflated by zlib, then by ISA-L (the isal library, installed with the
    collection's requirements); the name of the one in use."""
    assert tarstream.isal_zlib is not None, "the isal library is one of requirements.txt"
    if request.param == "zlib":
        monkeypatch.setattr(tarstream, "isal_zlib", None)
    return request.param
