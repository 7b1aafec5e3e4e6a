"""The ``chain`` section of params.yaml: chain identity, fees, block production, genesis defaults and client timing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chain_client.chain.app import AppConfig
from chain_client.chain.node import NodeConfig


@dataclass(frozen=True)
class ChainConfig:
    """Settings of the embedded chain and of the client that talks to a chain.

    Attributes:
        chain_id: Cosmos chain id.
        denom: base denomination of fees and transfers.
        prefix: bech32 account prefix.
        gas_price: minimum gas price, in ``denom`` per gas unit.
        max_block_gas: block gas limit.
        block_time_ms: minimum interval between two blocks, ms (blocks are made only when txs wait).
        empty_block_interval_s: if > 0, also make empty blocks this often, seconds.
        max_block_txs: most transactions in one block.
        mempool_size: most transactions waiting.
        grpc_host: address the gRPC server binds (loopback by default).
        grpc_port: gRPC port (0 picks a free one).
        sqlite_synchronous: SQLite durability (FULL survives power loss, NORMAL survives kill -9).
        validator_power: voting power of validator-0..N-1 created by ``veid chain init``.
        initial_balance: base units given to each account created by ``veid chain init``.
        quorum_tolerance: score points within which validator votes agree.
        quorum_threshold: (numerator, denominator) of the voting power that must agree.
        tier_names: tier names for MsgUpdateScore, highest first.
        tier_min_scores: lowest score (0-100) of each tier in ``tier_names``.
        tx_timeout_s: client: seconds to wait for a transaction to land in a block.
        poll_interval_s: client: GetTx polling period, seconds.
        sequence_retries: client: re-signing attempts after an account-sequence mismatch.
    """

    chain_id: str = "virtengine-local-1"
    denom: str = "uve"
    prefix: str = "virtengine"
    gas_price: float = 0.025
    max_block_gas: int = 100_000_000
    block_time_ms: int = 20
    empty_block_interval_s: float = 0.0
    max_block_txs: int = 200
    mempool_size: int = 5000
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 9090
    sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    validator_power: tuple[int, ...] = (10, 10, 10)
    initial_balance: int = 1_000_000_000_000
    quorum_tolerance: int = 0
    quorum_threshold: tuple[int, int] = (2, 3)
    tier_names: tuple[str, ...] = ("premium", "standard", "basic", "unverified")
    tier_min_scores: tuple[int, ...] = (85, 70, 50, 0)
    tx_timeout_s: float = 30.0
    poll_interval_s: float = 0.005
    sequence_retries: int = 3

    def app_config(self) -> AppConfig:
        """The consensus-relevant part, for :class:`~chain_client.chain.app.VeidApp`."""
        return AppConfig(self.chain_id, self.denom, self.prefix, self.gas_price, self.max_block_gas)

    def node_config(self) -> NodeConfig:
        """Block production settings, for :class:`~chain_client.chain.node.Node`."""
        return NodeConfig(self.block_time_ms, self.max_block_txs, self.mempool_size, self.empty_block_interval_s)
