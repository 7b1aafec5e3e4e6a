"""Fixtures for the chain tests: a fresh chain home, an in-process node on 127.0.0.1, signed attestations."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from attest.attestation import Attestation, commit_evidence, sign_attestation
from attest.keys import AccountKey
from chain_client.chain.home import RunningNode, init_home, open_node, wallet
from chain_client.client import ChainClient
from chain_client.config import ChainConfig
from chain_client.messages import AttestationPayload
from veid.types import ModelVersion

CFG = dataclasses.replace(ChainConfig(), grpc_port=0, block_time_ms=5, sqlite_synchronous="NORMAL", tx_timeout_s=10.0)


class Chain:
    """A running in-process chain with its home, config and a ChainClient."""

    def __init__(self, home: Path, running: RunningNode, cfg: ChainConfig) -> None:
        self.home, self.running, self.cfg = home, running, cfg
        self.address = running.address
        self.client = ChainClient(running.address, cfg)

    def wallet(self, name: str):
        return wallet(self.home, name, self.cfg.prefix)

    def addr(self, name: str) -> str:
        return str(self.wallet(name).address())

    def key(self, name: str) -> AccountKey:
        return AccountKey.from_mnemonic((self.home / "keys" / f"{name}.mnemonic").read_text(), self.cfg.prefix)

    def payload(self, validator: str, subject: str, score: int, scope_id: str = "", tier: str = "standard") -> AttestationPayload:
        """A real attest/ signed attestation by ``validator`` about ``subject``."""
        key = self.key(validator)
        att = Attestation(
            issuer=key.address, subject=subject, score=score, tier=tier, scopes=(), reason_codes=("ok",),
            model_versions=(ModelVersion("scorer", "ab" * 32),), pipeline_version="0.1.0",
            evidence_commitment=commit_evidence([bytes(32)], []), issued_at=1_700_000_000, expires_at=1_900_000_000,
        )  # fmt: skip
        return AttestationPayload.from_signed(sign_attestation(att, key), scope_id=scope_id)


@pytest.fixture()
def chain(tmp_path: Path):
    """A fresh chain (genesis from ``veid chain init`` defaults) serving gRPC on 127.0.0.1:<free port>."""
    init_home(tmp_path / "home", CFG)
    running = open_node(tmp_path / "home", grpc_port=0)
    c = Chain(tmp_path / "home", running, CFG)
    yield c
    c.client.close()
    running.stop()
