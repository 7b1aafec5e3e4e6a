"""Benchmark of the synthetic identity generator: throughput on 2 workers against 1, and per-document cost.

Run: ``.venv/bin/python -m bench.bench_synth [--n 1000] [--seed 1]``. The target is 1,000 documents
in under 2 minutes on 2 cores. Rows:

* ``generate, 2 workers``: wall time of :func:`training.synth.generate` for ``--n`` samples;
* ``generate, 1 worker`` (peer): the same code on one process for ``--n // 5`` samples; the ratio
  column is the speed-up of 2 workers over 1 (near 2 when the two cores are free);
* ``render_sample`` per document: median wall and CPU seconds of single samples in this process,
  and the projection of the CPU figure to ``--n`` documents on 2 cores (independent of other load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from training.synth import SynthConfig, generate, make_plan
from training.synth_sample import render_sample


def _timed_generate(n: int, seed: int, workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="veid-bench-synth-") as tmp:
        start = time.perf_counter()
        generate(Path(tmp) / "out", n, seed, SynthConfig(workers=workers), progress=False)
        return time.perf_counter() - start


def _per_doc(n: int, seed: int) -> tuple[list[float], list[float]]:
    cfg = SynthConfig(workers=1)
    walls, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="veid-bench-synth-") as tmp:
        out = Path(tmp)
        for sub in ("images", "flat", "masks", "selfies"):
            (out / sub).mkdir()
        for plan in make_plan(n, seed, cfg):
            w0, c0 = time.perf_counter(), time.process_time()
            render_sample(plan, seed, cfg, out)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="documents for the 2-worker run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-doc", type=int, default=60, help="documents timed one by one")
    args = parser.parse_args()
    peer_n = max(args.n // 5, 10)
    two = _timed_generate(args.n, args.seed, 2)
    one = _timed_generate(peer_n, args.seed, 1)
    walls, cpus = _per_doc(args.per_doc, args.seed + 1)
    med_wall, med_cpu = statistics.median(walls), statistics.median(cpus)
    mean_cpu = statistics.fmean(cpus)
    rate_two, rate_one = args.n / two, peer_n / one
    print(f"cores visible: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(f"{'run':<28}{'n':>6}{'seconds':>10}{'docs/s':>9}{'s/doc':>14}{'ratio':>8}")
    print(f"{'generate, 2 workers':<28}{args.n:>6}{two:>10.1f}{rate_two:>9.2f}{2 / rate_two:>14.3f}{rate_two / rate_one:>8.2f}")
    print(f"{'generate, 1 worker (peer)':<28}{peer_n:>6}{one:>10.1f}{rate_one:>9.2f}{1 / rate_one:>14.3f}{1.0:>8.2f}")
    print(f"{'render_sample, wall':<28}{len(walls):>6}{sum(walls):>10.1f}{len(walls) / sum(walls):>9.2f}{med_wall:>14.3f}{'':>8}")
    print(f"{'render_sample, CPU':<28}{len(cpus):>6}{sum(cpus):>10.1f}{len(cpus) / sum(cpus):>9.2f}{med_cpu:>14.3f}{'':>8}")
    print(f"projection from CPU time: {args.n} docs on 2 free cores ~ {args.n * mean_cpu / 2:.0f} s "
          f"(target < 120 s); measured 2-worker wall time: {two:.0f} s")
    print("s/doc: seconds per document over the run (generate rows), median per document (render_sample rows)")


if __name__ == "__main__":
    main()
