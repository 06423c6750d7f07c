"""backup_transform on generated Velero archives of 10k and 100k mixed items.

Measured side by side on the same archive:
* the floor, ``gzip -dc archive | gzip -c > /dev/null``;
* the archive codec alone (read every entry, write it back), to separate its cost from the actions';
* the full transform (backup and restore actions, index, report) as run by the module.
Each run is a subprocess, so its peak memory comes from its own rusage (os.wait4). Several
rounds run, each one the three side by side; the ratios printed are medians of the rounds'.
"""
from __future__ import annotations

import compileall
import contextlib
import json
import os
import shutil
from statistics import median
import subprocess
import sys
import tempfile
import time

from ansible_collections.openshift_migration.velero.plugins.module_utils import tarstream
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


@contextlib.contextmanager
def _zlib_only():
    isal, tarstream.isal_zlib = tarstream.isal_zlib, None
    try:
        yield
    finally:
        tarstream.isal_zlib = isal


def make_archive(path: str, count: int) -> None:
    """Velero's layout: metadata/version, then every item in its plain and preferred-version folder."""
    # zlib at Go's default level, as Velero writes, whether or not the isal library is installed.
    with open(path, "wb") as out, _zlib_only():
        writer = ArchiveWriter(out, compresslevel=6)
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


def _compile_collection() -> str:
    """Compile the collection's Python files to bytecode, as Python caches them after a first run
    (this machine's shell may set PYTHONDONTWRITEBYTECODE, which would leave every run compiling
    them again); returns the note printed with the figures."""
    plugins = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins")
    compileall.compile_dir(plugins, quiet=1)
    return "collection bytecode compiled ahead, as after a first run"


def run() -> list[str]:
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    lines = [f"{_compile_collection()}; {rounds} rounds per size, floor, codec and transform side by side "
             "in each round; medians"]
    folder = tempfile.mkdtemp(prefix="bench-archive-")
    try:
        peaks = {}
        for count in SIZES:
            archive = os.path.join(folder, f"bench-{count}.tar.gz")
            make_archive(archive, count)
            output = os.path.join(folder, "out.tar.gz")
            runs: dict[str, list[tuple[float, float, float]]] = {"floor": [], "codec": [], "full": []}
            for _round in range(rounds):
                runs["floor"].append(_measure([f"gzip -dc {archive} | gzip -c > /dev/null"], shell=True))
                runs["codec"].append(_measure([sys.executable, "-c", _CODEC, archive, output]))
                runs["full"].append(_measure([sys.executable, "-c", _TRANSFORM, archive, output]))
            # Ratios are taken within a round (the three ran back to back), then their median.
            codec_ratio = median([c[0] / f[0] for f, c in zip(runs["floor"], runs["codec"])])
            full_ratios = [t[0] / f[0] for f, t in zip(runs["floor"], runs["full"])]
            cpu_ratio = median([t[2] / f[2] for f, t in zip(runs["floor"], runs["full"])])
            floor, codec, full = (median([run[0] for run in runs[step]]) for step in ("floor", "codec", "full"))
            peaks[count] = median([run[1] for run in runs["full"]])
            size = os.path.getsize(archive) / 2**20
            lines.append(f"{count} items ({size:.1f} MiB): gzip floor {floor:.2f}s, archive codec {codec:.2f}s "
                         f"(ratio {codec_ratio:.2f}), full transform {full:.2f}s "
                         f"(ratio {median(full_ratios):.2f}, target <= 2.0)")
            lines.append(f"{count} items, transform/floor of each round: "
                         + ", ".join(f"{ratio:.2f}" for ratio in full_ratios))
            # CPU time is steadier than wall time on a shared machine; shown beside it.
            lines.append(f"{count} items CPU: transform/floor ratio {cpu_ratio:.2f} (the transform uses both cores)")
        small, large = peaks[SIZES[0]], peaks[SIZES[1]]
        lines.append(f"peak memory: {small:.1f} MiB at {SIZES[0]} items, {large:.1f} MiB at {SIZES[1]} items "
                     f"(ratio {large / small:.2f}, target <= 1.5)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return lines
