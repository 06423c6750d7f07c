"""migrate.yml against a bare Velero backup + restore of the same namespace, on the lab.

Both move the lab's sample namespace from the source to the destination under a fresh mapped
name. The bare run is what Velero alone does: a Backup, waiting for it to complete and to reach
the destination through backup sync, and a Restore. migrate.yml adds preflight, the rewrite and
its image copies, and the summary. Each runs three times, alternating; medians and bests are compared.
Both wait for Velero's backup sync, which runs about once a minute whatever its configured period,
so the wall times depend on where each run falls between two syncs. Each run is therefore also
split at the moment its backup appears on the destination: what comes after it (creating and
following the Restore, the summary) is the part of the wait that the tool controls end to end.
The lab must be up (make lab-up); the destination namespaces are removed afterwards.
"""
from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path

from kubernetes import config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

from tests.lab.migrate_vars import load_lab, migrate_vars
from tests.lab.playbook_run import run_playbook

NAMESPACE = "sample-app"
DONE = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")
ROUNDS = 3


def _client(lab: dict, side: str) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(config_file=lab["clusters"][side]["kubeconfig"]))


def _wait(read, timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.5)
    raise TimeoutError("gave up waiting")


def _phase(cluster: DynamicClient, kind: str, name: str, namespace: str) -> str:
    try:
        obj = cluster.resources.get(api_version="velero.io/v1", kind=kind).get(name=name, namespace=namespace)
    except NotFoundError:
        return ""
    return (obj.to_dict().get("status") or {}).get("phase") or "New"


class SyncWatch(threading.Thread):
    """Notes when a Backup first appears on the destination, while a playbook runs."""

    def __init__(self, lab: dict, name: str) -> None:
        super().__init__(daemon=True)
        self.cluster, self.name = _client(lab, "destination"), name
        self.namespace = lab["clusters"]["destination"]["velero"]["namespace"]
        self.seen: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.seen is None:
            if _phase(self.cluster, "Backup", self.name, self.namespace):
                self.seen = time.monotonic()
            self.stop.wait(0.5)


def bare_velero(lab: dict, name: str, target: str) -> tuple[float, float]:
    source, destination = _client(lab, "source"), _client(lab, "destination")
    velero = lab["clusters"]["source"]["velero"]["namespace"]
    started = time.monotonic()
    source.resources.get(api_version="velero.io/v1", kind="Backup").create(namespace=velero, body={
        "apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": name, "namespace": velero},
        "spec": {"includedNamespaces": [NAMESPACE], "ttl": "2h0m0s"}})
    phase = _wait(lambda: _phase(source, "Backup", name, velero) in DONE and _phase(source, "Backup", name, velero))
    assert phase == "Completed", phase
    _wait(lambda: _phase(destination, "Backup", name, velero))
    synced = time.monotonic()
    destination.resources.get(api_version="velero.io/v1", kind="Restore").create(namespace=velero, body={
        "apiVersion": "velero.io/v1", "kind": "Restore", "metadata": {"name": name, "namespace": velero},
        "spec": {"backupName": name, "namespaceMapping": {NAMESPACE: target}}})
    phase = _wait(lambda: _phase(destination, "Restore", name, velero) in DONE
                  and _phase(destination, "Restore", name, velero))
    assert phase == "Completed", phase
    finished = time.monotonic()
    return finished - started, finished - synced


def with_migrate_yml(lab: dict, name: str, target: str, workdir: Path) -> tuple[float, float]:
    watch = SyncWatch(lab, f"{name}-stage-migrated")
    watch.start()
    started = time.monotonic()
    run = run_playbook("migrate", migrate_vars(lab, name, "stage", [NAMESPACE], {NAMESPACE: target},
                                               str(workdir / "reports")), workdir)
    finished = time.monotonic()
    watch.stop.set()
    watch.join()
    assert run.returncode == 0, run.output[-4000:]
    assert watch.seen is not None, "the rewritten backup was never seen on the destination"
    return finished - started, finished - watch.seen


def _remove_namespaces(lab: dict, names: list[str]) -> None:
    namespaces = _client(lab, "destination").resources.get(api_version="v1", kind="Namespace")
    for name in names:
        try:
            namespaces.delete(name=name)
        except NotFoundError:
            pass


def run() -> list[str]:
    lab = load_lab()
    suffix = uuid.uuid4().hex[:5]
    bare, playbook, targets = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for round_ in range(ROUNDS):
                target = f"bench-bare-{suffix}-{round_}"
                targets.append(target)
                bare.append(bare_velero(lab, f"bench-bare-{suffix}-{round_}", target))
                target = f"bench-mig-{suffix}-{round_}"
                targets.append(target)
                playbook.append(with_migrate_yml(lab, f"bench-mig-{suffix}-{round_}", target, Path(tmp)))
        finally:
            _remove_namespaces(lab, targets)
    walls = {"bare": [wall for wall, _after in bare], "playbook": [wall for wall, _after in playbook]}
    after = {"bare": [tail for _wall, tail in bare], "playbook": [tail for _wall, tail in playbook]}
    median = {key: sorted(values)[ROUNDS // 2] for key, values in walls.items()}
    best = {key: min(values) for key, values in walls.items()}
    return [f"bare Velero backup + sync + restore of {NAMESPACE}: " + ", ".join(f"{s:.1f}s" for s in walls["bare"]),
            "migrate.yml (preflight, backup, rewrite, image copies, restore, summary): "
            + ", ".join(f"{s:.1f}s" for s in walls["playbook"]),
            f"after the backup sync: bare {', '.join(f'{s:.1f}s' for s in after['bare'])}; "
            f"migrate.yml {', '.join(f'{s:.1f}s' for s in after['playbook'])}",
            f"migrate.yml / bare Velero: median {median['playbook'] / median['bare']:.2f}x, "
            f"best {best['playbook'] / best['bare']:.2f}x (target <= 1.2x)"]
