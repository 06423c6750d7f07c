"""imagestream_copy's engine versus the same copies made one by one with ``skopeo copy``.

50 tags over 10 ImageStreams whose images share their base layers are pushed to a source
registry; the same backup plan is then copied twice, each time into a fresh registry: once by
the engine (in parallel, with presence checks) and once by plain sequential ``skopeo copy``.
Both runs happen here, one after the other, so the ratio compares like with like.
"""
from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from ansible_collections.openshift_migration.velero.plugins.module_utils.image_copy import (
    COPIED,
    CopyEngine,
    RegistryAuth,
)
from ansible_collections.openshift_migration.velero.plugins.module_utils.image_plan import (
    plan_imagestream_copies,
)
from tests.lab.images import ImageBuilder, image_stream
from tests.lab.registries import start_registry

STREAMS, TAGS = 10, 5
PARALLEL = 10  # one worker per stream: the engine runs one worker per repository
INTERNAL = "image-registry.openshift-image-registry.svc:5000"


def _push_sources(source, builder: ImageBuilder) -> list[dict]:
    streams = []
    for index in range(STREAMS):
        name = f"app-{index}"
        tags = {}
        for tag_index in range(TAGS):
            tag = f"v{tag_index}"
            digest = builder.push(name, tag, f"docker://{source.address}/bench/{name}:{tag}",
                                  tls_verify=False)
            tags[tag] = [f"{INTERNAL}/bench/{name}@{digest}"]
        streams.append(image_stream("bench", name, tags))
    return streams


def _plan(streams: list[dict], source, dest) -> list:
    return [copy for stream in streams
            for copy in plan_imagestream_copies(stream, mode="backup", internal_registry=INTERNAL,
                                                src_registry=source.address,
                                                dest_registry=dest.address,
                                                dest_namespace="bench")]


def _copy_one_by_one(plan: list) -> None:
    for item in plan:
        subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet",
                        "--src-tls-verify=false", "--dest-tls-verify=false", item.src, item.dest],
                       check=True, capture_output=True)


def _tag_digests(plan: list) -> list[str]:
    digests = []
    for item in plan:
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", item.dest],
                             check=True, capture_output=True).stdout
        digests.append(hashlib.sha256(raw).hexdigest())
    return digests


def _cpu_seconds(registries) -> float:
    """CPU time of finished child processes (skopeo) plus that of the registries so far."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = children.ru_utime + children.ru_stime
    for registry in registries:
        fields = Path(f"/proc/{registry.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-imagecopy-") as scratch:
        root = Path(scratch)
        registries = [start_registry(name, root) for name in ("source", "engine", "baseline")]
        source, engine_dest, baseline_dest = registries
        try:
            streams = _push_sources(source, ImageBuilder(root / "layouts", base_count=3))
            engine_plan = _plan(streams, source, engine_dest)
            baseline_plan = _plan(streams, source, baseline_dest)

            cpu_before = _cpu_seconds(registries)
            started = time.monotonic()
            _copy_one_by_one(baseline_plan)
            baseline = time.monotonic() - started
            baseline_cpu = _cpu_seconds(registries) - cpu_before

            plain = RegistryAuth(tls_verify=False)
            cpu_before = _cpu_seconds(registries)
            started = time.monotonic()
            results = CopyEngine(plain, plain, parallel=PARALLEL).copy(engine_plan)
            engine = time.monotonic() - started
            cpu = _cpu_seconds(registries) - cpu_before

            copied = sum(1 for result in results if result.status == COPIED)
            retried = sum(result.attempts - 1 for result in results if result.attempts > 1)
            same = _tag_digests(engine_plan) == _tag_digests(baseline_plan)
        finally:
            for registry in registries:
                registry.stop()
    return [
        f"{len(engine_plan)} tags over {STREAMS} ImageStreams, shared base layers",
        f"skopeo copy one by one: {baseline:.2f}s ({baseline_cpu:.1f} CPU-seconds)",
        f"CopyEngine (parallel={PARALLEL}): {engine:.2f}s ({cpu:.1f} CPU-seconds), {copied} copied, "
        f"{retried} retries",
        f"digests identical at both destinations: {'yes' if same else 'NO'}",
        f"ratio: {baseline / engine:.2f}x faster (target >= 3x)",
        f"CPU-seconds count skopeo and the registries; on {os.cpu_count()} cores no run of the "
        f"engine can take less than {cpu / os.cpu_count():.1f}s",
        f"load average at the end: {os.getloadavg()[0]:.1f}",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
