"""``python -m rnnviz.bench NAME [options]``: run the benchmark module ``rnnviz.bench.NAME``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import rnnviz.bench


def available() -> list[str]:
    """The benchmark names: every module of this package except this one."""
    return sorted(m.name for m in pkgutil.iter_modules(rnnviz.bench.__path__)
                  if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = available()
    if not argv or argv[0] not in names:
        print(f"usage: python -m rnnviz.bench {{{','.join(names)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(f"rnnviz.bench.{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
