"""Reward cycle logic against an in-memory chain and a scripted accounting reader."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hpc_adapter.accounting import AccountingBatch, JobRecord, Problem
from hpc_adapter.chain import InMemoryChain
from hpc_adapter.ledger import RewardLedger
from hpc_adapter.rewards import HpcConfig, RewardCycle, memo_for, reward_amount
from veid.errors import ChainError, ConfigError

A, B = "virtengine1aaaa", "virtengine1bbbb"


class ScriptedReader:
    def __init__(self, *batches: AccountingBatch) -> None:
        self.batches = list(batches)

    def read(self, lookback_s: int) -> AccountingBatch:
        return self.batches.pop(0) if len(self.batches) > 1 else self.batches[0]


def job(job_id, account="prova", state="COMPLETED", elapsed=100, billing=2, cluster="c1"):
    return JobRecord(cluster, str(job_id), account, state, elapsed, billing, 1 if state != "RUNNING" else None)


def cycle(reader, chain, ledger, **kw):
    cfg = HpcConfig(rate_per_billing_second=0.5, accounts={"ProvA": A, "provb": B}, **kw)
    return RewardCycle(cfg, reader, ledger, chain, chain)


@pytest.fixture
def chain():
    c = InMemoryChain()
    c.set_score(A, 90)
    c.set_score(B, 10)
    return c


def test_amount_is_billing_times_elapsed_times_rate_rounded_down():
    assert reward_amount(job(1, elapsed=3, billing=3), Decimal("0.5")) == 4
    assert reward_amount(job(1, elapsed=10, billing=2), Decimal("1.25")) == 25


def test_pays_once_per_provider_and_skips_the_rest(chain):
    ledger = RewardLedger(":memory:")
    batch = AccountingBatch(
        (job(1), job(2, elapsed=10), job(3, state="FAILED"), job(4, account="provb"), job(5, state="RUNNING"),
         job(6, account="nobody")),
        (Problem("jobs[9]", "malformed record: x"),),
    )
    report = cycle(ScriptedReader(batch), chain, ledger)()
    assert [(p.address, p.amount, p.jobs) for p in report.payouts] == [(A, 100 + 10, ("c1/1", "c1/2"))]
    assert chain.balance(A, "uve") == 110 and chain.balance(B, "uve") == 0
    assert {(j, r) for _, j, r in report.skipped} == {("3", "state FAILED"), ("4", "provider score 10 below threshold 70")}
    assert report.waiting == ("c1/5",)
    assert [p.where for p in report.problems] == ["jobs[9]", "c1/6"]
    again = cycle(ScriptedReader(batch), chain, ledger)()
    assert again.payouts == () and again.skipped == () and again.already_settled == 4
    assert len(chain.transfers) == 1
    assert chain.transfers[0].memo == memo_for("veid-hpc/v1", [("c1", "1"), ("c1", "2")])


def test_job_appearing_late_in_accounting_is_paid_next_cycle(chain):
    ledger = RewardLedger(":memory:")
    reader = ScriptedReader(AccountingBatch((job(1),), ()), AccountingBatch((job(1), job(2, state="RUNNING")), ()),
                            AccountingBatch((job(1), job(2)), ()))
    c = cycle(reader, chain, ledger)
    assert c().total_paid == 100
    assert c().total_paid == 0
    assert c().total_paid == 100
    assert chain.balance(A, "uve") == 200


def test_refused_transfer_is_released_and_retried(chain):
    chain.fail_sends_to.add(A)
    ledger = RewardLedger(":memory:")
    c = cycle(ScriptedReader(AccountingBatch((job(1),), ())), chain, ledger)
    first = c()
    assert first.payouts == () and "refused" in first.problems[0].reason
    chain.fail_sends_to.clear()
    assert c().total_paid == 100
    assert c().total_paid == 0


def test_score_query_failure_leaves_jobs_for_next_cycle(chain):
    class Flaky(InMemoryChain):
        fail = True

        def score(self, address):
            if self.fail:
                raise ChainError("node down")
            return super().score(address)

    flaky = Flaky()
    flaky.set_score(A, 90)
    ledger = RewardLedger(":memory:")
    c = cycle(ScriptedReader(AccountingBatch((job(1),), ())), flaky, ledger)
    assert c().payouts == ()
    Flaky.fail = False
    assert c().total_paid == 100


def test_duplicates_and_foreign_clusters(chain):
    ledger = RewardLedger(":memory:")
    batch = AccountingBatch((job(1), job(1), job(2, cluster="other")), ())
    report = cycle(ScriptedReader(batch), chain, ledger, clusters=("c1",))()
    assert report.total_paid == 100
    assert [p.reason for p in report.problems] == ["duplicate record; first one kept"]


def test_interrupted_transfer_is_in_doubt_not_repaid(chain, tmp_path):
    ledger = RewardLedger(tmp_path / "l.sqlite")
    ledger.reserve([("batch-1", A, [("c1", "1", 100)])])  # as if the process died after reserving
    report = cycle(ScriptedReader(AccountingBatch((job(1),), ())), chain, ledger)()
    assert report.payouts == () and report.in_doubt == (("c1", "1", A, 100),)


def test_bad_config_is_rejected():
    with pytest.raises(ConfigError):
        HpcConfig(min_score=101)
    with pytest.raises(ConfigError):
        HpcConfig(sacct_format="xml")
