"""Load test of the verification server on loopback: latency and throughput at concurrency 1/2/4, memory, 4x overload.

Run: ``.venv/bin/python -m bench.bench_serving [--requests N] [--max-seconds S] [--params FILE]``. It starts
``veid serve`` (params.yaml ``serving``: workers, max_concurrency) with a throw-away validator
home and client registry, sends genuine encrypted uploads (one synthetic identity, a fresh
capture salt per request), and prints:

* p50/p95 latency (s) and throughput (verifications/s) at each concurrency; every request
  must answer 200;
* peak resident memory (VmHWM) of every server process;
* overload: ``4 x max_concurrency`` simultaneous requests: how many got 503 and how fast,
  whether the server stayed up and answered the next request (recovery);
* the peer: the same pipeline called in process (no HTTP, no envelope), median latency, and
  the ratio server p50 at concurrency 1 / in-process median.

Bounded: at most ``--requests`` per level and ``--max-seconds`` in all (levels that would
start past the budget are skipped and reported as such).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))] if s else float("nan")


def _tree_memory(root: int) -> list[tuple[int, str, float]]:
    """(pid, short command, VmHWM MiB) of ``root`` and every live descendant (BentoML's workers)."""
    parents = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        parents[int(pid)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier and p not in tree]
        tree.update(kids)
        frontier = kids
    out = []
    for pid in sorted(tree):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmd = [c.decode(errors="replace") for c in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if c]
        except OSError:
            continue
        hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        name = " ".join(c for c in cmd if "worker" in c or "serve" in c or "service" in c)[-60:] or (cmd[0] if cmd else "?")
        out.append((pid, name, hwm / 1024.0))
    return out


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system, including reaped children such as Tesseract) of ``root``'s process tree."""
    total = 0.0
    for pid, _, _ in _tree_memory(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def _setup(root: Path):
    from attest.keys import AccountKey, Ed25519Key
    from pipelines.provenance.registry import ApprovedClient, JsonFileClientRegistry
    from serving.client import CaptureApp
    from serving.daemon import ValidatorHome
    from serving.demo import client_scopes, pick_identity
    from serving.keydir import create_encryption_key
    from training.synth import generate

    generate(root / "synth", n=3, seed=3, progress=False, force=True)
    sample, history = pick_identity(root / "synth")
    (root / "vh" / "keys").mkdir(parents=True)
    (root / "vh" / "keys" / "val.mnemonic").write_text(AccountKey.generate_mnemonic())
    ValidatorHome(root / "vh", "val", root / "chain", root / "env").write()
    enc = create_encryption_key(root / "vh")
    app = CaptureApp("bench-app", Ed25519Key.generate())
    reg = JsonFileClientRegistry(root / "registry.json")
    reg.add(ApprovedClient(app.client_id, app.key.public_key_bytes, "bench"))
    reg.save()
    images = ((root / "synth" / sample["image"]).read_bytes(), (root / "synth" / sample["selfie"]).read_bytes())
    return app, enc, images, client_scopes(history)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=24, help="requests per concurrency level (p95 of fewer is close to the maximum)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="overall budget")
    parser.add_argument("--levels", default="1,2,4")
    parser.add_argument("--no-peer", action="store_true", help="skip the in-process peer")
    parser.add_argument("--params", default=None, help="params.yaml for the server and the peer (default: the repository's)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from attest.keys import AccountKey
    from serving.client import VerificationClient
    from serving.config import ServingConfig
    from serving.serve_cli import server_command, server_env
    from veid.config import DEFAULT_PARAMS, load_section

    t_start = time.monotonic()
    params = Path(args.params) if args.params else DEFAULT_PARAMS
    cfg = load_section(params, "serving", ServingConfig)
    root = Path(tempfile.mkdtemp(prefix="veid-bench-serving-"))
    app, enc, (document, selfie), scopes = _setup(root)
    user = AccountKey.generate()

    def envelope() -> bytes:
        return app.upload(document, selfie, scopes, user, [enc.public_key()])[0]

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(server_command("127.0.0.1", port), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env=server_env(params, root / "vh", None, root / "registry.json", root / "state"),
                            start_new_session=True)
    client = VerificationClient(f"http://127.0.0.1:{port}", timeout_s=300)
    rows, overload, memory, startup = [], None, [], float("nan")
    stages: dict[int, dict[str, list[float]]] = {}  # concurrency -> stage -> seconds (the server's own timings)
    try:
        while not client.ready():
            if proc.poll() is not None or time.monotonic() - t_start > 300:
                print((root / "server.log").read_text()[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.5)
        startup = time.monotonic() - t_start
        warm = client.verify(envelope())
        assert warm.status_code == 200, warm.text

        for level in [int(x) for x in args.levels.split(",")]:
            if time.monotonic() - t_start > args.max_seconds * 0.7:
                rows.append((level, None))
                continue
            envs = [envelope() for _ in range(args.requests)]
            lat, codes = [], []

            def one(e: bytes, level: int = level) -> None:
                t = time.perf_counter()
                r = client.verify(e)
                lat.append(time.perf_counter() - t)
                codes.append(r.status_code)
                if r.status_code == 200:
                    for name, seconds in r.json().get("stage_seconds", {}).items():
                        stages.setdefault(level, {}).setdefault(name, []).append(seconds)

            cpu0, t0 = _tree_cpu(proc.pid), time.perf_counter()
            with ThreadPoolExecutor(level) as pool:
                list(pool.map(one, envs))
            wall = time.perf_counter() - t0
            cpu = (_tree_cpu(proc.pid) - cpu0) / len(envs)
            rows.append((level, (statistics.median(lat), _pct(lat, 0.95), sum(c == 200 for c in codes) / wall,
                                 sum(c != 200 for c in codes), len(codes), cpu)))

        burst = 4 * cfg.max_concurrency
        envs = [envelope() for _ in range(burst)]
        barrier = threading.Barrier(burst)
        results: list[tuple[int, float]] = []

        def shot(e: bytes) -> None:
            barrier.wait()
            t = time.perf_counter()
            r = client.verify(e)
            results.append((r.status_code, time.perf_counter() - t))

        with ThreadPoolExecutor(burst) as pool:
            list(pool.map(shot, envs))
        busy = [t for c, t in results if c == 503]
        alive = proc.poll() is None
        t = time.perf_counter()
        after = client.verify(envelope()).status_code if alive else 0
        overload = (burst, len(busy), _pct(busy, 0.5), max(busy) if busy else float("nan"),
                    sum(c == 200 for c, _ in results), sorted({c for c, _ in results}), alive, after, time.perf_counter() - t)
        memory = _tree_memory(proc.pid)
    finally:
        client.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    peer = None
    if not args.no_peer and time.monotonic() - t_start < args.max_seconds * 0.9:
        from serving.verifier import IdentityVerifier, PipelineSettings

        verifier = IdentityVerifier.load(PipelineSettings.from_params(params))
        verifier.verify(document, selfie, subject=user.address)
        times = []
        for _ in range(min(args.requests, 5)):
            t = time.perf_counter()
            verifier.verify(document, selfie, subject=user.address)
            times.append(time.perf_counter() - t)
        peer = statistics.median(times)

    print(f"veid serve: workers {cfg.workers}, api_threads {cfg.api_threads}, max_concurrency {cfg.max_concurrency}, "
          f"{os.cpu_count()} CPUs; ready after {startup:.1f} s (model loading included)")
    load = os.getloadavg()[0]
    print(f"machine load average (1 min) at the end: {load:.1f} on {os.cpu_count()} CPUs (other jobs share them)")
    print(f"{'concurrency':>11} {'p50 s':>8} {'p95 s':>8} {'verif/s':>8} {'errors':>7} {'requests':>8} {'CPU s/verif':>12}")
    for level, r in rows:
        if r is None:
            print(f"{level:>11} {'skipped (time budget)':>40}")
        else:
            print(f"{level:>11} {r[0]:>8.2f} {r[1]:>8.2f} {r[2]:>8.3f} {r[3]:>7d} {r[4]:>8d} {r[5]:>12.2f}")
    if stages:
        names = sorted({n for per in stages.values() for n in per})
        print("median wall ms per pipeline stage, as the server timed them (document runs beside the selfie's face stage)")
        print(f"{'concurrency':>11} " + " ".join(f"{n:>9}" for n in names))
        for level, per in sorted(stages.items()):
            print(f"{level:>11} " + " ".join(f"{statistics.median(per[n]) * 1e3:9.0f}" if n in per else f"{'':>9}"
                                             for n in names))
    if overload:
        burst, n503, p50, mx, ok, codes, alive, after, after_s = overload
        print(f"overload x4: {burst} simultaneous -> {n503} x 503 (p50 {p50 * 1000:.0f} ms, max {mx * 1000:.0f} ms), "
              f"{ok} x 200, codes {codes}; server alive {alive}; next request {after} in {after_s:.2f} s")
    for pid, name, mib in memory:
        print(f"peak RSS pid {pid:<7} {mib:8.0f} MiB  {name}")
    if peer is not None and rows and rows[0][1] is not None:
        print(f"peer: in-process pipeline median {peer:.2f} s; server p50 at concurrency 1 / in-process = {rows[0][1][0] / peer:.2f}x")
    print(f"total {time.monotonic() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
