"""The validator daemon against the embedded chain: judged once, killed mid-request it resumes without duplicates."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from attest.keys import AccountKey, Ed25519Key
from chain_client.chain.home import init_home, open_node, wallet
from chain_client.client import ChainClient
from chain_client.config import ChainConfig
from chain_client.messages import decode_signed_attestation, msg_register_client
from serving.client import CaptureApp, request_verification
from serving.daemon import ValidatorHome
from serving.envelope_store import EnvelopeStore
from serving.keydir import FileKeyDirectory, create_encryption_key
from serving.progress import ProgressStore, Status

REPO = Path(__file__).resolve().parents[2]
CFG = dataclasses.replace(ChainConfig(), grpc_port=0, block_time_ms=5, sqlite_synchronous="NORMAL", tx_timeout_s=20.0)


@pytest.fixture()
def chain(tmp_path):
    home = tmp_path / "chain"
    init_home(home, CFG)
    node = open_node(home, grpc_port=0)
    client = ChainClient(node.address, CFG)
    yield home, node.address, client
    client.close()
    node.stop()


def _validator(tmp_path, chain_home, name):
    vhome = ValidatorHome(tmp_path / name, name, chain_home, chain_home / "envelopes")
    key = create_encryption_key(vhome.path)
    vhome.write()
    FileKeyDirectory.for_chain_home(chain_home).publish(vhome.account_key(CFG.prefix).address, key.public_key())
    return vhome


def _upload(chain_home, client, identity, scopes=None):
    app = CaptureApp("test-app", Ed25519Key.generate())
    genesis = wallet(chain_home, "genesis", CFG.prefix)
    client.submit(genesis, [msg_register_client(str(genesis.address()), app.client_id, app.key.public_key_bytes, "ed25519")])
    account = AccountKey.from_mnemonic((chain_home / "keys" / "alice.mnemonic").read_text().strip(), CFG.prefix)
    recipients = FileKeyDirectory.for_chain_home(chain_home).recipients()
    envelope, upload = app.upload(identity.document, identity.selfie, scopes if scopes is not None else identity.scopes,
                                  account, recipients)
    scope_id, _ = request_verification(client, wallet(chain_home, "alice", CFG.prefix), account, app, envelope,
                                       upload.salt, EnvelopeStore(chain_home / "envelopes"))
    return account, scope_id


def _run_daemon(vhome, address, *extra, timeout=300):
    return subprocess.run([sys.executable, "-m", "veid.cli", "validator", "run", "--home", str(vhome.path), "--grpc", address,
                           "--exit-when-idle", "--max-seconds", "240", *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _mine(client, subject, validator):
    return [a for a in client.attestations(subject) if a.validator == validator]


@pytest.mark.slow
def test_killed_mid_request_resumes_without_duplicates(tmp_path, chain, identity):
    chain_home, address, client = chain
    v0 = _validator(tmp_path, chain_home, "validator-0")
    _validator(tmp_path, chain_home, "validator-1")  # encrypted to, never runs: no quorum, the request stays pending
    account, scope_id = _upload(chain_home, client, identity)
    me = v0.account_key(CFG.prefix).address

    # 1. Killed right after recording its signed attestation, before submitting it.
    first = _run_daemon(v0, address, "--crash-after", "attested")
    assert first.returncode == 137, first.stderr[-2000:]
    assert _mine(client, account.address, me) == []
    progress = ProgressStore(v0.path / "progress.sqlite")
    row = progress.get(scope_id)
    progress.close()
    assert row.status is Status.ATTESTED and row.payload

    # 2. Restarted: submits the recorded bytes (no re-judging), then is killed right after submitting.
    second = _run_daemon(v0, address, "--crash-after", "submitted")
    assert second.returncode == 137, second.stderr[-2000:]
    mine = _mine(client, account.address, me)
    assert len(mine) == 1 and mine[0].scope_id == scope_id
    assert "pipeline loaded" not in second.stderr  # resubmission needs no model
    from chain_client.gen.virtengine.veid.v1 import tx_pb2

    recorded = tx_pb2.MsgSubmitAttestation()
    recorded.ParseFromString(row.payload)
    assert mine[0].signed_attestation == recorded.signed_attestation  # exactly the bytes judged before the crash

    # 3. Restarted again: nothing to do, no duplicate.
    third = _run_daemon(v0, address)
    assert third.returncode == 0, third.stderr[-2000:]
    assert len(_mine(client, account.address, me)) == 1
    att = decode_signed_attestation(mine[0].signed_attestation).attestation
    assert att.subject == account.address and att.issuer == me and 0 <= att.score <= 100
    assert [s.scope_id for s in client.pending_verifications()] == [scope_id]


@pytest.mark.slow
def test_replayed_capture_in_a_second_request_is_judged_a_replay(tmp_path, chain, identity):
    """The same signed capture uploaded again under a new request: rejected with score 0 (salt reuse)."""
    chain_home, address, client = chain
    v0 = _validator(tmp_path, chain_home, "validator-0")
    app = CaptureApp("test-app", Ed25519Key.generate())
    genesis = wallet(chain_home, "genesis", CFG.prefix)
    client.submit(genesis, [msg_register_client(str(genesis.address()), app.client_id, app.key.public_key_bytes, "ed25519")])
    account = AccountKey.from_mnemonic((chain_home / "keys" / "alice.mnemonic").read_text().strip(), CFG.prefix)
    recipients = FileKeyDirectory.for_chain_home(chain_home).recipients()
    envelope, upload = app.upload(identity.document, identity.selfie, identity.scopes, account, recipients)
    store = EnvelopeStore(chain_home / "envelopes")
    owner = wallet(chain_home, "alice", CFG.prefix)
    first_id, _ = request_verification(client, owner, account, app, envelope, upload.salt, store)
    # Same upload re-sealed (new envelope bytes, same capture salt) as a second request.
    from serving.bundle import seal_bundle

    again = seal_bundle(upload, recipients, app.key).to_bytes()
    second_id, _ = request_verification(client, owner, account, app, again, upload.salt, store)
    done = _run_daemon(v0, address)
    assert done.returncode == 0, done.stderr[-2000:]
    me = v0.account_key(CFG.prefix).address
    by_scope = {a.scope_id: decode_signed_attestation(a.signed_attestation).attestation for a in _mine(client, account.address, me)}
    assert set(by_scope) == {first_id, second_id}
    assert by_scope[first_id].score > 0
    assert by_scope[second_id].score == 0 and by_scope[second_id].reason_codes == ("rejected.provenance.salt_reused",)
