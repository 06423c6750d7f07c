# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup logs and restore results, read through Velero DownloadRequests.

A DownloadRequest asks the Velero server for a signed URL of one file of a backup or restore
in object storage, so the caller needs no storage credentials. The files are gzip'd: the
backup log is logrus text, the restore results are JSON.
"""
from __future__ import annotations

import gzip
import json
import re
import uuid
from typing import Any, Callable

from .objects import dig
from .velero import VELERO_API, VeleroError, cluster_of, velero_resource, wait_until

LEVELS = ("error", "warning")
# One key=value pair of a logrus text line; values with spaces are double-quoted.
_PAIR = re.compile(r'([A-Za-z0-9_.\-]+)=("(?:[^"\\]|\\.)*"|\S*)')


class DownloadFailed(VeleroError):
    """The file could not be obtained through a DownloadRequest."""


def parse_log_line(line: str) -> dict[str, str]:
    fields = {}
    for key, value in _PAIR.findall(line):
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        fields[key] = value
    return fields


def filter_log(text: str, levels: tuple[str, ...] = LEVELS) -> list[str]:
    """The log lines at one of ``levels``, as "level: message (error; resource)" sentences."""
    found = []
    for line in text.splitlines():
        fields = parse_log_line(line)
        level = fields.get("level", "")
        if level not in levels:
            continue
        text_parts = [fields.get("msg", "").strip() or line.strip()]
        if fields.get("error"):
            text_parts.append(f"error: {fields['error']}")
        where = "/".join(part for part in (fields.get("namespace"), fields.get("name")) if part)
        if fields.get("resource") or where:
            text_parts.append(" ".join(part for part in (fields.get("resource", ""), where) if part))
        found.append(f"{level}: " + "; ".join(text_parts))
    return found


def flatten_results(results: dict) -> list[str]:
    """The messages of a restore results file, one line each, errors first."""
    lines = []
    for section, level in (("errors", "error"), ("warnings", "warning")):
        entries = results.get(section) or {}
        for scope in ("velero", "cluster"):
            lines.extend(f"{level}: {scope}: {message}" for message in entries.get(scope) or [])
        for namespace, messages in sorted((entries.get("namespaces") or {}).items()):
            lines.extend(f"{level}: namespace {namespace}: {message}" for message in messages or [])
    return lines


def parse_results(data: bytes) -> dict:
    """A RestoreResults file (gzip'd or not) as {"warnings": {...}, "errors": {...}}."""
    try:
        parsed = json.loads(gunzip(data) or b"{}")
    except ValueError as error:
        raise DownloadFailed(f"the restore results are not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise DownloadFailed("the restore results are not a JSON object")
    return {section: {"velero": list((parsed.get(section) or {}).get("velero") or []),
                      "cluster": list((parsed.get(section) or {}).get("cluster") or []),
                      "namespaces": dict((parsed.get(section) or {}).get("namespaces") or {})}
            for section in ("warnings", "errors")}


def gunzip(data: bytes) -> bytes:
    # Object stores may hand the file back already decoded (Content-Encoding); accept both.
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def summarize(lines: list[str], limit: int = 10) -> str:
    if not lines:
        return ""
    shown = "; ".join(lines[:limit])
    return shown + (f" (and {len(lines) - limit} more)" if len(lines) > limit else "")


def download_url(client: Any, namespace: str, kind: str, name: str, timeout: float = 60,
                 sleep: float = 1) -> str:
    """Create a DownloadRequest for (kind, name) and return the signed URL Velero answers with."""
    resource = velero_resource(client, "DownloadRequest")
    request_name = f"{name[:40]}-{uuid.uuid4().hex[:10]}"
    body = {"apiVersion": VELERO_API, "kind": "DownloadRequest",
            "metadata": {"name": request_name, "namespace": namespace},
            "spec": {"target": {"kind": kind, "name": name}}}
    client.create(resource, body, namespace=namespace)

    def read() -> dict | None:
        return client.get(resource, name=request_name, namespace=namespace).to_dict()

    try:
        done = wait_until(read, lambda obj: bool(dig(obj, "status", "downloadURL")), timeout, sleep,
                          f"DownloadRequest {namespace}/{request_name} ({kind} {name})")
    except VeleroError as error:
        raise DownloadFailed(f"Velero on {cluster_of(client)} did not answer a {kind} request: {error}") from error
    finally:
        try:
            client.delete(resource, name=request_name, namespace=namespace)
        except Exception:
            pass  # Velero removes expired requests itself; a failed clean-up loses nothing
    return str(dig(done, "status", "downloadURL"))


def fetch(url: str, opener: Callable[..., Any] | None = None, timeout: float = 60) -> bytes:
    """GET a signed URL; ``opener`` defaults to ansible's open_url (urllib underneath)."""
    if opener is None:
        from ansible.module_utils.urls import open_url as opener
    try:
        with opener(url, method="GET", timeout=timeout) as response:
            return response.read()
    except Exception as error:
        host = url.split("?", maxsplit=1)[0]  # the query string holds the signature
        raise DownloadFailed(f"downloading {host} failed: {error}") from error


def backup_log_lines(client: Any, namespace: str, backup: str, opener: Callable[..., Any] | None = None) -> list[str]:
    """The error and warning lines of a backup's log."""
    data = fetch(download_url(client, namespace, "BackupLog", backup), opener)
    return filter_log(gunzip(data).decode("utf-8", errors="replace"))


def restore_results(client: Any, namespace: str, restore: str, opener: Callable[..., Any] | None = None) -> dict:
    """The warnings and errors of a restore, per scope and namespace."""
    return parse_results(fetch(download_url(client, namespace, "RestoreResults", restore), opener))


def restore_log_lines(client: Any, namespace: str, restore: str, opener: Callable[..., Any] | None = None) -> list[str]:
    data = fetch(download_url(client, namespace, "RestoreLog", restore), opener)
    return filter_log(gunzip(data).decode("utf-8", errors="replace"))
