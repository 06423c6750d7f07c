"""imagestream_copy through ansible-playbook: backup, restore (check mode first), re-run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from imagecopy_helpers import backup_args, push_source_app, restore_args

import ansible_collections.openshift_migration.velero as collection

PLAYBOOK = """
- name: Move ImageStream images through the migration registry
  hosts: localhost
  gather_facts: false
  vars_files: [vars.json]
  tasks:
    - name: Copy the source images to the migration registry
      openshift_migration.velero.imagestream_copy: "{{ backup_args }}"
      register: backup
    - name: Preview the restore
      openshift_migration.velero.imagestream_copy: "{{ restore_args | combine({'imagestreams': backup.imagestreams}) }}"
      check_mode: true
      register: preview
    - name: Restore into the destination registry
      openshift_migration.velero.imagestream_copy: "{{ restore_args | combine({'imagestreams': backup.imagestreams}) }}"
      register: restore
    - name: Restore again
      openshift_migration.velero.imagestream_copy: "{{ restore_args | combine({'imagestreams': backup.imagestreams}) }}"
      register: restore_again
    - name: Check what each run reported
      ansible.builtin.assert:
        that:
          - backup is changed
          - backup.totals.copied == 7
          - preview is changed
          - preview.totals.skipped == 7
          - restore is changed
          - restore.totals.copied == 7
          - restore_again is not changed
          - restore_again.totals.present == 7
"""


def collections_path() -> str:
    # .../collections/ansible_collections/openshift_migration/velero -> .../collections
    return str(Path(collection.__path__[0]).parents[2])


def test_backup_and_restore_playbook_is_idempotent(lab, builder, tmp_path):
    app = push_source_app(lab, builder)
    (tmp_path / "vars.json").write_text(json.dumps({
        "backup_args": backup_args(lab, app.streams),
        "restore_args": restore_args(lab, [], namespace_mapping={"app": "moved"}),
    }))
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": collections_path(),
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    playbook = Path(sys.executable).parent / "ansible-playbook"
    process = subprocess.run([str(playbook), "-v", "playbook.yml"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=False, timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "ok=5" in process.stdout and "failed=0" in process.stdout
    assert lab.migration.password not in process.stdout + process.stderr

    destination = lab.client(lab.destination)
    for stream in app.streams[:3]:
        name = stream["metadata"]["name"]
        assert destination.digest(f"moved/{name}", "latest") == \
            stream["status"]["tags"][0]["items"][0]["image"]
    assert destination.digest("shop/cart", "latest") == app.digests["shop/cart:latest"]
