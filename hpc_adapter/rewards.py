"""Compute rewards for verified HPC providers: billing x elapsed seconds x rate, COMPLETED jobs only, paid once.

One cycle (:class:`RewardCycle`) reads accounting over a lookback window, drops jobs already
settled in the :class:`~hpc_adapter.ledger.RewardLedger`, leaves unfinished jobs (and jobs
not yet in accounting) for a later cycle, records jobs that will never be paid (not
COMPLETED, provider below the score threshold) as skipped, and pays the rest with one bank
transfer per provider. A record that cannot be used is reported in the cycle's problems.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from hpc_adapter.accounting import AccountingReader, JobRecord, Problem
from hpc_adapter.chain import Payer, ScoreReader
from hpc_adapter.ledger import RewardLedger
from veid.errors import AdapterError, ChainError, ConfigError
from veid.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class KubernetesConfig:
    """``hpc.kubernetes``: how a verified provider's node joins a SLURM cluster on Kubernetes."""

    kind: str = "NodeSet"  # "NodeSet" (Slinky slurm-operator) or "StatefulSet" (plain slurmd pods)
    namespace: str = "slurm"
    image: str = "ghcr.io/slinkyproject/slurmd:25.05-ubuntu24.04"
    controller: str = "slurm"  # Slinky Controller CR name / slurmctld host for StatefulSets
    cpus: int = 4
    memory_mib: int = 8192
    partition: str = "veid"


@dataclass(frozen=True)
class HpcConfig:
    """``hpc`` section of params.yaml.

    Attributes:
        rate_per_billing_second: reward per billing unit per second, in base units of ``denom``.
        denom: bank denomination paid.
        min_score: providers below this on-chain score (0..100) are not paid.
        lookback_s: accounting window read by each cycle, seconds (covers accounting lag).
        backend: ``"sacct"`` (Slurm 21.08+, default) or ``"pyslurm"`` (optional, Slurm 25.11 sites).
        sacct_format: ``"parsable2"`` (default: 9x faster to parse than ``"json"`` for the same jobs) or ``"json"``.
        sacct_bin: the sacct executable.
        slurm_conf: ``SLURM_CONF`` for sacct (``""`` inherits the environment).
        ledger_path: SQLite file of settled jobs.
        accounts: SLURM account -> provider chain address (accounts matched lowercased).
        clusters: only jobs of these clusters are paid (empty: any cluster).
        memo_prefix: prefix of the transfer memo.
        kubernetes: :class:`KubernetesConfig`.
    """

    rate_per_billing_second: float = 1.0
    denom: str = "uve"
    min_score: int = 70
    lookback_s: int = 7 * 24 * 3600
    backend: str = "sacct"
    sacct_format: str = "parsable2"
    sacct_bin: str = "sacct"
    slurm_conf: str = ""
    ledger_path: str = "data/hpc/rewards.sqlite"
    accounts: dict[str, str] = field(default_factory=dict)
    clusters: tuple[str, ...] = ()
    memo_prefix: str = "veid-hpc/v1"
    kubernetes: KubernetesConfig = field(default_factory=KubernetesConfig)

    def __post_init__(self) -> None:
        if self.rate_per_billing_second < 0:
            raise ConfigError("hpc.rate_per_billing_second must be >= 0")
        if not 0 <= self.min_score <= 100:
            raise ConfigError("hpc.min_score must be within 0..100")
        if self.lookback_s <= 0:
            raise ConfigError("hpc.lookback_s must be positive")
        if self.backend not in ("sacct", "pyslurm"):
            raise ConfigError("hpc.backend must be 'sacct' or 'pyslurm'")
        if self.sacct_format not in ("json", "parsable2"):
            raise ConfigError("hpc.sacct_format must be 'json' or 'parsable2'")


@dataclass(frozen=True)
class Reward:
    """A payable job: who gets how much for it (``amount`` in base units)."""

    cluster: str
    job_id: str
    address: str
    amount: int


@dataclass(frozen=True)
class Payout:
    """One bank transfer made by a cycle."""

    address: str
    amount: int
    denom: str
    jobs: tuple[str, ...]
    tx_hash: str


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did.

    Attributes:
        payouts: transfers made.
        skipped: ``(cluster, job_id, reason)`` judged never payable this cycle.
        waiting: job keys not final yet (picked up by a later cycle).
        already_settled: records ignored because the ledger has them.
        problems: unusable records and refused transfers (never fatal).
        in_doubt: ledger rows left ``sending`` by an interrupted earlier cycle.
    """

    payouts: tuple[Payout, ...]
    skipped: tuple[tuple[str, str, str], ...]
    waiting: tuple[str, ...]
    already_settled: int
    problems: tuple[Problem, ...]
    in_doubt: tuple[tuple[str, str, str, int], ...]

    @property
    def total_paid(self) -> int:
        """Sum of all payouts, base units."""
        return sum(p.amount for p in self.payouts)


def reward_amount(record: JobRecord, rate: Decimal) -> int:
    """``billing x elapsed_s x rate``, rounded down to whole base units."""
    return int((Decimal(record.billing * record.elapsed_s) * rate).to_integral_value(rounding=ROUND_FLOOR))


def plan_rewards(
    records: Iterable[JobRecord], accounts: Mapping[str, str], rate: Decimal
) -> tuple[list[Reward], list[tuple[str, str, str]], list[str], list[Problem]]:
    """Split records into payable rewards, final skips, still-running keys and problems.

    Pure computation (no chain, no ledger): what the benchmark times.

    Args:
        records: accounting records not yet settled.
        accounts: lowercased SLURM account -> chain address.
        rate: base units per billing unit-second.

    Returns:
        ``(rewards, skipped, waiting, problems)``.
    """
    rewards: list[Reward] = []
    skipped: list[tuple[str, str, str]] = []
    waiting: list[str] = []
    problems: list[Problem] = []
    for rec in records:
        key = f"{rec.cluster}/{rec.job_id}"
        if not rec.is_final:
            waiting.append(key)
            continue
        address = accounts.get(rec.account)
        if address is None:
            problems.append(Problem(key, f"SLURM account {rec.account!r} is not mapped to a provider address"))
            continue
        if rec.state != "COMPLETED":
            skipped.append((rec.cluster, rec.job_id, f"state {rec.state}"))
            continue
        amount = reward_amount(rec, rate)
        if amount <= 0:
            skipped.append((rec.cluster, rec.job_id, "zero billable usage"))
            continue
        rewards.append(Reward(rec.cluster, rec.job_id, address, amount))
    return rewards, skipped, waiting, problems


def memo_for(prefix: str, jobs: Iterable[tuple[str, str]]) -> str:
    """Transfer memo: prefix, job count and a digest of the sorted ``cluster/job`` keys (fits 256 bytes)."""
    keys = sorted(f"{c}/{j}" for c, j in jobs)
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
    return f"{prefix} jobs={len(keys)} sha256={digest}"


class RewardCycle:
    """Runs one reward cycle: ``RewardCycle(cfg, reader, ledger, scores, payer)() -> CycleReport``.

    Args:
        cfg: :class:`HpcConfig`.
        reader: accounting backend.
        ledger: settled-job ledger.
        scores: on-chain score reader.
        payer: sends the bank transfers.
    """

    def __init__(
        self, cfg: HpcConfig, reader: AccountingReader, ledger: RewardLedger, scores: ScoreReader, payer: Payer
    ) -> None:
        self.cfg = cfg
        self.reader = reader
        self.ledger = ledger
        self.scores = scores
        self.payer = payer
        self.accounts = {k.lower(): v for k, v in cfg.accounts.items()}
        self.rate = Decimal(repr(cfg.rate_per_billing_second))

    def __call__(self) -> CycleReport:
        batch = self.reader.read(self.cfg.lookback_s)
        problems = list(batch.problems)
        unique: dict[tuple[str, str], JobRecord] = {}
        for rec in batch.records:
            if self.cfg.clusters and rec.cluster not in self.cfg.clusters:
                continue
            key = (rec.cluster, rec.job_id)
            if key in unique:
                problems.append(Problem(f"{rec.cluster}/{rec.job_id}", "duplicate record; first one kept"))
                continue
            unique[key] = rec
        settled = self.ledger.settled(unique)
        fresh = [rec for key, rec in unique.items() if key not in settled]
        rewards, skipped, waiting, plan_problems = plan_rewards(fresh, self.accounts, self.rate)
        problems.extend(plan_problems)

        by_address: dict[str, list[Reward]] = defaultdict(list)
        for reward in rewards:
            by_address[reward.address].append(reward)
        batches: list[tuple[str, str, list[Reward]]] = []
        for address, items in sorted(by_address.items()):
            verdict = self._eligibility(address)
            if verdict is None:
                problems.append(Problem(address, "score query failed; jobs retried next cycle"))
            elif verdict:
                skipped.extend((r.cluster, r.job_id, verdict) for r in items)
            else:
                batches.append((uuid.uuid4().hex, address, items))
        payouts = self._pay(batches, problems)
        self.ledger.skip(skipped)
        report = CycleReport(
            tuple(payouts), tuple(skipped), tuple(waiting), len(settled), tuple(problems), tuple(self.ledger.in_doubt())
        )
        log.info(
            "hpc rewards cycle: %d payouts (%d %s), %d skipped, %d waiting, %d problems",
            len(payouts), report.total_paid, self.cfg.denom, len(skipped), len(waiting), len(problems),
        )
        return report

    def _eligibility(self, address: str) -> str | None:
        """``""`` when eligible, a reason when not, ``None`` when the chain could not say."""
        try:
            score = self.scores.score(address)
        except ChainError as exc:
            log.warning("score query failed for %s: %s", address, exc)
            return None
        if score is None:
            return "provider has no on-chain score"
        if score.value < self.cfg.min_score:
            return f"provider score {score.value} below threshold {self.cfg.min_score}"
        return ""

    def _pay(self, batches: list[tuple[str, str, list[Reward]]], problems: list[Problem]) -> list[Payout]:
        """Reserve every batch in the ledger, transfer one by one, then record paid and refused batches."""
        if not batches:
            return []
        try:
            self.ledger.reserve((b, a, [(r.cluster, r.job_id, r.amount) for r in items]) for b, a, items in batches)
        except AdapterError as exc:
            problems.append(Problem("ledger", str(exc)))
            return []
        payouts, confirmed, released = [], [], []
        for batch, address, items in batches:
            keys = [(r.cluster, r.job_id) for r in items]
            amount = sum(r.amount for r in items)
            try:
                tx_hash = self.payer.send(address, amount, self.cfg.denom, memo_for(self.cfg.memo_prefix, keys))
            except ChainError as exc:
                released.append(batch)
                problems.append(Problem(address, f"transfer of {amount} {self.cfg.denom} refused: {exc}"))
                continue
            confirmed.append((batch, tx_hash))
            payouts.append(Payout(address, amount, self.cfg.denom, tuple(f"{c}/{j}" for c, j in keys), tx_hash))
        self.ledger.finish(confirmed, released)
        return payouts
