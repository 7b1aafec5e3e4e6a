"""Embedded chain throughput and query latency, measured through cosmpy against a `veid chain start` subprocess.

Rows: attestation transactions sent sequentially (10 attestations per tx, goal >= 100
attestations/s) against two peers measured in the same run: 1 attestation per tx, and plain
cosmpy bank transfers (LedgerClient.send_tokens). Queries: veid Score and Attestations against
the cosmpy bank Balance query (goal: Score p50 < 5 ms). Each tx is simulated, signed
(SIGN_MODE_DIRECT), broadcast (SYNC) and waited for (GetTx polling every 5 ms).

Run: ``.venv/bin/python -m bench.bench_chain [--txs N] [--queries N]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import bech32

from chain_client.chain.home import init_home, wallet
from chain_client.client import ChainClient
from chain_client.config import ChainConfig
from chain_client.messages import AttestationPayload
from veid.config import DEFAULT_PARAMS, load_section


def _subject() -> str:
    return bech32.bech32_encode("virtengine", bech32.convertbits(os.urandom(20), 8, 5, True))


def _payloads(home: Path, cfg: ChainConfig, n: int) -> list[AttestationPayload]:
    """n real attest/ signed attestations by validator-0 about random subjects (signed before timing)."""
    from attest.attestation import Attestation, commit_evidence, sign_attestation
    from attest.keys import AccountKey
    from veid.types import ModelVersion

    key = AccountKey.from_mnemonic((home / "keys" / "validator-0.mnemonic").read_text(), cfg.prefix)
    out = []
    for i in range(n):
        att = Attestation(
            issuer=key.address, subject=_subject(), score=60 + i % 40, tier="verified", scopes=(), reason_codes=("ok",),
            model_versions=(ModelVersion("scorer", "ab" * 32),), pipeline_version="0.1.0",
            evidence_commitment=commit_evidence([os.urandom(32)], []), issued_at=1_700_000_000, expires_at=1_900_000_000,
        )  # fmt: skip
        out.append(AttestationPayload.from_signed(sign_attestation(att, key)))
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _throughput(client: ChainClient, validator, payloads: list[AttestationPayload], per_tx: int) -> tuple[float, list[float]]:
    """Attestations per second and per-tx latencies, sending ``per_tx`` attestations per tx sequentially."""
    batches = [payloads[i : i + per_tx] for i in range(0, len(payloads), per_tx)]
    start = time.perf_counter()
    latencies = _timed_each(lambda b: client.submit_attestations(validator, b), batches)
    return len(payloads) / (time.perf_counter() - start), latencies


def _timed_each(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    """Start a node, run the measurements, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=40, help="transactions per throughput row")
    parser.add_argument("--queries", type=int, default=500, help="queries per latency row")
    args = parser.parse_args()
    from chain_client.chain.home import spawn_node

    cfg = dataclasses.replace(load_section(DEFAULT_PARAMS, "chain", ChainConfig), grpc_port=0)
    home = Path(tempfile.mkdtemp(prefix="veid-bench-chain-"))
    init_home(home, cfg)
    proc, address = spawn_node(home)
    try:
        client = ChainClient(address, cfg)
        v0, alice, bob = (wallet(home, n, cfg.prefix) for n in ("validator-0", "alice", "bob"))
        n = args.txs
        batched = _payloads(home, cfg, 10 * n)
        single = _payloads(home, cfg, n)
        client.submit_attestations(v0, _payloads(home, cfg, 2))  # warm up (first tx records the public key)
        rate10, lat10 = _throughput(client, v0, batched, 10)
        rate1, lat1 = _throughput(client, v0, single, 1)
        ledger = client.ledger  # plain cosmpy: send_tokens + wait_to_complete
        start = time.perf_counter()
        lat_send = _timed_each(
            lambda _: ledger.send_tokens(bob.address(), 1, cfg.denom, alice).wait_to_complete(
                timeout=30, poll_period=timedelta(seconds=cfg.poll_interval_s)
            ),
            range(n),
        )
        rate_send = n / (time.perf_counter() - start)

        subject = batched[0].subject
        q_score = _timed(lambda: client.score(subject), args.queries)
        q_atts = _timed(lambda: client.attestations(subject), args.queries)
        q_bank = _timed(lambda: ledger.query_bank_balance(alice.address()), args.queries)
        height = ledger.query_height()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    ms = 1000.0
    print(f"embedded chain {cfg.chain_id}: node subprocess on {address}, sqlite synchronous={cfg.sqlite_synchronous}, "
          f"block_time_ms={cfg.block_time_ms}, {n} sequential txs per row, final height {height}")  # fmt: skip
    print(f"{'throughput (sequential, via cosmpy)':<44}{'att/s':>9}{'tx/s':>8}{'tx p50 ms':>11}{'tx p95 ms':>11}")
    rows = [
        ("attestations, 10 per tx", rate10, rate10 / 10, lat10),
        ("peer: attestations, 1 per tx", rate1, rate1, lat1),
        ("peer: cosmpy send_tokens (bank MsgSend)", float("nan"), rate_send, lat_send),
    ]
    for name, att, tx, lat in rows:
        att_text = "-" if att != att else f"{att:.1f}"  # NaN: not an attestation row
        print(f"{name:<44}{att_text:>9}{tx:>8.1f}{statistics.median(lat) * ms:>11.1f}{_pct(lat, 0.95) * ms:>11.1f}")
    print(f"ratio 10-per-tx / 1-per-tx attestations/s: {rate10 / rate1:.2f}x")
    print(f"\n{'query latency (' + str(args.queries) + ' calls)':<44}{'p50 ms':>9}{'p95 ms':>9}")
    for name, lat in (("veid Score", q_score), ("veid Attestations", q_atts), ("peer: cosmpy bank Balance", q_bank)):
        print(f"{name:<44}{statistics.median(lat) * ms:>9.2f}{_pct(lat, 0.95) * ms:>9.2f}")
    print(f"ratio Score p50 / bank Balance p50: {statistics.median(q_score) / statistics.median(q_bank):.2f}x")
    goal_tx = "met" if rate10 >= 100 else "MISSED"
    goal_q = "met" if statistics.median(q_score) * ms < 5 else "MISSED"
    print(f"\ngoals: >= 100 attestations/s: {goal_tx} ({rate10:.0f}); Score p50 < 5 ms: {goal_q} "
          f"({statistics.median(q_score) * ms:.2f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
