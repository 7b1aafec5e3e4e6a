"""Benchmark of the HPC and marketplace adapters: reward computation over 10,000 accounting records, order decisions per second.

Run: ``.venv/bin/python -m bench.bench_adapters [--records N] [--orders N] [--reps N]``.
Prints one table of medians over ``--reps`` repetitions, each VEID figure beside a peer
measured in the same run:

* rewards: parsing ``sacct --json`` / ``--parsable2`` output of N jobs (shapes recorded from
  Slurm 22.05), planning rewards, and a full cycle (parse, SQLite ledger, one transfer per
  provider to an in-memory chain), first cycle and the idempotent second one. Peer: the
  naive loop (one ledger lookup, insert and transfer per job) on the same records.
* orders: Waldur order-gate decisions per second (real ADR-036 secp256k1 verification,
  in-memory chain) against the bare ``verify_adr036`` call they include; bid decisions per
  second over N orders against a plain dict lookup price sum.
Goal (issue 10): a cycle over 10,000 records under 1 s.
"""

from __future__ import annotations

import argparse
import copy
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from attest.adr036 import sign_adr036, verify_adr036
from attest.keys import AccountKey
from hpc_adapter.accounting import AccountingBatch, parse_sacct_json, parse_sacct_parsable
from hpc_adapter.chain import InMemoryChain, Role
from hpc_adapter.ledger import RewardLedger
from hpc_adapter.rewards import HpcConfig, RewardCycle, plan_rewards, reward_amount
from market_adapter.bids import BidEngine, OpenOrder
from market_adapter.gate import BidConfig, MarketConfig, OfferingFacts, OrderFacts, OrderGate
from veid.types import CheckResult

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "hpc_adapter" / "data" / "sacct_22.05_jobs.json"
STATES = ("COMPLETED",) * 8 + ("FAILED", "CANCELLED")
PROVIDERS = 20


def _median(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synth_sacct(n: int) -> tuple[str, str]:
    """``sacct --json`` and ``--parsable2`` text for ``n`` jobs, built from a real 22.05 record."""
    doc = json.loads(SAMPLE.read_text())
    template = doc["jobs"][0]
    jobs, lines = [], []
    for i in range(n):
        job = copy.deepcopy(template)
        job["job_id"] = 1000 + i
        job["account"] = f"provider{i % PROVIDERS:02d}"
        job["state"]["current"] = STATES[i % len(STATES)]
        job["time"]["elapsed"] = 60 + i % 3600
        job["tres"]["allocated"][-1]["count"] = 1 + i % 8
        jobs.append(job)
        lines.append(f"bench|{1000 + i}|{job['account']}|{job['state']['current']}|{job['time']['elapsed']}|"
                     f"billing={1 + i % 8},cpu={1 + i % 8},node=1|2026-11-28T10:52:29")  # fmt: skip
    doc["jobs"] = jobs
    return json.dumps(doc), "\n".join(lines)


class _FixedReader:
    """Returns fixed sacct output through the real parser (``json`` or ``parsable2``), as SacctReader would."""

    def __init__(self, text: str, fmt: str) -> None:
        self.text, self.fmt = text, fmt

    def read(self, lookback_s: int) -> AccountingBatch:
        if self.fmt == "json":
            return parse_sacct_json(self.text)
        return parse_sacct_parsable(self.text.splitlines())


def _naive_cycle(batch: AccountingBatch, accounts: dict[str, str], chain: InMemoryChain, db_path: str) -> int:
    """Peer: per job, look it up, pay it and record it (what a first implementation would do)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")  # same journal mode as RewardLedger, so the peer is not handicapped
    db.execute("CREATE TABLE IF NOT EXISTS paid (cluster TEXT, job TEXT, PRIMARY KEY (cluster, job))")
    rate, paid = Decimal("1.0"), 0
    for rec in batch.records:
        if db.execute("SELECT 1 FROM paid WHERE cluster=? AND job=?", (rec.cluster, rec.job_id)).fetchone():
            continue
        if rec.state != "COMPLETED" or rec.account not in accounts:
            continue
        score = chain.score(accounts[rec.account])
        if score is None or score.value < 70:
            continue
        amount = reward_amount(rec, rate)
        chain.send(accounts[rec.account], amount, "uve", f"job {rec.job_id}")
        db.execute("INSERT INTO paid VALUES (?, ?)", (rec.cluster, rec.job_id))
        paid += amount
    db.close()
    return paid


def bench_rewards(n: int, reps: int) -> list[tuple[str, str, str, str]]:
    json_text, text = synth_sacct(n)
    accounts = {f"provider{i:02d}": f"virtengine1provider{i:02d}" for i in range(PROVIDERS)}
    chain = InMemoryChain()
    for i, address in enumerate(accounts.values()):
        chain.set_score(address, 90 if i % 4 else 40)  # a quarter of the providers below threshold
    batch = parse_sacct_json(json_text)
    assert len(batch.records) == n and not batch.problems
    rows = []
    t_json = _median(lambda: parse_sacct_json(json_text), reps)
    t_text = _median(lambda: parse_sacct_parsable(text.splitlines()), reps)
    t_plan = _median(lambda: plan_rewards(batch.records, accounts, Decimal("1.0")), reps)
    rows.append((f"parse sacct --json, {n} jobs", f"{t_json * 1e3:.1f} ms", f"{t_text * 1e3:.1f} ms (--parsable2)",
                 f"{t_json / t_text:.2f}x"))  # fmt: skip
    rows.append((f"plan rewards, {n} records", f"{t_plan * 1e3:.1f} ms", "", ""))

    cfg = HpcConfig(accounts=accounts)
    timings: dict[str, list[float]] = {"parsable2": [], "json": [], "second": [], "naive": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(reps):
            for fmt, source in (("parsable2", text), ("json", json_text)):
                ledger = RewardLedger(Path(tmp) / f"ledger-{fmt}-{r}.sqlite")
                cycle = RewardCycle(cfg, _FixedReader(source, fmt), ledger, chain, chain)
                start = time.perf_counter()
                report = cycle()
                timings[fmt].append(time.perf_counter() - start)
                if fmt == "parsable2":
                    start = time.perf_counter()
                    again = cycle()
                    timings["second"].append(time.perf_counter() - start)
                    assert again.total_paid == 0 and not again.skipped and again.already_settled > 0
                ledger.close()
            naive_chain = InMemoryChain()
            naive_chain.scores = dict(chain.scores)
            start = time.perf_counter()
            naive_paid = _naive_cycle(batch, accounts, naive_chain, str(Path(tmp) / f"naive{r}.sqlite"))
            timings["naive"].append(time.perf_counter() - start)
            assert naive_paid == report.total_paid, (naive_paid, report.total_paid)
    t1, tj, t2, tn = (statistics.median(timings[k]) for k in ("parsable2", "json", "second", "naive"))
    rows.append((f"reward cycle, {n} records (parse+ledger+pay)", f"{t1 * 1e3:.1f} ms",
                 f"{tn * 1e3:.1f} ms (per-job loop)", f"{tn / t1:.1f}x faster"))  # fmt: skip
    rows.append(("  same cycle reading sacct --json", f"{tj * 1e3:.1f} ms", "", ""))
    rows.append(("  transfers: batched vs per job", f"{len(report.payouts)}", f"{len(naive_chain.transfers)}", ""))
    rows.append((f"second cycle, {n} records (nothing to pay)", f"{t2 * 1e3:.1f} ms", "", ""))
    rows.append(("  goal: cycle < 1 s (parsable2 default)", "met" if t1 < 1.0 else "NOT met", "", ""))
    return rows


def bench_orders(n_orders: int, n_bids: int, reps: int) -> list[tuple[str, str, str, str]]:
    chain = InMemoryChain()
    provider = AccountKey.generate()
    chain.set_roles(provider.address, {Role.SERVICE_PROVIDER})
    buyers = [AccountKey.generate() for _ in range(10)]
    for i, b in enumerate(buyers):
        chain.set_score(b.address, 50 + 5 * i)

    class Domains:
        def check(self, address: str, domain: str) -> CheckResult:
            return CheckResult("provider.domain", True, 1.0, "verified")

    gate = OrderGate(MarketConfig(), chain, chain, Domains())
    offering = OfferingFacts("off", provider.address, "gpu.example.org", 70)
    orders = []
    for i in range(n_orders):
        key, oid = buyers[i % len(buyers)], str(uuid.uuid4())
        orders.append(OrderFacts(oid, key.address, sign_adr036(key, oid.encode(), key.address), time.time()))
    t_gate = _median(lambda: [gate(o, offering) for o in orders], reps)
    t_sig = _median(lambda: [verify_adr036(o.buyer_address, o.order_uuid.encode(), dict(o.buyer_signature)) for o in orders], reps)
    rows = [(f"order gate decisions ({n_orders} orders)", f"{n_orders / t_gate:,.0f} /s",
             f"{n_orders / t_sig:,.0f} /s (bare ADR-036 verify)", f"{t_gate / t_sig:.2f}x time")]  # fmt: skip

    cfg = BidConfig(unit_prices={"gpu_hour": 2.5, "cpu_hour": 0.04}, capabilities={"gpu": "h100"}, min_buyer_score=70)
    engine = BidEngine(cfg, provider.address, chain, chain)
    open_orders = [
        OpenOrder(str(i), buyers[i % len(buyers)].address, {"gpu_hour": 1 + i % 50, "cpu_hour": 10.0},
                  {"gpu": "h100"} if i % 3 else {"gpu": "a100"})
        for i in range(n_bids)
    ]  # fmt: skip
    prices = cfg.unit_prices
    t_bid = _median(lambda: engine(open_orders), reps)
    t_dict = _median(lambda: [sum(q * prices[c] for c, q in o.quantities.items()) for o in open_orders], reps)
    rows.append((f"bid decisions ({n_bids} orders)", f"{n_bids / t_bid:,.0f} /s",
                 f"{n_bids / t_dict:,.0f} /s (price sum only)", f"{t_bid / t_dict:.1f}x time"))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--bids", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    rows = bench_rewards(args.records, args.reps) + bench_orders(args.orders, args.bids, args.reps)
    header = ("measure", "VEID (median)", "peer (same run)", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))


if __name__ == "__main__":
    main()
