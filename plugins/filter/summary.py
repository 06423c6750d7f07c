# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter migration_summary: the closing lines of a migration run."""
from __future__ import annotations

from ansible_collections.openshift_migration.velero.plugins.module_utils.summary import migration_summary


class FilterModule:
    def filters(self):
        return {"migration_summary": migration_summary}
