# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How velero_backup and velero_restore poll while they wait."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wait_sleep:
    description: Seconds between two reads while waiting; fractions of a second are allowed.
    type: float
    default: 5
  fail_on_timeout:
    description:
      - With O(wait=true), whether the task fails when O(wait_timeout) passes before the object reaches a
        final phase.
      - With V(false) the task returns the object as it is and RV(timed_out=true), so a playbook can print
        progress between short waits (with a short O(wait_sleep)) and still see the end at once.
    type: bool
    default: true
"""
