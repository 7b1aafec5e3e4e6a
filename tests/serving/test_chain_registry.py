"""The chain-backed approved-client registry (with a recording stand-in for the chain client)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from serving.chain_registry import ChainClientRegistry
from veid.errors import ChainError


@dataclass
class Rec:
    client_id: str
    public_key: bytes
    algorithm: str
    name: str = ""


class FakeChain:
    def __init__(self, records):
        self.records, self.calls, self.down = records, 0, False

    def approved_clients(self):
        self.calls += 1
        if self.down:
            raise ChainError("unreachable")
        return list(self.records)


def test_only_ed25519_clients_and_cache():
    chain = FakeChain([Rec("app", b"\x01" * 32, "ed25519", "App"), Rec("client", b"\x02" * 33, "secp256k1")])
    now = [0.0]
    reg = ChainClientRegistry(chain, ttl_s=5.0, clock=lambda: now[0])
    assert reg.get("app").public_key == b"\x01" * 32 and reg.get("app").name == "App"
    assert reg.get("client") is None and reg.get("nobody") is None
    assert chain.calls == 1
    chain.records = []
    assert reg.get("app") is not None  # cached
    now[0] = 6.0
    assert reg.get("app") is None and chain.calls == 2  # removed on chain: gone after the TTL


def test_chain_down_keeps_last_answer_but_fails_without_one():
    chain = FakeChain([Rec("app", b"\x01" * 32, "ed25519")])
    now = [0.0]
    reg = ChainClientRegistry(chain, ttl_s=1.0, clock=lambda: now[0])
    chain.down = True
    with pytest.raises(ChainError):
        reg.get("app")
    chain.down = False
    assert reg.get("app") is not None
    chain.down, now[0] = True, 10.0
    assert reg.get("app") is not None


def test_real_chain(tmp_path):
    """Against the embedded chain: an Ed25519 client registered by the genesis account is found."""
    import dataclasses

    from attest.keys import Ed25519Key
    from chain_client.chain.home import init_home, open_node, wallet
    from chain_client.client import ChainClient
    from chain_client.config import ChainConfig
    from chain_client.messages import msg_register_client

    cfg = dataclasses.replace(ChainConfig(), grpc_port=0, block_time_ms=5, sqlite_synchronous="NORMAL", tx_timeout_s=10.0)
    init_home(tmp_path / "home", cfg)
    node = open_node(tmp_path / "home", grpc_port=0)
    client = ChainClient(node.address, cfg)
    try:
        key = Ed25519Key.generate()
        genesis = wallet(tmp_path / "home", "genesis", cfg.prefix)
        client.submit(genesis, [msg_register_client(str(genesis.address()), "phone-app", key.public_key_bytes, "ed25519")])
        reg = ChainClientRegistry(client, ttl_s=0)
        assert reg.get("phone-app").public_key == key.public_key_bytes
        assert reg.get("client") is None  # the secp256k1 client from `veid chain init`
    finally:
        client.close()
        node.stop()
