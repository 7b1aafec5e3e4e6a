"""Durability: the node runs as `veid chain start` in a subprocess, is killed with SIGKILL mid-stream and restarted."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
from pathlib import Path

import pytest

from chain_client.chain.home import init_home, spawn_node, wallet
from chain_client.client import ChainClient
from chain_client.config import ChainConfig
from chain_client.messages import msg_send
from cosmpy.protos.cosmos.base.tendermint.v1beta1.query_pb2 import GetBlockByHeightRequest
from cosmpy.protos.cosmos.tx.v1beta1.service_pb2 import BroadcastMode, BroadcastTxRequest, GetTxRequest

CFG = dataclasses.replace(ChainConfig(), grpc_port=0, block_time_ms=5, tx_timeout_s=10.0)  # sqlite FULL, the default


def _start(home: Path) -> tuple[subprocess.Popen, str]:
    return spawn_node(home, 0, timeout_s=60)


def _app_hash(client: ChainClient, height: int) -> bytes:
    return client.ledger.tendermint.GetBlockByHeight(GetBlockByHeightRequest(height=height)).block.header.app_hash


@pytest.mark.slow
def test_kill9_mid_stream_then_restart_keeps_every_committed_block(tmp_path):
    home = tmp_path / "home"
    init_home(home, CFG)
    alice, bob = wallet(home, "alice", CFG.prefix), wallet(home, "bob", CFG.prefix)
    proc, address = _start(home)
    try:
        client = ChainClient(address, CFG)
        bob_start = client.balance(str(bob.address()))
        confirmed = []  # (hash, height) of transfers seen in a block before the kill
        for i in range(12):
            out = client.send(alice, str(bob.address()), 1)
            confirmed.append((out.tx_hash, out.height))
        hashes_before = {h: _app_hash(client, h) for _, h in confirmed}
        # mid-stream: more transfers broadcast without waiting, then SIGKILL at once
        in_flight = []
        account = client.ledger.query_account(alice.address())
        from cosmpy.aerial.tx import SigningCfg, Transaction, TxFee

        for k in range(8):
            tx = Transaction()
            tx.add_message(msg_send(str(alice.address()), str(bob.address()), 1, CFG.denom))
            tx.seal(SigningCfg.direct(alice.public_key(), account.sequence + k), fee=TxFee(f"5000{CFG.denom}", 200_000))
            tx.sign(alice.signer(), CFG.chain_id, account.number)
            tx.complete()
            req = BroadcastTxRequest(tx_bytes=tx.tx.SerializeToString(), mode=BroadcastMode.BROADCAST_MODE_SYNC)
            in_flight.append(client.ledger.txs.BroadcastTx(req).tx_response.txhash)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()

    proc, address = _start(home)
    try:
        client = ChainClient(address, CFG)
        height = client.ledger.query_height()
        assert height >= max(h for _, h in confirmed)
        for tx_hash, h in confirmed:
            assert client.ledger.query_tx(tx_hash).height == h
        assert {h: _app_hash(client, h) for _, h in confirmed} == hashes_before
        landed = []
        for tx_hash in in_flight:
            try:
                landed.append(client.ledger.txs.GetTx(GetTxRequest(hash=tx_hash)).tx_response.code == 0)
            except Exception:  # noqa: BLE001 - grpc NOT_FOUND: lost with the mempool, as on any node
                pass
        # state agrees with exactly the committed blocks
        committed = len(confirmed) + sum(landed)
        assert client.balance(str(bob.address())) == bob_start + committed
        assert client.ledger.query_account(alice.address()).sequence == committed
        # the chain goes on from there
        out = client.send(alice, str(bob.address()), 1)
        assert out.height == client.ledger.query_height() > height - 1
        client.close()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "stopped at height" in output
        assert not (home / "node.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
