"""End to end: an unmodified cosmpy LedgerClient against the embedded chain on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

from cosmpy.aerial.client import LedgerClient, NetworkConfig
from cosmpy.aerial.client.utils import prepare_and_broadcast_basic_transaction
from cosmpy.aerial.tx import Transaction

from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from chain_client.messages import msg_update_score


def _ledger(chain) -> LedgerClient:
    cfg = chain.cfg
    return LedgerClient(
        NetworkConfig(
            chain_id=cfg.chain_id, url=f"grpc+http://{chain.address}", fee_minimum_gas_price=cfg.gas_price,
            fee_denomination=cfg.denom, staking_denomination=cfg.denom,
        )  # fmt: skip
    )


def test_cosmpy_bank_transfer_lands(chain):
    ledger = _ledger(chain)
    alice, bob = chain.wallet("alice"), chain.wallet("bob")
    before_alice = ledger.query_bank_balance(alice.address())
    before_bob = ledger.query_bank_balance(bob.address())
    tx = ledger.send_tokens(bob.address(), 12345, chain.cfg.denom, alice)
    tx.wait_to_complete(timeout=10, poll_period=timedelta(milliseconds=10))
    assert tx.response.code == 0 and tx.response.height >= 1
    assert ledger.query_bank_balance(bob.address()) == before_bob + 12345
    fee = tx.response.gas_wanted * chain.cfg.gas_price
    spent = before_alice - ledger.query_bank_balance(alice.address())
    assert spent == 12345 + int(-(-fee // 1))  # amount + ceil(gas_wanted * gas_price)
    assert ledger.query_account(alice.address()).sequence == 1
    block = ledger.query_latest_block()
    assert block.chain_id == chain.cfg.chain_id and block.height == tx.response.height
    assert tx.tx_hash in block.tx_hashes
    assert ledger.query_node_info().app_name == "veid"
    assert tx.response.events["transfer"]["amount"] == f"12345{chain.cfg.denom}"
    balances = {c.denom: int(c.amount) for c in ledger.query_bank_all_balances(bob.address())}
    assert balances == {chain.cfg.denom: before_bob + 12345}


def test_msg_service_answers_like_a_cosmos_node(chain):
    import grpc
    import pytest

    from chain_client.gen.virtengine.veid.v1 import tx_pb2, tx_pb2_grpc

    stub = tx_pb2_grpc.MsgStub(grpc.insecure_channel(chain.address))
    with pytest.raises(grpc.RpcError) as info:
        stub.AssignRole(tx_pb2.MsgAssignRole())
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED and "signed transactions" in info.value.details()


def test_cosmpy_attestations_reach_quorum(chain):
    ledger = _ledger(chain)
    alice = chain.addr("alice")
    scores = []
    for i in range(3):
        validator = chain.wallet(f"validator-{i}")
        tx = Transaction()
        tx.add_message(chain.payload(f"validator-{i}", alice, 77).to_msg(str(validator.address())))
        submitted = prepare_and_broadcast_basic_transaction(ledger, tx, validator)
        submitted.wait_to_complete(timeout=10, poll_period=timedelta(milliseconds=10))
        assert submitted.response.code == 0
        scores.append(chain.client.score(alice))
    # 10 of 30 power is not a quorum; 20 of 30 reaches 2/3.
    assert scores[0] is None
    assert scores[1].score == 77 and scores[1].agreeing_power == 20 and scores[1].total_power == 30
    assert scores[2].agreeing_power == 30 and scores[2].tier == "standard"
    atts = chain.client.attestations(alice, limit=2)  # two pages
    assert len(atts) == 3 and {a.validator for a in atts} == {chain.addr(f"validator-{i}") for i in range(3)}


def test_batch_of_attestations_in_one_tx(chain):
    v0 = chain.wallet("validator-0")
    subjects = [chain.addr(n) for n in ("alice", "bob", "client")]
    payloads = [chain.payload("validator-0", s, 60 + i) for i, s in enumerate(subjects)]
    out = chain.client.submit_attestations(v0, payloads)
    assert out.height >= 1
    for s in subjects:
        assert len(chain.client.attestations(s)) == 1


def test_dissent_within_quorum_and_revocation(chain):
    alice = chain.addr("alice")
    c = chain.client
    ids = []
    for i, score in enumerate((80, 80, 40)):
        c.submit_attestations(chain.wallet(f"validator-{i}"), [chain.payload(f"validator-{i}", alice, score)])
        ids.append(c.attestations(alice)[-1].attestation_id)
    record = c.score(alice)
    assert record.score == 80 and record.agreeing_power == 20
    # validator-1 withdraws its vote: 10 of 30 agree, the round loses its quorum and the score is withdrawn.
    from chain_client.messages import msg_revoke_attestation

    c.submit(chain.wallet("validator-1"), [msg_revoke_attestation(chain.addr("validator-1"), ids[1], "re-check")])
    assert c.score(alice) is None
    assert [a.revoked for a in c.attestations(alice)] == [False, True, False]


def test_update_score_compat_message(chain):
    bob = chain.addr("bob")
    for i in range(2):
        chain.client.submit(chain.wallet(f"validator-{i}"), [msg_update_score(chain.addr(f"validator-{i}"), bob, 90, 7)])
    record = chain.client.score(bob)
    assert record.score == 90 and record.tier == "premium" and record.round == "v7" and record.score_version == 7


def test_upload_scope_then_verified_by_quorum(chain):
    from chain_client.messages import ScopeUpload, scope_sign_bytes

    alice, c = chain.addr("alice"), chain.client
    env_hash, salt_hash = bytes(range(32)), bytes(32)
    digest = scope_sign_bytes(alice, "scope-1", "ipfs://bafy-envelope", env_hash, salt_hash, "client")
    upload = ScopeUpload(
        scope_id="scope-1", envelope_ref="ipfs://bafy-envelope", envelope_hash=env_hash, salt_hash=salt_hash,
        client_id="client", client_signature=chain.key("client").sign(digest), user_signature=chain.key("alice").sign(digest),
    )  # fmt: skip
    # alice's first transaction: the ante handler records her public key before the message checks her signature.
    c.submit(chain.wallet("alice"), [upload.to_msg(alice)])
    pending = c.pending_verifications(alice)
    assert [s.scope_id for s in pending] == ["scope-1"] and pending[0].status == T.VERIFICATION_STATUS_PENDING
    for i in range(2):
        c.submit_attestations(chain.wallet(f"validator-{i}"), [chain.payload(f"validator-{i}", alice, 88, "scope-1")])
    assert c.pending_verifications(alice) == []
    assert c.score(alice).round == "scope-1"


def test_concurrent_senders_all_land(chain):
    """Three validators submit at once from three threads (own clients); every tx lands, in some order."""
    from concurrent.futures import ThreadPoolExecutor

    from chain_client.client import ChainClient

    subjects = [chain.addr("alice"), chain.addr("bob")]

    def run(i: int) -> list[int]:
        client = ChainClient(chain.address, chain.cfg)
        try:
            return [
                client.submit_attestations(chain.wallet(f"validator-{i}"), [chain.payload(f"validator-{i}", s, 50 + i)]).height
                for s in subjects
            ]
        finally:
            client.close()

    with ThreadPoolExecutor(3) as pool:
        heights = list(pool.map(run, range(3)))
    assert all(len(h) == 2 and h[0] < h[1] for h in heights)
    for s in subjects:
        assert len(chain.client.attestations(s)) == 3
