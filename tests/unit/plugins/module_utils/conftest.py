"""Fixtures shared by the module_utils tests."""
import pytest

from .backup_archives import sample_objects, write_backup_folder


@pytest.fixture
def bucket(tmp_path):
    """A local folder laid out like a bucket, holding backups/b1/ as Velero writes it."""
    root = tmp_path / "bucket"
    write_backup_folder(str(root / "velero" / "backups" / "b1"), "b1", sample_objects())
    return root
