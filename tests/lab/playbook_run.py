"""Run the collection's playbooks the way a user does (tests and benchmarks on the lab)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ansible_collections.openshift_migration.velero import plugins as collection_plugins

RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


@dataclass
class PlaybookRun:
    returncode: int
    output: str

    @property
    def recap(self) -> dict[str, int]:
        found = RECAP.findall(self.output)
        assert found, f"no play recap in:\n{self.output[-3000:]}"
        ok, changed, unreachable, failed = (int(value) for value in found[-1])
        return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}


def collections_path() -> str:
    # .../collections/ansible_collections/openshift_migration/velero/plugins -> .../collections
    return str(Path(collection_plugins.__path__[0]).parents[3])


def run_playbook(name: str, variables: dict, workdir: Path, *args: str) -> PlaybookRun:
    """Run openshift_migration.velero.<name> the way a user does, with the variables as a file."""
    vars_file = workdir / f"{name}-vars.json"
    vars_file.write_text(json.dumps(variables))
    vars_file.chmod(0o600)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": collections_path(), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    command = [str(Path(sys.executable).parent / "ansible-playbook"), f"openshift_migration.velero.{name}",
               "-e", f"@{vars_file}", *args]
    process = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, check=False,
                             timeout=1200)
    return PlaybookRun(process.returncode, process.stdout + process.stderr)
