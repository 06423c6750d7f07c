# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lines a person reads at the end of a migration, from the results of its steps."""
from __future__ import annotations

from .velero import NON_RESTORABLE


def _count(counts: dict, status: str) -> int:
    return int(counts.get(status, 0) or 0)


def _written(counts: dict) -> int:
    """Items the rewritten backup holds for the kind."""
    return _count(counts, "kept") + _count(counts, "changed") + _count(counts, "added")


def namespace_lines(report: dict, namespaces: list[str], mapping: dict[str, str]) -> list[str]:
    lines = []
    per_namespace = report.get("namespaces") or {}
    for source in namespaces:
        all_kinds = per_namespace.get(source) or {}
        # Velero never restores some kinds (events, ...): they are in the backup, not on the destination.
        kinds = {kind: counts for kind, counts in all_kinds.items() if kind not in NON_RESTORABLE}
        migrated = sum(_written(c) for c in kinds.values())
        changed = sum(_count(c, "changed") for c in kinds.values())
        skipped = sum(_count(c, "skipped") for c in kinds.values())
        lines.append(f"namespace {source} -> {mapping.get(source, source)}: {migrated} objects migrated "
                     f"({changed} changed), {skipped} skipped")
        for kind, counts in sorted(all_kinds.items()):
            if kind in NON_RESTORABLE:
                lines.append(f"  {kind}: {_written(counts)} in the backup, not restored (Velero never restores them)")
            else:
                lines.append(f"  {kind}: {_written(counts)} migrated, {_count(counts, 'changed')} changed, "
                             f"{_count(counts, 'skipped')} skipped")
    cluster_kinds = {kind: counts for kind, counts in (per_namespace.get("") or {}).items()
                     if kind not in NON_RESTORABLE}
    if cluster_kinds:
        total = sum(_written(c) for c in cluster_kinds.values())
        lines.append(f"cluster-scoped: {total} objects migrated ({', '.join(sorted(cluster_kinds))})")
    return lines


def image_line(image_copies: dict, planned: list) -> str:
    backup, restore = image_copies.get("backup") or {}, image_copies.get("restore") or {}
    line = (f"images: {_count(backup, 'copied')} copied to the migration registry, "
            f"{_count(restore, 'copied')} copied to the destination registry, "
            f"{_count(backup, 'present') + _count(restore, 'present')} already present")
    failed = _count(backup, "failed") + _count(restore, "failed")
    if failed:
        line += f", {failed} failed"
    if planned:
        line += f", {len(planned)} not copied (no migration registry given)"
    return line


def velero_lines(what: str, result: dict) -> list[str]:
    lines = [f"{what}: {result.get('phase', 'unknown')}, {result.get('warning_count', 0)} warnings, "
             f"{result.get('error_count', 0)} errors"]
    outcome = result.get("restore_results") or {}
    for level in ("errors", "warnings"):
        for namespace, messages in sorted(((outcome.get(level) or {}).get("namespaces") or {}).items()):
            more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
            lines.append(f"  {level[:-1]} in {namespace}: {messages[0]}{more}")
    return lines


def migration_summary(transform: dict, backup: dict, restore: dict, namespaces: list[str],
                      mapping: dict[str, str]) -> list[str]:
    """Per namespace and kind what was migrated, changed and skipped; images; Velero's outcome;
    where the report is."""
    report = (transform or {}).get("report") or {}
    if report:
        lines = namespace_lines(report, namespaces, mapping)
        lines.append(image_line(transform.get("image_copies") or {}, report.get("planned_copies") or []))
    else:
        lines = [f"namespace {source} -> {mapping.get(source, source)}" for source in namespaces]
        lines.append("rewrite and image copies: made by an earlier run of this migration (see its report)")
    backup_name = ((backup.get("backup") or {}).get("metadata") or {}).get("name", "")
    restore_obj = restore.get("restore") or {}
    lines += velero_lines(f"Velero backup {backup_name}", backup)
    lines += velero_lines(f"Velero restore {(restore_obj.get('metadata') or {}).get('name', '')} of "
                          f"{(restore_obj.get('spec') or {}).get('backupName', '')}", restore)
    lines += [f"rewrite warning: {warning}" for warning in report.get("warnings") or []]
    files = (transform or {}).get("report_files") or []
    if files:
        lines.append(f"report: {', '.join(files)}")
    return lines
