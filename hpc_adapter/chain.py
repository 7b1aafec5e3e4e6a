"""What the adapters need from the chain (scores, roles, bank transfers), as small Protocols plus an in-memory double.

The HPC rewards loop and the Waldur order gate depend only on these Protocols, so they run
against the real chain (:mod:`hpc_adapter.chain_backed`, onto ``chain_client``) or, in unit
tests and benchmarks, against :class:`InMemoryChain`, which keeps balances and scores in
dictionaries and records every transfer.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from veid.errors import ChainError


class Role(enum.Enum):
    """On-chain roles the adapters check (names as the veid module stores them)."""

    SERVICE_PROVIDER = "service_provider"
    VALIDATOR = "validator"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Score:
    """An identity score read from the chain.

    Attributes:
        value: integer score 0..100.
        tier: tier label as stored on chain (for example ``"verified"``).
    """

    value: int
    tier: str


@dataclass(frozen=True)
class RoleInfo:
    """Roles an active address holds (a suspended or terminated account holds none).

    Domain ownership is not stored on chain; the marketplace gate checks it separately.
    """

    roles: frozenset[Role]


@runtime_checkable
class ScoreReader(Protocol):
    """Reads an address's current identity score."""

    def score(self, address: str) -> Score | None:
        """The address's score, or ``None`` when it has never been scored.

        Raises:
            ChainError: the chain could not be queried (no judgement possible).
        """


@runtime_checkable
class RoleReader(Protocol):
    """Reads the roles of an address."""

    def roles(self, address: str) -> RoleInfo:
        """Roles of ``address`` (empty when it holds none).

        Raises:
            ChainError: the chain could not be queried.
        """


@runtime_checkable
class Payer(Protocol):
    """Sends bank transfers from the adapter's funded account."""

    def send(self, to_address: str, amount: int, denom: str, memo: str) -> str:
        """Transfer ``amount`` (integer base units of ``denom``) and return the transaction hash.

        Raises:
            ChainError: the transfer was refused or its outcome is unknown.
        """


@dataclass(frozen=True)
class Transfer:
    """One transfer made through :class:`InMemoryChain`."""

    to_address: str
    amount: int
    denom: str
    memo: str
    tx_hash: str


class InMemoryChain:
    """A test double implementing :class:`ScoreReader`, :class:`RoleReader` and :class:`Payer` in memory.

    Not a chain: there are no signatures, blocks or fees. Use it for unit tests and
    benchmarks; production wiring uses :mod:`hpc_adapter.chain_backed`.

    Args:
        payer_balance: starting balance of the paying account, base units.
        fail_sends_to: addresses whose transfers raise :class:`ChainError` (to test retries).
    """

    def __init__(self, payer_balance: int = 10**15, fail_sends_to: frozenset[str] = frozenset()) -> None:
        self.payer_balance = payer_balance
        self.fail_sends_to = set(fail_sends_to)
        self.scores: dict[str, Score] = {}
        self.role_info: dict[str, RoleInfo] = {}
        self.balances: dict[tuple[str, str], int] = {}
        self.transfers: list[Transfer] = []

    def set_score(self, address: str, value: int, tier: str = "verified") -> None:
        """Record a score for ``address``."""
        self.scores[address] = Score(value, tier)

    def set_roles(self, address: str, roles: set[Role]) -> None:
        """Record the roles of ``address``."""
        self.role_info[address] = RoleInfo(frozenset(roles))

    def score(self, address: str) -> Score | None:
        return self.scores.get(address)

    def roles(self, address: str) -> RoleInfo:
        return self.role_info.get(address, RoleInfo(frozenset()))

    def balance(self, address: str, denom: str) -> int:
        """Balance of ``address`` in ``denom`` (0 when never paid)."""
        return self.balances.get((address, denom), 0)

    def send(self, to_address: str, amount: int, denom: str, memo: str) -> str:
        if to_address in self.fail_sends_to:
            raise ChainError(f"transfer to {to_address} refused (configured failure)")
        if amount <= 0:
            raise ChainError(f"amount must be positive, got {amount}")
        if amount > self.payer_balance:
            raise ChainError(f"insufficient funds: {self.payer_balance} < {amount}")
        self.payer_balance -= amount
        self.balances[(to_address, denom)] = self.balance(to_address, denom) + amount
        digest = hashlib.sha256(f"{len(self.transfers)}|{to_address}|{amount}|{denom}|{memo}".encode()).hexdigest()
        self.transfers.append(Transfer(to_address, amount, denom, memo, digest.upper()))
        return digest.upper()
