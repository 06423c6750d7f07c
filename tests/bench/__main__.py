"""Run every benchmark module (tests/bench/bench_*.py) and print its figures.

Each module exposes ``run() -> list[str]``: lines of results, each measured side by side
with its baseline in the same run, ending in a ratio.
"""
import importlib
import pkgutil
import sys

import tests.bench as package


def main() -> int:
    wanted = sys.argv[1:]
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("bench_"))
    for name in names:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"tests.bench.{name}")
        print(f"== {name}")
        for line in module.run():
            print(f"   {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
