# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup-location access: the files of ``<prefix>/backups/<name>/`` in S3 or in a local folder.

Both stores have the same small interface, so publishing and its tests do not care which one
they talk to. Errors name the location and the fix, never a credential.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from .errors import MigrationError

CHUNK = 1 << 20
METADATA_FILE = "velero-backup.json"


class StorageError(MigrationError):
    """The backup location cannot be read or written."""


class BackupStore(Protocol):
    label: str

    def list_files(self, backup: str) -> list[str]: ...

    def list_backups(self) -> list[str]: ...

    def open(self, backup: str, filename: str) -> BinaryIO: ...

    def upload(self, backup: str, filename: str, path: str) -> None: ...

    def delete(self, backup: str, filename: str) -> None: ...


def read_bytes(store: BackupStore, backup: str, filename: str) -> bytes:
    with store.open(backup, filename) as handle:
        return handle.read()


def stream_digest(handle: BinaryIO) -> str:
    """The SHA-256 of what is left to read in ``handle``, read a chunk at a time."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def file_digest(store: BackupStore, backup: str, filename: str) -> str:
    with store.open(backup, filename) as handle:
        return stream_digest(handle)


def _join(*parts: str) -> str:
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))


class LocalStore:
    """A backup location laid out in a local folder, as a filesystem-backed bucket would be."""

    def __init__(self, root: str, prefix: str = "") -> None:
        self.root = os.path.join(root, prefix.strip("/")) if prefix.strip("/") else root
        self.label = f"folder {self.root}"
        if not os.path.isdir(root):
            raise StorageError(f"backup location {self.label} does not exist")

    def _folder(self, backup: str) -> str:
        return os.path.join(self.root, "backups", backup)

    def list_files(self, backup: str) -> list[str]:
        folder = self._folder(backup)
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def list_backups(self) -> list[str]:
        folder = os.path.join(self.root, "backups")
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def open(self, backup: str, filename: str) -> BinaryIO:
        try:
            return open(os.path.join(self._folder(backup), filename), "rb")
        except OSError as exc:
            raise StorageError(f"cannot read backups/{backup}/{filename} in {self.label}: {exc.strerror}") from exc

    def upload(self, backup: str, filename: str, path: str) -> None:
        folder = self._folder(backup)
        os.makedirs(folder, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=folder, prefix=".upload-")
        os.close(handle)
        try:
            shutil.copyfile(path, partial)
            os.chmod(partial, 0o644)
            os.replace(partial, os.path.join(folder, filename))
        except OSError as exc:
            os.unlink(partial)
            raise StorageError(f"cannot write backups/{backup}/{filename} in {self.label}: {exc.strerror}") from exc

    def delete(self, backup: str, filename: str) -> None:
        try:
            os.unlink(os.path.join(self._folder(backup), filename))
        except FileNotFoundError:
            pass


class _StreamReader:
    """A download stream whose network failures (a dropped connection, a timeout) become
    StorageError, so a broken download reads as one clear message, not a library traceback."""

    def __init__(self, body, action: str) -> None:
        self._body = body
        self._action = action

    def read(self, size: int = -1) -> bytes:
        try:
            return self._body.read(size) if size >= 0 else self._body.read()
        except Exception as exc:  # botocore and urllib3 raise their own types for the same failures
            raise StorageError(f"{self._action} failed: {exc}") from exc

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> "_StreamReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@dataclass
class S3Settings:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    ca_file: str | None = None
    validate_certs: bool = True

    def __repr__(self) -> str:  # keep the keys out of tracebacks and logs
        return f"S3Settings(bucket={self.bucket!r}, prefix={self.prefix!r}, endpoint_url={self.endpoint_url!r})"


class S3Store:
    """A Velero backup location in an S3 bucket, through boto3."""

    def __init__(self, settings: S3Settings) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise StorageError("the boto3 Python library is required for an S3 backup location") from exc
        self.bucket = settings.bucket
        self.prefix = settings.prefix.strip("/")
        where = settings.endpoint_url or "AWS S3"
        self.label = f"s3://{_join(self.bucket, self.prefix)} at {where}"
        session = boto3.session.Session(aws_access_key_id=settings.access_key,
                                        aws_secret_access_key=settings.secret_key,
                                        region_name=settings.region or "us-east-1")
        verify = (settings.ca_file or True) if settings.validate_certs else False
        config = Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                        retries={"max_attempts": 4, "mode": "standard"})
        self._client = session.client("s3", endpoint_url=settings.endpoint_url, verify=verify, config=config)

    def _key(self, backup: str, filename: str = "") -> str:
        return _join(self.prefix, "backups", backup, filename)

    def _fail(self, action: str, exc: Exception) -> StorageError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken",
                    "ExpiredToken", "403"):
            why = f"the credentials were refused ({code}): check access_key and secret_key"
        elif code in ("NoSuchBucket", "404"):
            why = f"bucket {self.bucket} does not exist"
        elif code:
            why = f"{code}: {getattr(exc, 'response', {}).get('Error', {}).get('Message', '')}".rstrip(": ")
        else:
            why = str(exc)
        return StorageError(f"{action} in {self.label} failed: {why}")

    def _call(self, action: str, method: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, method)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(action, exc) from exc

    def _list(self, prefix: str, delimiter: str = "") -> list[dict]:
        found, token = [], None
        while True:
            args = {"Bucket": self.bucket, "Prefix": prefix}
            if delimiter:
                args["Delimiter"] = delimiter
            if token:
                args["ContinuationToken"] = token
            page = self._call(f"listing {prefix}", "list_objects_v2", **args)
            found += page.get("Contents", []) + page.get("CommonPrefixes", [])
            if not page.get("IsTruncated"):
                return found
            token = page.get("NextContinuationToken")

    def list_files(self, backup: str) -> list[str]:
        folder = self._key(backup) + "/"
        return sorted(entry["Key"][len(folder):] for entry in self._list(folder) if "Key" in entry)

    def list_backups(self) -> list[str]:
        folder = self._key("") + "/" if self.prefix else "backups/"
        return sorted(entry["Prefix"][len(folder):].strip("/") for entry in self._list(folder, "/")
                      if "Prefix" in entry)

    def open(self, backup: str, filename: str) -> BinaryIO:
        key = self._key(backup, filename)
        body = self._call(f"reading {key}", "get_object", Bucket=self.bucket, Key=key)["Body"]
        return _StreamReader(body, f"reading {key} from {self.label}")

    def upload(self, backup: str, filename: str, path: str) -> None:
        from boto3.exceptions import S3UploadFailedError

        key = self._key(backup, filename)
        try:
            self._call(f"uploading {key}", "upload_file", Filename=path, Bucket=self.bucket, Key=key)
        except S3UploadFailedError as exc:
            raise StorageError(f"uploading {key} to {self.label} failed: {exc}") from exc

    def delete(self, backup: str, filename: str) -> None:
        key = self._key(backup, filename)
        self._call(f"deleting {key}", "delete_object", Bucket=self.bucket, Key=key)

    def check_access(self) -> None:
        """Fail early, before any transform work, when the bucket or the credentials are wrong."""
        self._call("opening the bucket", "head_bucket", Bucket=self.bucket)
