"""Every refusal path of the embedded chain: signatures, sequences, fees, signers, roles, suspension, uploads."""

from __future__ import annotations

import pytest
from cosmpy.aerial.tx import SigningCfg, Transaction, TxFee
from cosmpy.aerial.types import Account
from cosmpy.protos.cosmos.tx.v1beta1.service_pb2 import BroadcastMode, BroadcastTxRequest
from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import TxRaw

from chain_client.client import TxFailed
from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from chain_client.messages import (
    ScopeUpload,
    msg_assign_role,
    msg_register_client,
    msg_remove_client,
    msg_send,
    msg_set_account_state,
    scope_sign_bytes,
)


def _tx(chain, name, msgs, *, sequence=None, number=None, chain_id=None, gas=400_000, fee=None, sign_with=None,
        pubkey_of=None) -> bytes:  # fmt: skip
    """Raw tx bytes signed SIGN_MODE_DIRECT by ``name`` (each knob lets one field be wrong)."""
    w = chain.wallet(name)
    acc = chain.client.ledger.query_account(w.address())
    tx = Transaction()
    for m in msgs:
        tx.add_message(m)
    amount = f"{int(gas * chain.cfg.gas_price) + 1 if fee is None else fee}{chain.cfg.denom}"
    key = chain.wallet(pubkey_of).public_key() if pubkey_of else w.public_key()
    tx.seal(SigningCfg.direct(key, acc.sequence if sequence is None else sequence), fee=TxFee(amount=amount, gas_limit=gas))
    tx.sign((chain.wallet(sign_with) if sign_with else w).signer(), chain_id or chain.cfg.chain_id,
            acc.number if number is None else number)  # fmt: skip
    tx.complete()
    return tx.tx.SerializeToString()


def _broadcast(chain, tx_bytes: bytes):
    req = BroadcastTxRequest(tx_bytes=tx_bytes, mode=BroadcastMode.BROADCAST_MODE_SYNC)
    return chain.client.ledger.txs.BroadcastTx(req).tx_response


def _check_refused(chain, tx_bytes: bytes, code: int, text: str, codespace: str = "sdk") -> None:
    resp = _broadcast(chain, tx_bytes)
    assert (resp.code, resp.codespace) == (code, codespace), resp.raw_log
    assert text in resp.raw_log


def _deliver(chain, tx_bytes: bytes):
    """Broadcast (CheckTx must pass) and wait for the block result."""
    resp = _broadcast(chain, tx_bytes)
    assert resp.code == 0, resp.raw_log
    try:
        chain.client.wait(resp.txhash)
    except TxFailed:
        pass
    return _get_tx(chain, resp.txhash)


def _get_tx(chain, tx_hash):
    from cosmpy.protos.cosmos.tx.v1beta1.service_pb2 import GetTxRequest

    return chain.client.ledger.txs.GetTx(GetTxRequest(hash=tx_hash)).tx_response


def _send(chain, frm="alice", to="bob", amount=5):
    return [msg_send(chain.addr(frm), chain.addr(to), amount, chain.cfg.denom)]


def test_bad_signatures_are_refused(chain):
    msgs = _send(chain)
    _check_refused(chain, _tx(chain, "alice", msgs, sign_with="bob"), 4, "signature verification failed")
    _check_refused(chain, _tx(chain, "alice", msgs, chain_id="other-chain"), 4, "chain-id (virtengine-local-1)")
    _check_refused(chain, _tx(chain, "alice", msgs, number=999), 4, "signature verification failed")
    raw = TxRaw()
    raw.ParseFromString(_tx(chain, "alice", msgs))
    sig = bytearray(raw.signatures[0])
    sig[10] ^= 1
    raw.signatures[0] = bytes(sig)
    _check_refused(chain, raw.SerializeToString(), 4, "unauthorized")
    # the public key must derive to the signer the message names
    _check_refused(chain, _tx(chain, "alice", msgs, pubkey_of="bob"), 8, "pubKey does not match signer address")
    _check_refused(chain, b"\x0a\x03abc\xff", 2, "tx parse error")
    assert chain.client.ledger.query_account(chain.wallet("alice").address()).sequence == 0


def test_message_signed_by_someone_else_is_refused(chain):
    # alice signs an attestation that names validator-0 as its signer
    msg = chain.payload("validator-0", chain.addr("bob"), 50).to_msg(chain.addr("validator-0"))
    _check_refused(chain, _tx(chain, "alice", [msg]), 8, "does not match signer address")


def test_wrong_sequence_and_replay_are_refused(chain):
    _check_refused(chain, _tx(chain, "alice", _send(chain), sequence=3), 32, "account sequence mismatch, expected 0, got 3")
    good = _tx(chain, "alice", _send(chain))
    _deliver(chain, good)
    _check_refused(chain, good, 19, "tx already exists")  # replay of the same bytes
    _check_refused(chain, _tx(chain, "alice", _send(chain, amount=6), sequence=0), 32, "expected 1, got 0")


def test_fees_and_funds(chain):
    _check_refused(chain, _tx(chain, "alice", _send(chain), fee=0), 13, "insufficient fees")
    _check_refused(chain, _tx(chain, "alice", _send(chain), gas=10**12), 41, "exceeds block max gas")
    before = chain.client.balance(chain.addr("alice"))
    resp = _deliver(chain, _tx(chain, "alice", _send(chain, amount=10**15), gas=200_000))
    assert resp.code == 5 and "insufficient funds" in resp.raw_log
    # a failed message still pays its fee and uses its sequence, as in Cosmos
    assert chain.client.balance(chain.addr("alice")) == before - (int(200_000 * chain.cfg.gas_price) + 1)
    assert chain.client.ledger.query_account(chain.wallet("alice").address()).sequence == 1


def test_out_of_gas(chain):
    payloads = [chain.payload("validator-0", chain.addr("alice"), 70 + i) for i in range(3)]
    v0 = chain.addr("validator-0")
    msgs = [p.to_msg(v0) for p in payloads]
    _check_refused(chain, _tx(chain, "validator-0", msgs, gas=20_000), 11, "out of gas")  # in the ante (tx size)
    resp = _deliver(chain, _tx(chain, "validator-0", msgs, gas=100_000))  # enough for the ante, not the messages
    assert resp.code == 11 and "out of gas" in resp.raw_log and resp.gas_used > 100_000
    assert chain.client.attestations(chain.addr("alice")) == []


def test_only_validators_attest(chain):
    alice = chain.addr("alice")
    # alice's own signed attestation about bob: she signs correctly, but she is not a validator
    payload = chain.payload("alice", chain.addr("bob"), 99)
    resp = _deliver(chain, _tx(chain, "alice", [payload.to_msg(alice)]))
    assert (resp.code, resp.codespace) == (2, "veid") and "only validators attest" in resp.raw_log
    with pytest.raises(TxFailed, match="only validators attest"):
        chain.client.submit_attestations(chain.wallet("alice"), [payload])
    # a validator cannot submit an attestation signed by another key, nor change its clear fields
    other = chain.payload("validator-1", chain.addr("bob"), 99)
    with pytest.raises(TxFailed, match="does not match the signed attestation"):
        chain.client.submit_attestations(chain.wallet("validator-0"), [other])


def test_roles_and_clients_need_admin(chain):
    c, bob = chain.client, chain.addr("bob")
    with pytest.raises(TxFailed, match="may not assign roles"):
        c.submit(chain.wallet("alice"), [msg_assign_role(chain.addr("alice"), bob, T.ROLE_ADMINISTRATOR)])
    key = chain.wallet("bob").public_key().public_key_bytes
    with pytest.raises(TxFailed, match="may not approve clients"):
        c.submit(chain.wallet("bob"), [msg_register_client(bob, "app-2", key, "secp256k1")])
    with pytest.raises(TxFailed, match="may not set account states"):
        c.submit(chain.wallet("bob"), [msg_set_account_state(bob, chain.addr("alice"), T.ACCOUNT_STATE_SUSPENDED)])
    with pytest.raises(TxFailed, match="cannot be assigned"):
        c.submit(chain.wallet("genesis"), [msg_assign_role(chain.addr("genesis"), bob, T.ROLE_GENESIS_ACCOUNT)])
    # the genesis account makes bob an administrator; then bob may approve and remove clients
    c.submit(chain.wallet("genesis"), [msg_assign_role(chain.addr("genesis"), bob, T.ROLE_ADMINISTRATOR)])
    assert T.ROLE_ADMINISTRATOR in c.roles(bob).roles
    c.submit(chain.wallet("bob"), [msg_register_client(bob, "app-2", key, "secp256k1")])
    assert {x.client_id for x in c.approved_clients()} == {"client", "app-2"}
    with pytest.raises(TxFailed, match="already approved"):
        c.submit(chain.wallet("bob"), [msg_register_client(bob, "app-2", key, "secp256k1")])
    c.submit(chain.wallet("bob"), [msg_remove_client(bob, "app-2")])
    assert [x.client_id for x in c.approved_clients()] == ["client"]


def test_suspended_accounts_cannot_act(chain):
    c, alice = chain.client, chain.addr("alice")
    genesis = chain.addr("genesis")
    c.submit(chain.wallet("genesis"), [msg_set_account_state(genesis, alice, T.ACCOUNT_STATE_SUSPENDED, "review")])
    assert c.roles(alice).state == T.ACCOUNT_STATE_SUSPENDED
    _check_refused(chain, _tx(chain, "alice", _send(chain)), 3, "ACCOUNT_STATE_SUSPENDED and cannot act", "veid")
    with pytest.raises(TxFailed, match="cannot act"):
        c.send(chain.wallet("alice"), chain.addr("bob"), 1)
    with pytest.raises(TxFailed, match="genesis account's state cannot be changed"):
        c.submit(chain.wallet("genesis"), [msg_set_account_state(genesis, genesis, T.ACCOUNT_STATE_SUSPENDED)])
    c.submit(chain.wallet("genesis"), [msg_set_account_state(genesis, alice, T.ACCOUNT_STATE_ACTIVE)])
    c.send(chain.wallet("alice"), chain.addr("bob"), 1)


def _upload(chain, scope_id="s-1", client="client", client_key="client", user_key="alice"):
    alice = chain.addr("alice")
    env, salt = bytes([7]) * 32, bytes([9]) * 32
    digest = scope_sign_bytes(alice, scope_id, "s3://bucket/envelope", env, salt, client)
    return ScopeUpload(scope_id, "s3://bucket/envelope", env, salt, client,
                       chain.key(client_key).sign(digest), chain.key(user_key).sign(digest)).to_msg(alice)  # fmt: skip


def test_upload_scope_refusals(chain):
    c, w = chain.client, chain.wallet("alice")
    with pytest.raises(TxFailed, match="client signature"):
        c.submit(w, [_upload(chain, client_key="bob")])
    with pytest.raises(TxFailed, match="user signature"):
        c.submit(w, [_upload(chain, user_key="bob")])
    with pytest.raises(TxFailed, match="is not approved"):
        c.submit(w, [_upload(chain, client="unknown-app")])
    c.submit(w, [_upload(chain)])
    with pytest.raises(TxFailed, match="already exists"):
        c.submit(w, [_upload(chain)])


def test_client_retries_after_sequence_mismatch(chain):
    c, w = chain.client, chain.wallet("alice")
    # a transaction the client does not know about takes sequence 0 ...
    assert _broadcast(chain, _tx(chain, "alice", _send(chain, amount=1))).code == 0
    # ... and a stale cached sequence is corrected from the chain's "expected N" answer
    number = c.ledger.query_account(w.address()).number
    c._accounts[str(w.address())] = Account(w.address(), number, 0)
    out = c.send(w, chain.addr("bob"), 2)
    assert out.height >= 1
    assert c.ledger.query_account(w.address()).sequence == 2


def test_expired_attestation_is_refused(chain):
    from attest.attestation import Attestation, commit_evidence, sign_attestation
    from chain_client.messages import AttestationPayload
    from veid.types import ModelVersion

    key = chain.key("validator-0")
    att = Attestation(
        issuer=key.address, subject=chain.addr("alice"), score=70, tier="standard", scopes=(), reason_codes=(),
        model_versions=(ModelVersion("scorer", "cd" * 32),), pipeline_version="0.1.0",
        evidence_commitment=commit_evidence([bytes(32)], []), issued_at=1_000, expires_at=2_000,
    )  # fmt: skip
    payload = AttestationPayload.from_signed(sign_attestation(att, key))
    with pytest.raises(TxFailed, match="attestation is expired at block time"):
        chain.client.submit_attestations(chain.wallet("validator-0"), [payload])


def test_tampered_signed_attestation_is_refused(chain):
    import dataclasses as dc

    good = chain.payload("validator-0", chain.addr("alice"), 60)
    forged = dc.replace(good, score=99, signed_attestation=good.signed_attestation.replace(b'"score":60', b'"score":99'))
    assert forged.signed_attestation != good.signed_attestation
    with pytest.raises(TxFailed, match="signed attestation does not verify"):
        chain.client.submit_attestations(chain.wallet("validator-0"), [forged])
    chain.client.submit_attestations(chain.wallet("validator-0"), [good])  # the genuine one still lands
