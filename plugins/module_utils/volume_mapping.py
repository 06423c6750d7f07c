# Copyright: (c) 2026, openshift_migration.velero maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage-class and access-mode mappings written as the plugin's volume annotations.

The PV and PVC restore actions only act on volumes annotated ``openshift.io/migrate-type: copy``
with a target class (and access mode); a migration tool sets those annotations on the archived
objects. Doing the same in the archive rewrite lets the unchanged restore actions apply a mapping.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .constants import BETA_STORAGE_CLASS, MIGRATE_TYPE, TARGET_ACCESS_MODE, TARGET_STORAGE_CLASS

VOLUME_RESOURCES = frozenset({"persistentvolumes", "persistentvolumeclaims"})


@dataclass(frozen=True)
class VolumeMapping:
    storage_classes: dict[str, str] = field(default_factory=dict)
    access_modes: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.storage_classes or self.access_modes)


def _storage_class(item: dict) -> str:
    spec_class = (item.get("spec") or {}).get("storageClassName")
    if spec_class:
        return spec_class
    return ((item.get("metadata") or {}).get("annotations") or {}).get(BETA_STORAGE_CLASS, "")


def map_volume(item: dict, resource: str, mapping: VolumeMapping) -> dict | None:
    """A copy of a PV or PVC annotated for a copy migration, or None when the mapping does not
    concern it. Volumes that already carry a migrate type keep it: it was chosen on purpose."""
    if resource not in VOLUME_RESOURCES or not mapping:
        return None
    annotations = (item.get("metadata") or {}).get("annotations") or {}
    if annotations.get(MIGRATE_TYPE):
        return None
    current_class = _storage_class(item)
    modes = (item.get("spec") or {}).get("accessModes") or []
    new_mode = next((mapping.access_modes[mode] for mode in modes if mode in mapping.access_modes), "")
    if current_class not in mapping.storage_classes and not new_mode:
        return None
    # The restore actions write the target class even when absent (as ""), so an unmapped class
    # is written explicitly to keep it.
    target_class = mapping.storage_classes.get(current_class, current_class)
    mapped = copy.deepcopy(item)
    notes = mapped.setdefault("metadata", {}).setdefault("annotations", {})
    notes[MIGRATE_TYPE] = "copy"
    notes[TARGET_STORAGE_CLASS] = target_class
    if new_mode and resource == "persistentvolumeclaims":
        notes[TARGET_ACCESS_MODE] = new_mode
    return mapped
