"""Single-node consensus for the embedded chain: a mempool and a block producer that drive the app's ABCI calls."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from chain_client.chain import codes
from chain_client.chain.app import TxResult, VeidApp
from chain_client.chain.ante import tx_hash
from veid.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class NodeConfig:
    """Block production: minimum interval between blocks, txs per block, mempool size, empty blocks."""

    block_time_ms: int = 20
    max_block_txs: int = 200
    mempool_size: int = 5000
    empty_block_interval_s: float = 0.0


class Node:
    """Holds the app, a mempool and the block producer thread; every app call runs under one lock."""

    def __init__(self, app: VeidApp, cfg: NodeConfig) -> None:
        self.app, self.cfg = app, cfg
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._mempool: list[tuple[str, bytes]] = []
        self._hashes: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._committed = threading.Condition(threading.Lock())
        last = app.last_block()
        self._last_block_time = time.monotonic()
        self.height = last.height if last else 0

    # ----- transactions -------------------------------------------------------------------
    def broadcast(self, tx_bytes: bytes) -> TxResult:
        """CheckTx and, on success, admit the transaction to the mempool (BroadcastTx SYNC)."""
        h = tx_hash(tx_bytes)
        with self._lock:
            if h in self._hashes or self.app.db.tx(h) is not None:
                return TxResult(hash=h, code=codes.TX_IN_MEMPOOL, codespace="sdk", log="tx already exists in cache")
            if len(self._mempool) >= self.cfg.mempool_size:
                return TxResult(hash=h, code=codes.MEMPOOL_FULL, codespace="sdk", log="mempool is full")
            result = self.app.check_tx(tx_bytes)
            if result.ok:
                self._mempool.append((h, tx_bytes))
                self._hashes.add(h)
                self._wake.notify_all()
            return result

    def simulate(self, tx_bytes: bytes) -> TxResult:
        """Simulate against the check state."""
        with self._lock:
            return self.app.simulate(tx_bytes)

    def mempool_size(self) -> int:
        """Transactions waiting for a block."""
        with self._lock:
            return len(self._mempool)

    # ----- blocks -------------------------------------------------------------------------
    def produce_block(self) -> int:
        """Finalize and commit one block from the mempool now; returns its height."""
        with self._lock:
            batch = self._mempool[: self.cfg.max_block_txs]
            del self._mempool[: len(batch)]
            last = self.app.last_block()
            height = (last.height if last else 0) + 1
            time_ns = max(time.time_ns(), (last.time_ns + 1) if last else 0)
            results, _ = self.app.finalize_block([tx for _, tx in batch], height, time_ns)
            self.app.commit()
            for h, _ in batch:
                self._hashes.discard(h)
            self._recheck()
            self.height = height
            self._last_block_time = time.monotonic()
        failed = sum(1 for r in results if not r.ok)
        log.debug("block %d: %d txs (%d failed)", height, len(batch), failed)
        with self._committed:
            self._committed.notify_all()
        return height

    def _recheck(self) -> None:
        """Re-run CheckTx on the remaining mempool against the new state, dropping what no longer passes."""
        kept = []
        for h, tx in self._mempool:
            if self.app.check_tx(tx).ok:
                kept.append((h, tx))
            else:
                self._hashes.discard(h)
        self._mempool = kept

    def wait_for_height(self, height: int, timeout_s: float) -> bool:
        """Block until ``height`` is committed (True) or ``timeout_s`` passes (False)."""
        deadline = time.monotonic() + timeout_s
        with self._committed:
            while self.height < height:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._committed.wait(left)
        return True

    def start(self) -> None:
        """Start the block producer thread."""
        self._thread = threading.Thread(target=self._run, name="veid-block-producer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop producing blocks (the block in progress, if any, finishes and commits)."""
        self._stop.set()
        with self._lock:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = self.cfg.block_time_ms / 1000.0
        while not self._stop.is_set():
            with self._lock:
                empty_wait = self.cfg.empty_block_interval_s or None
                if not self._mempool:
                    self._wake.wait(timeout=empty_wait)
                if self._stop.is_set():
                    return
                idle = time.monotonic() - self._last_block_time
                if not self._mempool and not (empty_wait and idle >= empty_wait):
                    continue
                delay = interval - idle
            if delay > 0:
                time.sleep(delay)
            if self._stop.is_set():
                return
            self.produce_block()
