"""Run every benchmark in bench/ in turn (``python -m bench [NAME ...]``) and print their tables."""

from __future__ import annotations

import pkgutil
import runpy
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}", file=sys.stderr)
        return 2
    failed = []
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        try:
            runpy.run_module(f"bench.{name}", run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        print(f"--- {name}: {time.perf_counter() - start:.1f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
