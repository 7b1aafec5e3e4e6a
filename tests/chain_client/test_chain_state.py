"""State store branches, the app hash chain, ABCI-shaped determinism, and the checked-in generated code."""

from __future__ import annotations

import dataclasses
import filecmp
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chain_client.chain.app import VeidApp
from chain_client.chain.genesis import parse_genesis
from chain_client.chain.home import init_home, wallet
from chain_client.chain.state import GasMeter, OutOfGas, StateDB, Store, next_app_hash
from chain_client.config import ChainConfig
from chain_client.messages import msg_send, signer_of
from cosmpy.aerial.tx import SigningCfg, Transaction, TxFee

REPO = Path(__file__).resolve().parents[2]
CFG = dataclasses.replace(ChainConfig(), grpc_port=0)


def test_branches_write_up_and_discard(tmp_path):
    db = StateDB(tmp_path / "s.sqlite")
    root = Store(db)
    root.set(b"a/1", b"x")
    child = root.branch()
    child.set(b"a/2", b"y")
    child.delete(b"a/1")
    assert root.get(b"a/1") == b"x" and child.get(b"a/1") is None
    assert list(child.iterate(b"a/")) == [(b"a/2", b"y")]
    discarded = root.branch()
    discarded.set(b"a/3", b"z")  # never written up
    child.write()
    assert list(root.iterate(b"a/")) == [(b"a/2", b"y")]
    assert root.changes == {b"a/1": None, b"a/2": b"y"}
    db.close()


def test_gas_meter_limits():
    meter = GasMeter(1000)
    meter.consume(999, "x")
    with pytest.raises(OutOfGas, match="gasWanted: 1000, gasUsed: 1001"):
        meter.consume(2, "x")


def test_app_hash_depends_on_every_change():
    base = next_app_hash(b"\x00" * 32, 5, {b"k": b"v", b"d": None})
    assert base == next_app_hash(b"\x00" * 32, 5, {b"d": None, b"k": b"v"})  # order-independent
    assert base != next_app_hash(b"\x00" * 32, 5, {b"k": b"w", b"d": None})
    assert base != next_app_hash(b"\x00" * 32, 6, {b"k": b"v", b"d": None})
    assert base != next_app_hash(b"\x01" * 32, 5, {b"k": b"v", b"d": None})


def _signed_send(home, sequence: int, number: int) -> bytes:
    alice, bob = wallet(home, "alice", CFG.prefix), wallet(home, "bob", CFG.prefix)
    tx = Transaction()
    tx.add_message(msg_send(str(alice.address()), str(bob.address()), 10 + sequence, CFG.denom))
    tx.seal(SigningCfg.direct(alice.public_key(), sequence), fee=TxFee(f"5000{CFG.denom}", 200_000))
    tx.sign(alice.signer(), CFG.chain_id, number, deterministic=True)
    tx.complete()
    return tx.tx.SerializeToString()


def test_two_nodes_replaying_the_same_blocks_agree(tmp_path):
    """check_tx / finalize_block / commit are deterministic: same genesis and blocks give the same app hashes."""
    home = tmp_path / "home"
    genesis = init_home(home, CFG)
    number = [a.name for a in genesis.accounts].index("alice")  # accounts are numbered in genesis order
    txs = [_signed_send(home, s, number) for s in range(3)]
    hashes = []
    for run in range(2):
        db = StateDB(tmp_path / f"node{run}.sqlite")
        app = VeidApp(db, CFG.app_config())
        app.init_chain(parse_genesis(json.loads((home / "config" / "genesis.json").read_text())))
        assert all(app.check_tx(tx).ok for tx in txs)
        results, _ = app.finalize_block(txs[:2], 1, 1_000)
        assert [r.code for r in results] == [0, 0]
        h1 = app.commit()
        results, _ = app.finalize_block(txs[2:], 2, 2_000)
        hashes.append((h1, app.commit()))
        db.close()
    assert hashes[0] == hashes[1]


def test_signer_comes_from_the_proto_option():
    msg = msg_send("virtengine1from", "virtengine1to", 1, "uve")
    assert signer_of(msg) == "virtengine1from"


def test_generated_code_is_up_to_date(tmp_path):
    """`make proto` regenerates exactly what is checked in (grpcio-tools against cosmpy's descriptors)."""
    out = tmp_path / "out"
    out.mkdir()
    deps = tmp_path / "cosmpy.pb"
    py = sys.executable
    subprocess.run([py, "-m", "chain_client.protodeps", str(deps), "cosmos/msg/v1/msg.proto",
                    "cosmos/base/query/v1beta1/pagination.proto"], cwd=REPO, check=True)  # fmt: skip
    protos = sorted(str(p.relative_to(REPO)) for p in (REPO / "proto" / "virtengine").rglob("*.proto"))
    subprocess.run([py, "-m", "grpc_tools.protoc", f"--descriptor_set_in={deps}", "-Iproto", f"--python_out={out}",
                    f"--grpc_python_out={out}", f"--pyi_out={out}", *protos], cwd=REPO, check=True)  # fmt: skip
    gen = REPO / "chain_client" / "gen" / "virtengine" / "veid" / "v1"
    for fresh in (out / "virtengine" / "veid" / "v1").iterdir():
        text = re.sub(r"^from virtengine([. ])", r"from chain_client.gen.virtengine\1", fresh.read_text(), flags=re.M)
        text = re.sub(r"^from cosmos([. ])", r"from cosmpy.protos.cosmos\1", text, flags=re.M)  # same as the Makefile's sed
        (tmp_path / fresh.name).write_text(text)
        assert filecmp.cmp(tmp_path / fresh.name, gen / fresh.name, shallow=False), f"{fresh.name} is stale: run make proto"
