"""Background processes of the lab: start in their own process group, record, wait, stop.

Every process gets a pid file under ``<state>/pids/<name>.pid`` and a log under
``<state>/logs/<name>.log``; stopping kills the whole process group, so nothing is left behind
(velero starts its plugins as children, for example).
"""
from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path


class LabError(RuntimeError):
    """A lab component could not be started or did not become healthy."""


def pid_file(state: Path, name: str) -> Path:
    return state / "pids" / f"{name}.pid"


def log_file(state: Path, name: str) -> Path:
    return state / "logs" / f"{name}.log"


def start(state: Path, name: str, command: list[str], env: dict | None = None,
          cwd: Path | None = None) -> int:
    """Start command detached in a new session; return its pid (also its process group id)."""
    for folder in ("pids", "logs"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    log = log_file(state, name)
    with open(log, "ab") as handle:
        handle.write(f"\n=== {time.strftime('%F %T')} {' '.join(command)}\n".encode())
        handle.flush()
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, **(env or {})}, cwd=cwd)
    pid_file(state, name).write_text(f"{process.pid}\n")
    return process.pid


def running_pid(state: Path, name: str) -> int | None:
    path = pid_file(state, name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip())
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(state: Path, name: str, timeout: float = 20.0) -> bool:
    """TERM the process group, KILL it after timeout; True when something was running."""
    path = pid_file(state, name)
    if not path.exists():
        return False
    pid = int(path.read_text().strip())
    was_running = False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
            was_running = True
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and group_alive(pid):
            time.sleep(0.1)
        if not group_alive(pid):
            break
    path.unlink(missing_ok=True)
    return was_running


def group_alive(pgid: int) -> bool:
    alive(pgid)  # reaps the leader if it is our child
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(check: Callable[[], bool], what: str, timeout: float, state: Path,
               name: str) -> None:
    """Poll check until true; fail naming what did not happen, the process and its log.

    The process must still run when the check passes: a leftover server of another lab on the
    same port would otherwise pass the check for a process that failed to bind.
    """
    deadline = time.monotonic() + timeout
    while True:
        log = log_file(state, name)
        if running_pid(state, name) is None:
            raise LabError(f"{name} exited before it could {what}; log: {log}\n{tail(log)}")
        if check():
            if running_pid(state, name) is not None:
                return
            continue
        if time.monotonic() > deadline:
            raise LabError(f"{name} did not {what} within {timeout:.0f} s; log: {log}\n{tail(log)}")
        time.sleep(0.25)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def http_ok(url: str, token: str | None = None) -> bool:
    """True when url answers 200 (TLS not verified: lab certificates are self-signed)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=3, context=context) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False
