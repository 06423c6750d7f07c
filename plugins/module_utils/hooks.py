"""Restore hooks and pod volumes: what decides whether a pod must stay disconnected (plugin-spec §3.8, §3.9)."""
from __future__ import annotations

import fnmatch
import re

from .constants import BACKUP_VOLUMES_EXCLUDES, INIT_RESTORE_HOOK, POST_RESTORE_HOOK
from .labels import selector_matches
from .objects import annotation, dig, has_annotation

_BRACES = re.compile(r"\{([^{}]*)\}")
# Names a hook may give pods by; Velero resolves them all to "pods" (the plugin compares literally).
_POD_ALIASES = ("pod", "po", "pods.", "pod.")


def _expand_braces(pattern: str) -> list[str]:
    match = _BRACES.search(pattern)
    if not match:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [expanded for option in match.group(1).split(",") for expanded in _expand_braces(head + option + tail)]


def glob_matches(pattern: str, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, expanded) for expanded in _expand_braces(pattern))


def _pod_resource_patterns(patterns: list | None) -> list[str]:
    return ["pods" if str(pattern) in _POD_ALIASES else str(pattern) for pattern in patterns or []]


def includes_excludes_match(includes: list | None, excludes: list | None, value: str) -> bool:
    """Velero's include/exclude filter: excludes win, empty includes or "*" include everything."""
    if any(glob_matches(str(pattern), value) for pattern in excludes or []):
        return False
    includes = [str(pattern) for pattern in includes or []]
    return not includes or "*" in includes or any(glob_matches(pattern, value) for pattern in includes)


def pod_has_restore_hook_annotations(pod: dict | None) -> bool:
    return has_annotation(pod, POST_RESTORE_HOOK) or has_annotation(pod, INIT_RESTORE_HOOK)


def restore_has_restore_hooks(restore: dict | None, namespace: str, labels: dict | None) -> bool:
    """True when a post-hook of the Restore applies to pods with these labels in ``namespace``."""
    for hook in dig(restore, "spec", "hooks", "resources", default=[]) or []:
        if not hook.get("postHooks"):
            continue
        if not includes_excludes_match(hook.get("includedNamespaces"), hook.get("excludedNamespaces"), namespace):
            continue
        if not includes_excludes_match(_pod_resource_patterns(hook.get("includedResources")),
                                       _pod_resource_patterns(hook.get("excludedResources")), "pods"):
            continue
        selector = hook.get("labelSelector")
        if selector is not None and not selector_matches(selector, labels):
            continue
        return True
    return False


def pod_has_restore_hooks(pod: dict, restore: dict | None) -> bool:
    if pod_has_restore_hook_annotations(pod):
        return True
    return restore_has_restore_hooks(restore, dig(pod, "metadata", "namespace", default=""),
                                     dig(pod, "metadata", "labels", default={}))


_NOT_BACKED_UP_SOURCES = ("hostPath", "secret", "configMap", "projected", "downwardAPI")


def pod_has_volumes_to_back_up(pod: dict) -> bool:
    """Velero's file-system backup selection with volumes backed up by default."""
    excludes = annotation(pod, BACKUP_VOLUMES_EXCLUDES).split(",")
    for volume in dig(pod, "spec", "volumes", default=[]) or []:
        if any(source in volume for source in _NOT_BACKED_UP_SOURCES):
            continue
        name = str(volume.get("name") or "")
        if name in excludes or not name.startswith("default-token"):
            return True
    return False
