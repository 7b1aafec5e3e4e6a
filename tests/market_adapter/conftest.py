"""Fixtures for the marketplace adapter tests: chain double, keys, a static domain checker."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from attest.keys import AccountKey
from hpc_adapter.chain import InMemoryChain, Role
from veid.types import CheckResult


@dataclass
class StaticDomains:
    """Domain checker double: the (address, domain) pairs listed are verified, nothing else."""

    verified: set[tuple[str, str]] = field(default_factory=set)

    def check(self, address: str, domain: str) -> CheckResult:
        ok = (address, domain) in self.verified
        return CheckResult("provider.domain", ok, float(ok), "verified" if ok else "missing_record")


@dataclass
class World:
    chain: InMemoryChain
    domains: StaticDomains
    provider: AccountKey
    buyer: AccountKey
    stranger: AccountKey


@pytest.fixture
def world() -> World:
    chain = InMemoryChain()
    provider, buyer, stranger = AccountKey.generate(), AccountKey.generate(), AccountKey.generate()
    chain.set_roles(provider.address, {Role.SERVICE_PROVIDER})
    chain.set_score(buyer.address, 82)
    chain.set_score(stranger.address, 35, "basic")
    return World(chain, StaticDomains({(provider.address, "gpu.example.org")}), provider, buyer, stranger)


@pytest.fixture()
def local_chain(tmp_path):
    """The embedded veid chain serving gRPC on 127.0.0.1, paying from its ``genesis`` key."""
    from hpc_adapter.local_chain import local_chain as start

    with start(tmp_path / "chain") as chain:
        yield chain
