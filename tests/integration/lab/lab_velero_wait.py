"""Small helpers to create Velero objects and wait for them in the lab tests."""
from __future__ import annotations

import time

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

FINAL_PHASES = {"Completed", "PartiallyFailed", "Failed", "FailedValidation"}


def velero(client: DynamicClient, kind: str):
    return client.resources.get(api_version="velero.io/v1", kind=kind)


def wait_for(client: DynamicClient, kind: str, name: str, namespace: str, timeout: float,
             done=lambda obj: obj.get("status", {}).get("phase") in FINAL_PHASES) -> dict:
    """Poll a Velero object until done(obj); fail with its last state after timeout."""
    resource = velero(client, kind)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = resource.get(name=name, namespace=namespace).to_dict()
            if done(last):
                return last
        except NotFoundError:
            pass
        time.sleep(1)
    raise AssertionError(f"{kind} {namespace}/{name} not done within {timeout:.0f} s; "
                         f"last seen: {last and last.get('status')}")
