"""Fixtures of the archive tests: a real S3 server (MinIO on loopback) with a Velero backup in it."""
from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.lab.s3server import start_s3_server
from tests.unit.plugins.module_utils.backup_archives import sample_objects, write_backup_folder

PREFIX = "velero"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = start_s3_server(_free_port(), tmp_path_factory.mktemp("s3") / "data")
    yield server
    server.stop()


def client_for(server, secret_key=None):
    return boto3.session.Session(
        aws_access_key_id=server.access_key, aws_secret_access_key=secret_key or server.secret_key,
        region_name=server.region).client(
        "s3", endpoint_url=server.endpoint, config=Config(s3={"addressing_style": "path"}))


@pytest.fixture
def bucket(s3_server, tmp_path, request):
    """A fresh bucket holding backups/b1/ as Velero writes it; returns (name, boto3 client)."""
    name = "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    client = client_for(s3_server)
    client.create_bucket(Bucket=name)
    folder = Path(write_backup_folder(str(tmp_path / "b1"), "b1", sample_objects()))
    for path in sorted(folder.iterdir()):
        client.upload_file(str(path), name, f"{PREFIX}/backups/b1/{path.name}")
    return name, client


def snapshot(client, bucket: str) -> dict[str, str]:
    """Every object of the bucket with its ETag: proves what was (not) written."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {entry["Key"]: entry["ETag"] for page in pages for entry in page.get("Contents", [])}
