"""End to end on a real single-node SLURM 22.05 and the embedded chain: rewards land only for the verified provider."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hpc_adapter.accounting import SacctFormat, SacctReader
from attest.keys import AccountKey
from hpc_adapter.ledger import RewardLedger
from hpc_adapter.rewards import HpcConfig, RewardCycle, reward_amount

VERIFIED = AccountKey.generate().address
UNVERIFIED = AccountKey.generate().address
RATE = 3.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jobs(slurm_cluster):
    """Submit jobs under ProviderA (verified) and ProviderB (below threshold); SLURM lowercases the accounts."""
    slurm_cluster.add_accounts("ProviderA", "ProviderB")
    finished = {
        "a_ok": slurm_cluster.submit("ProviderA", "sleep 2", ntasks=2),
        "a_fail": slurm_cluster.submit("ProviderA", "exit 3"),
        "b_ok": slurm_cluster.submit("ProviderB", "sleep 1"),
    }
    slurm_cluster.wait_in_accounting(list(finished.values()))
    finished["a_long"] = slurm_cluster.submit("providera", "sleep 8")
    return finished


def _cycle(cluster, chain, ledger, fmt=SacctFormat.JSON):
    cfg = HpcConfig(
        rate_per_billing_second=RATE,
        min_score=70,
        accounts={"ProviderA": VERIFIED, "PROVIDERB": UNVERIFIED},
        clusters=(cluster.cluster,),
        lookback_s=3600,
    )
    reader = SacctReader(fmt, slurm_conf=str(cluster.slurm_conf))
    return RewardCycle(cfg, reader, ledger, chain, chain)()


def test_rewards_land_only_for_verified_provider_and_never_twice(slurm_cluster, jobs, local_chain, tmp_path):
    chain = local_chain
    chain.set_score(VERIFIED, 85)
    chain.set_score(UNVERIFIED, 40)
    assert chain.score(VERIFIED).value == 85 and chain.score(UNVERIFIED).value == 40
    ledger = RewardLedger(tmp_path / "ledger.sqlite")

    first = _cycle(slurm_cluster, chain, ledger)
    # The cross-check reads the same jobs through the other backend (parsable2).
    truth = {r.job_id: r for r in SacctReader(SacctFormat.PARSABLE2, slurm_conf=str(slurm_cluster.slurm_conf)).read(3600).records}
    assert truth[jobs["a_ok"]].account == "providera" and truth[jobs["a_ok"]].billing == 2
    assert truth[jobs["a_ok"]].elapsed_s >= 2
    expected_a = reward_amount(truth[jobs["a_ok"]], Decimal(repr(RATE)))
    assert expected_a >= 2 * 2 * 3

    assert [p.address for p in first.payouts] == [VERIFIED]
    assert first.payouts[0].amount == expected_a
    assert first.payouts[0].jobs == (f"veidtest/{jobs['a_ok']}",)
    assert chain.balance(VERIFIED) == expected_a
    assert chain.balance(UNVERIFIED) == 0
    reasons = {job: reason for _, job, reason in first.skipped}
    assert reasons[jobs["a_fail"]] == "state FAILED"
    assert "below threshold" in reasons[jobs["b_ok"]]
    # Still running, or not even in accounting yet (slurmdbd lags slurmctld): neither paid nor recorded.
    assert not ledger.settled([("veidtest", jobs["a_long"])])

    second = _cycle(slurm_cluster, chain, ledger, fmt=SacctFormat.PARSABLE2)
    assert second.payouts == () or second.payouts[0].jobs == (f"veidtest/{jobs['a_long']}",)
    assert chain.balance(UNVERIFIED) == 0

    slurm_cluster.wait_in_accounting([jobs["a_long"]])
    third = _cycle(slurm_cluster, chain, ledger)
    late = [p for cycle in (second, third) for p in cycle.payouts]
    assert len(late) == 1 and late[0].jobs == (f"veidtest/{jobs['a_long']}",)
    long_rec = {r.job_id: r for r in SacctReader(slurm_conf=str(slurm_cluster.slurm_conf)).read(3600).records}[jobs["a_long"]]
    assert late[0].amount == reward_amount(long_rec, Decimal(repr(RATE)))

    fourth = _cycle(slurm_cluster, chain, ledger)
    assert fourth.payouts == ()
    assert fourth.skipped == ()
    assert fourth.already_settled == 4
    assert chain.balance(VERIFIED) == expected_a + late[0].amount
    txs = [p.tx_hash for c in (first, second, third) for p in c.payouts]
    assert len(txs) == 2 and all(chain.client.ledger.query_tx(h).code == 0 for h in txs)
    assert ledger.total_paid(VERIFIED) == chain.balance(VERIFIED)


def test_json_and_parsable2_backends_agree_on_real_accounting(slurm_cluster, jobs):
    conf = str(slurm_cluster.slurm_conf)
    slurm_cluster.wait_in_accounting([jobs["a_ok"], jobs["a_fail"], jobs["b_ok"]])
    by_json = {r.job_id: r for r in SacctReader(SacctFormat.JSON, slurm_conf=conf).read(3600).records}
    by_text = {r.job_id: r for r in SacctReader(SacctFormat.PARSABLE2, slurm_conf=conf).read(3600).records}
    for key in ("a_ok", "a_fail", "b_ok"):
        assert by_json[jobs[key]] == by_text[jobs[key]]
    assert by_json[jobs["a_fail"]].state == "FAILED"


def test_veid_hpc_rewards_cli_pays_and_prints(slurm_cluster, local_chain, tmp_path):
    from click.testing import CliRunner

    from hpc_adapter.cli import hpc

    provider = AccountKey.generate().address
    local_chain.set_score(provider, 90)
    slurm_cluster.add_accounts("ProviderC")
    job = slurm_cluster.submit("ProviderC", "sleep 1", ntasks=2)
    slurm_cluster.wait_in_accounting([job])
    args = ["rewards", "--chain-home", str(local_chain.home), "--grpc", local_chain.address,
            "--map", f"ProviderC={provider}", "--slurm-conf", str(slurm_cluster.slurm_conf),
            "--ledger", str(tmp_path / "cli-ledger.sqlite")]  # fmt: skip
    first = CliRunner().invoke(hpc, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    paid = local_chain.balance(provider)
    assert paid > 0 and f"paid {paid} uve in 1 transfer(s)" in first.output and provider in first.output
    second = CliRunner().invoke(hpc, args, catch_exceptions=False)
    assert "paid 0 uve in 0 transfer(s)" in second.output
    assert local_chain.balance(provider) == paid
