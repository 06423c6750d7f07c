"""backup_transform on generated Velero archives of 10k and 100k mixed items.

Measured side by side on the same archive:
* the floor, ``gzip -dc archive | gzip -c > /dev/null``;
* the archive codec alone (read every entry, write it back), to separate its cost from the actions';
* the full transform (backup and restore actions, index, report) as run by the module.
Each run is a subprocess, so its peak memory comes from its own rusage (os.wait4).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ansible_collections.openshift_migration.velero.plugins.module_utils.archive import ArchiveWriter

SIZES = (10_000, 100_000)
OLD_REG = "docker-registry.default.svc:5000"

_KINDS = [  # folder, apiVersion, kind, namespaced
    ("pods", "v1", "Pod", True), ("deployments.apps", "apps/v1", "Deployment", True),
    ("configmaps", "v1", "ConfigMap", True), ("secrets", "v1", "Secret", True),
    ("services", "v1", "Service", True), ("endpoints", "v1", "Endpoints", True),
    ("events", "v1", "Event", True), ("routes.route.openshift.io", "route.openshift.io/v1", "Route", True),
    ("serviceaccounts", "v1", "ServiceAccount", True),
    ("rolebindings.rbac.authorization.k8s.io", "rbac.authorization.k8s.io/v1", "RoleBinding", True),
    ("persistentvolumeclaims", "v1", "PersistentVolumeClaim", True),
    ("persistentvolumes", "v1", "PersistentVolume", False),
]

_TRANSFORM = """
import json, sys
from ansible_collections.openshift_migration.velero.plugins.module_utils.context import facts_from_dict
from ansible_collections.openshift_migration.velero.plugins.module_utils.transform_job import JobSpec, run_job
src, dest = sys.argv[1:3]
result = run_job(JobSpec(src=src, dest=dest,
    source_cluster=facts_from_dict({"server_version": "3.11", "registry_hostname": "%s"}),
    destination_cluster=facts_from_dict({"server_version": "4.14",
                                         "registry_hostname": "image-registry.openshift-image-registry.svc:5000"}),
    restore={"spec": {"backupName": "bench", "namespaceMapping": {"ns0": "ns0-new"}}}))
print(json.dumps(result["report"]["totals"]))
""" % OLD_REG

_CODEC = """
import sys
from ansible_collections.openshift_migration.velero.plugins.module_utils.archive import ArchiveWriter, iter_entries
with open(sys.argv[1], "rb") as source, open(sys.argv[2], "wb") as target:
    writer = ArchiveWriter(target)
    for entry in iter_entries(source):
        writer.add(entry.name, entry.data)
    writer.close()
"""


def _item(number: int) -> tuple[str, dict]:
    folder, api_version, kind, namespaced = _KINDS[number % len(_KINDS)]
    namespace = f"ns{number % 40}"
    meta = {"name": f"{kind.lower()}-{number}", "uid": f"{number:032x}", "resourceVersion": str(number),
            "labels": {"app": f"app-{number % 97}"},
            "annotations": {"note": "x" * (100 + number % 700)}}
    if namespaced:
        meta["namespace"] = namespace
    item = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    if kind in ("Pod", "Deployment"):
        spec = {"containers": [{"name": "app", "image": f"{OLD_REG}/{namespace}/app:{number % 13}"}]}
        item["spec"] = spec if kind == "Pod" else {"template": {"spec": spec}}
    elif kind == "Route":
        meta["annotations"]["openshift.io/host.generated"] = "true"
        item["spec"] = {"host": f"{meta['name']}.apps.example.com"}
    elif kind in ("ConfigMap", "Secret"):
        item["data"] = {"key": "dmFsdWU=" * (number % 20 + 1)}
    return folder, item


def make_archive(path: str, count: int) -> None:
    """Velero's layout: metadata/version, then every item in its plain and preferred-version folder."""
    with open(path, "wb") as out:
        writer = ArchiveWriter(out, compresslevel=6)  # Go's default gzip level, as Velero writes
        writer.add("metadata/version", b"1.1.0\n")
        for number in range(count):
            folder, item = _item(number)
            meta = item["metadata"]
            scope = f"namespaces/{meta['namespace']}" if "namespace" in meta else "cluster"
            data = json.dumps(item, separators=(",", ":"), sort_keys=True).encode()
            version = item["apiVersion"].rpartition("/")[2]
            writer.add(f"resources/{folder}/{scope}/{meta['name']}.json", data)
            writer.add(f"resources/{folder}/{version}-preferredversion/{scope}/{meta['name']}.json", data)
        writer.close()


def _measure(command: list[str], shell: bool = False) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MiB, CPU seconds) of one child process and what it waited for."""
    started = time.monotonic()
    process = subprocess.Popen(command if not shell else command[0], shell=shell,
                               stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"benchmark step failed: {command}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def run() -> list[str]:
    lines = []
    folder = tempfile.mkdtemp(prefix="bench-archive-")
    try:
        peaks = {}
        for count in SIZES:
            archive = os.path.join(folder, f"bench-{count}.tar.gz")
            make_archive(archive, count)
            output = os.path.join(folder, "out.tar.gz")
            floor, _floor_peak, floor_cpu = _measure([f"gzip -dc {archive} | gzip -c > /dev/null"], shell=True)
            codec, _codec_peak, codec_cpu = _measure([sys.executable, "-c", _CODEC, archive, output])
            full, peaks[count], full_cpu = _measure([sys.executable, "-c", _TRANSFORM, archive, output])
            size = os.path.getsize(archive) / 2**20
            lines.append(f"{count} items ({size:.1f} MiB): gzip floor {floor:.2f}s, archive codec {codec:.2f}s "
                         f"(ratio {codec / floor:.2f}), full transform {full:.2f}s "
                         f"(ratio {full / floor:.2f}, target <= 2.0)")
            # CPU time is steadier than wall time on a shared machine; shown beside it.
            lines.append(f"{count} items CPU: floor {floor_cpu:.2f}s, codec {codec_cpu:.2f}s "
                         f"(ratio {codec_cpu / floor_cpu:.2f}), transform {full_cpu:.2f}s "
                         f"(ratio {full_cpu / floor_cpu:.2f})")
        small, large = peaks[SIZES[0]], peaks[SIZES[1]]
        lines.append(f"peak memory: {small:.1f} MiB at {SIZES[0]} items, {large:.1f} MiB at {SIZES[1]} items "
                     f"(ratio {large / small:.2f}, target <= 1.5)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return lines
