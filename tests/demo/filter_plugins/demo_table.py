"""Demo-only filter: a per-item table of what the restore actions did to the sample namespace."""
from __future__ import annotations


def _changed_paths(before, after, path="") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        if not before and after and path:
            return [f"+{path}.{key}" for key in sorted(after, key=str)]
        paths = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                paths.append(f"-{sub}")
            elif key not in before:
                paths.extend(_changed_paths({}, after[key], sub) if isinstance(after[key], dict) else [f"+{sub}"])
            else:
                paths.extend(_changed_paths(before[key], after[key], sub))
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [p for index, (b, a) in enumerate(zip(before, after)) for p in _changed_paths(b, a, f"{path}[{index}]")]
    return [] if before == after else [path]


def migration_table(originals: list, results: list) -> str:
    """The sample items and their restore_item results -> an aligned text table."""
    lines = []
    counts = {"kept": 0, "changed": 0, "skipped": 0}
    for original, result in zip(originals, results):
        if result["skip"]:
            outcome, detail = "skipped", (result["actions"] or ["?"])[-1].split("/")[-1]
        else:
            fields = [p for p in _changed_paths(original, result["item"])
                      if "openshift.io/backup-" not in p and "openshift.io/restore-" not in p]
            outcome, detail = ("changed", ", ".join(fields)) if fields else ("kept", "")
        counts[outcome] += 1
        meta = original.get("metadata", {})
        lines.append((original.get("kind", ""), meta.get("name", ""), outcome, detail))
    width_kind = max(len(line[0]) for line in lines)
    width_name = max(len(line[1]) for line in lines)
    text = [f"{'KIND':<{width_kind}}  {'NAME':<{width_name}}  {'OUTCOME':<8}  DETAIL"]
    text += [f"{kind:<{width_kind}}  {name:<{width_name}}  {outcome:<8}  {detail}" for kind, name, outcome, detail in lines]
    text.append(f"{len(lines)} items: {counts['kept']} kept, {counts['changed']} changed, {counts['skipped']} skipped")
    return "\n".join(text)


class FilterModule:
    def filters(self):
        return {"migration_table": migration_table}
