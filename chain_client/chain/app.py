"""The embedded chain's application, shaped like an ABCI application: init_chain, check_tx, finalize_block, commit.

A consensus engine (CometBFT later, the single-node block producer in ``node.py`` now) calls
these in order; the application alone owns the state and the app hash.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from google.protobuf.any_pb2 import Any as ProtoAny

from chain_client.chain import codes
from chain_client.chain.ante import AnteHandler, DecodedTx, decode_tx, tx_hash
from chain_client.chain.genesis import Genesis
from chain_client.chain.keepers import AuthKeeper, BankKeeper
from chain_client.chain.state import BlockRecord, GasMeter, OutOfGas, StateDB, Store, TxRecord, next_app_hash
from chain_client.chain.veid_keeper import VeidKeeper
from cosmpy.protos.cosmos.base.abci.v1beta1.abci_pb2 import TxMsgData, TxResponse
from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import Tx
from cosmpy.protos.tendermint.abci.types_pb2 import Event, EventAttribute
from veid.errors import ChainError


@dataclass(frozen=True)
class AppConfig:
    """Consensus-relevant settings: chain id, fee denomination, bech32 prefix, minimum gas price, block gas."""

    chain_id: str
    denom: str
    prefix: str
    min_gas_price: float
    max_block_gas: int


@dataclass
class TxResult:
    """Outcome of one transaction (CheckTx, Simulate or FinalizeBlock)."""

    hash: str
    code: int = 0
    codespace: str = ""
    log: str = ""
    gas_wanted: int = 0
    gas_used: int = 0
    events: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    data: bytes = b""

    @property
    def ok(self) -> bool:
        """True when the transaction succeeded."""
        return self.code == 0

    def to_proto(self, height: int, tx_bytes: bytes | None, timestamp: str) -> TxResponse:
        """The cosmos.base.abci.v1beta1.TxResponse that GetTx and BroadcastTx return."""
        resp = TxResponse(
            height=height, txhash=self.hash, codespace=self.codespace, code=self.code, data=self.data.hex().upper(),
            raw_log=self.log, gas_wanted=self.gas_wanted, gas_used=self.gas_used, timestamp=timestamp,
        )  # fmt: skip
        for kind, attrs in self.events:
            resp.events.append(
                Event(type=kind, attributes=[EventAttribute(key=k, value=v, index=True) for k, v in attrs.items()])
            )
        if tx_bytes is not None:
            decoded = decode_tx(tx_bytes)
            packed = ProtoAny()
            packed.Pack(Tx(body=decoded.body, auth_info=decoded.auth_info, signatures=decoded.raw.signatures), "/")
            resp.tx.CopyFrom(packed)
        return resp


def rfc3339(time_ns: int) -> str:
    """``2026-01-01T00:00:00.123456Z`` from nanoseconds since the epoch."""
    return datetime.fromtimestamp(time_ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class VeidApp:
    """Bank, auth and veid modules behind the ABCI-like interface, persisted in a :class:`StateDB`."""

    def __init__(self, db: StateDB, cfg: AppConfig) -> None:
        self.db, self.cfg = db, cfg
        self.auth = AuthKeeper(cfg.prefix)
        self.bank = BankKeeper(self.auth, cfg.prefix)
        self.veid = VeidKeeper(self.auth, cfg.prefix)
        self.ante = AnteHandler(cfg.chain_id, cfg.denom, cfg.min_gas_price, cfg.max_block_gas, self.auth, self.bank, self.veid)
        self._check = Store(db)
        self._pending: tuple[BlockRecord, dict[bytes, bytes | None], list[TxRecord]] | None = None
        stored = db.meta("chain_id")
        if stored is not None and stored.decode() != cfg.chain_id:
            raise ChainError(f"{db.path}: database belongs to chain {stored.decode()!r}, not {cfg.chain_id!r}")

    # ----- info ---------------------------------------------------------------------------
    def last_block(self) -> BlockRecord | None:
        """The last committed block (height 0 is genesis), or None before init_chain."""
        return self.db.last_block()

    def init_chain(self, genesis: Genesis) -> bytes:
        """Write the genesis state as block 0 and return its app hash.

        Raises:
            ChainError: the chain is already initialised or the genesis does not match this config.
        """
        if self.db.last_block() is not None:
            raise ChainError(f"{self.db.path}: chain already initialised")
        if (genesis.chain_id, genesis.denom, genesis.prefix) != (self.cfg.chain_id, self.cfg.denom, self.cfg.prefix):
            raise ChainError(
                f"genesis is for chain {genesis.chain_id!r} ({genesis.denom}, {genesis.prefix}); "
                f"config says {self.cfg.chain_id!r} ({self.cfg.denom}, {self.cfg.prefix})"
            )
        store = Store(self.db)
        for account in genesis.accounts:
            self.auth.ensure(store, account.address)
            if account.balance:
                self.bank.mint(store, account.address, genesis.denom, account.balance)
        self.veid.init_genesis(store, genesis.veid)
        time_ns = int(genesis.genesis_time.timestamp() * 1e9)
        app_hash = next_app_hash(b"", 0, store.changes)
        block = BlockRecord(0, time_ns, app_hash, hashlib.sha256(b"genesis" + app_hash).digest())
        genesis_hash = hashlib.sha256(repr(genesis.to_json()).encode()).digest()
        self.db.commit_block(block, store.changes, [], {"chain_id": genesis.chain_id.encode(), "genesis_hash": genesis_hash})
        self._check = Store(self.db)
        return app_hash

    # ----- mempool ------------------------------------------------------------------------
    def check_tx(self, tx_bytes: bytes) -> TxResult:
        """Run the ante handler against the check state (sequences advance for accepted txs)."""
        height = self._next_height()
        return self._run(self._check, tx_bytes, height, check=True, simulate=False, execute=False)

    def simulate(self, tx_bytes: bytes) -> TxResult:
        """Run ante and messages on a throwaway branch of the check state, with unlimited gas."""
        return self._run(self._check.branch(GasMeter(None)), tx_bytes, self._next_height(), False, True, True, keep=False)

    def recheck(self) -> None:
        """Reset the check state to the committed state (call after commit, then re-check the mempool)."""
        self._check = Store(self.db)

    # ----- consensus ----------------------------------------------------------------------
    def finalize_block(self, txs: list[bytes], height: int, time_ns: int) -> tuple[list[TxResult], bytes]:
        """Execute a block's transactions in order; returns their results and the new app hash (not yet committed)."""
        last = self.db.last_block()
        if last is None or height != last.height + 1:
            raise ChainError(f"cannot finalize height {height}: last committed height is {last.height if last else None}")
        deliver = Store(self.db)
        results = [self._run(deliver, tx, height, False, False, True, time_ns=time_ns) for tx in txs]
        app_hash = next_app_hash(last.app_hash, height, deliver.changes)
        block_hash = hashlib.sha256(
            last.block_hash + height.to_bytes(8, "big") + time_ns.to_bytes(8, "big") + app_hash
            + b"".join(bytes.fromhex(r.hash) for r in results)
        ).digest()  # fmt: skip
        block = BlockRecord(height, time_ns, app_hash, block_hash)
        stamp = rfc3339(time_ns)
        records = [
            TxRecord(r.hash, height, i, tx, r.to_proto(height, None, stamp).SerializeToString())
            for i, (r, tx) in enumerate(zip(results, txs))
        ]
        self._pending = (block, deliver.changes, records)
        return results, app_hash

    def commit(self) -> bytes:
        """Persist the finalized block atomically; returns its app hash."""
        if self._pending is None:
            raise ChainError("commit without finalize_block")
        block, changes, records = self._pending
        self.db.commit_block(block, changes, records)
        self._pending = None
        self.recheck()
        return block.app_hash

    # ----- execution ----------------------------------------------------------------------
    def _next_height(self) -> int:
        last = self.db.last_block()
        return (last.height if last else 0) + 1

    def _run(
        self, parent: Store, tx_bytes: bytes, height: int, check: bool, simulate: bool, execute: bool,
        keep: bool = True, time_ns: int | None = None,
    ) -> TxResult:
        """Ante (and with ``execute`` the messages) of one tx; ``time_ns`` is the block time (None: now)."""
        time_s = (time.time_ns() if time_ns is None else time_ns) // 1_000_000_000
        result = TxResult(hash=tx_hash(tx_bytes))
        try:
            tx = decode_tx(tx_bytes)
        except codes.TxRefused as exc:
            result.code, result.codespace, result.log = exc.code, exc.codespace, exc.log
            return result
        gas_limit = None if simulate else tx.auth_info.fee.gas_limit
        result.gas_wanted = tx.auth_info.fee.gas_limit
        meter = GasMeter(gas_limit)
        ante_store = parent.branch(meter)
        ante_passed = False
        try:
            self.ante(ante_store, tx, height=height, check=check, simulate=simulate)
            ante_passed = True
            if execute:
                msg_store = ante_store.branch()
                result.events, result.data = self._execute(msg_store, tx, height, time_s)
                msg_store.write()
        except OutOfGas as exc:
            result.code, result.codespace, result.log = codes.OUT_OF_GAS, "sdk", f"{exc}: out of gas"
        except codes.TxRefused as exc:
            result.code, result.codespace, result.log = exc.code, exc.codespace, exc.log
        result.gas_used = meter.used
        # A delivered tx whose messages failed still pays its fee and uses its sequence (as in Cosmos);
        # one refused by the ante handler changes nothing.
        if keep and ante_passed and (result.ok or (execute and not check)):
            parent.changes.update(ante_store.changes)
        return result

    def _execute(
        self, store: Store, tx: DecodedTx, height: int, time_s: int
    ) -> tuple[list[tuple[str, dict[str, str]]], bytes]:
        events: list[tuple[str, dict[str, str]]] = []
        data = TxMsgData()
        for index, msg in enumerate(tx.msgs):
            type_url = "/" + msg.DESCRIPTOR.full_name
            try:
                if msg.DESCRIPTOR.full_name == "cosmos.bank.v1beta1.MsgSend":
                    from cosmpy.protos.cosmos.bank.v1beta1.tx_pb2 import MsgSendResponse

                    msg_events, response = self.bank.handle_send(store, msg), MsgSendResponse()
                else:
                    msg_events, response = self.veid.handle(store, msg, height, time_s)
            except codes.TxRefused as exc:
                raise codes.TxRefused(
                    exc.code, f"failed to execute message; message index: {index}: {exc.log}", exc.codespace
                ) from exc
            module = "bank" if type_url.startswith("/cosmos.bank") else "veid"
            events.append(("message", {"action": type_url, "module": module, "sender": tx.signers[0], "msg_index": str(index)}))
            events.extend((kind, {**attrs, "msg_index": str(index)}) for kind, attrs in msg_events)
            packed = ProtoAny()
            packed.Pack(response, "/")
            data.msg_responses.append(packed)
        return events, data.SerializeToString()
