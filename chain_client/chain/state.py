"""Durable chain state: a SQLite (WAL) key-value store, blocks and tx results, plus cached branches with gas.

Each committed block is written in one SQLite transaction (state changes, block header, tx
results, new app hash), so a ``kill -9`` at any point leaves either the previous or the new
block, never half of one, and a restart resumes at the last committed height.

The app hash is a hash chain over the state changes of every block:
``app_hash(h) = sha256(app_hash(h-1) || height || sorted (key, value) changes of h)``.
It commits to the whole history (and so to the state) but, unlike an IAVL root, it does not
give membership proofs; that is the one simplification against a Cosmos SDK store.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from veid.errors import ChainError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, app_hash BLOB NOT NULL, block_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txs (
    hash TEXT PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL,
    tx_bytes BLOB NOT NULL, response BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS txs_by_height ON txs (height, idx);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""

# Gas costs of store access (Cosmos SDK KVGasConfig defaults).
READ_COST_FLAT = 1000
READ_COST_PER_BYTE = 3
WRITE_COST_FLAT = 2000
WRITE_COST_PER_BYTE = 30
DELETE_COST = 1000
ITER_NEXT_COST = 30


class OutOfGas(ChainError):
    """A transaction used more gas than its limit."""

    def __init__(self, descriptor: str, limit: int, used: int) -> None:
        super().__init__(f"out of gas in location: {descriptor}; gasWanted: {limit}, gasUsed: {used}")
        self.limit, self.used = limit, used


class GasMeter:
    """Counts gas; ``limit=None`` means infinite (simulation, genesis)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0

    def consume(self, amount: int, descriptor: str) -> None:
        """Add ``amount`` gas; raise :class:`OutOfGas` past the limit."""
        self.used += amount
        if self.limit is not None and self.used > self.limit:
            raise OutOfGas(descriptor, self.limit, self.used)


@dataclass(frozen=True)
class BlockRecord:
    """A committed block header: height, time (ns since epoch), app hash and block hash."""

    height: int
    time_ns: int
    app_hash: bytes
    block_hash: bytes


@dataclass(frozen=True)
class TxRecord:
    """A transaction in a block, with its serialized cosmos TxResponse."""

    hash: str
    height: int
    index: int
    tx_bytes: bytes
    response: bytes


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no bound)."""
    data = bytearray(prefix)
    while data:
        if data[-1] < 0xFF:
            data[-1] += 1
            return bytes(data)
        data.pop()
    return None


class StateDB:
    """The committed state on disk (SQLite in WAL mode); one writer, guarded by a lock."""

    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        """Open (creating if needed) the database at ``path``.

        Args:
            path: SQLite file.
            synchronous: SQLite ``synchronous`` pragma; FULL also survives power loss, NORMAL survives kill -9.
        """
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ChainError(f"sqlite synchronous must be FULL, NORMAL or EXTRA, got {synchronous!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ChainError(f"{self.path}: cannot open chain database: {exc}") from exc
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the database (the WAL is checkpointed by SQLite)."""
        with self._lock:
            self._conn.close()

    def get(self, key: bytes) -> bytes | None:
        """The committed value at ``key`` or None."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def iterate(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Committed (key, value) pairs whose key starts with ``prefix``, in key order."""
        end = _prefix_end(prefix)
        with self._lock:
            if end is None:
                rows = self._conn.execute("SELECT key, value FROM kv WHERE key >= ? ORDER BY key", (prefix,))
            else:
                rows = self._conn.execute(
                    "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key", (prefix, end)
                )
            return [(bytes(k), bytes(v)) for k, v in rows.fetchall()]

    def meta(self, key: str) -> bytes | None:
        """A metadata value (chain id, genesis hash) or None."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def last_block(self) -> BlockRecord | None:
        """The last committed block, or None before genesis."""
        with self._lock:
            row = self._conn.execute(
                "SELECT height, time_ns, app_hash, block_hash FROM blocks ORDER BY height DESC LIMIT 1"
            ).fetchone()
        return None if row is None else BlockRecord(row[0], row[1], bytes(row[2]), bytes(row[3]))

    def block(self, height: int) -> BlockRecord | None:
        """The block at ``height`` or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT height, time_ns, app_hash, block_hash FROM blocks WHERE height = ?", (height,)
            ).fetchone()
        return None if row is None else BlockRecord(row[0], row[1], bytes(row[2]), bytes(row[3]))

    def block_txs(self, height: int) -> list[bytes]:
        """The raw transactions of the block at ``height``, in order."""
        with self._lock:
            rows = self._conn.execute("SELECT tx_bytes FROM txs WHERE height = ? ORDER BY idx", (height,))
            return [bytes(r[0]) for r in rows.fetchall()]

    def tx(self, tx_hash: str) -> TxRecord | None:
        """The committed transaction with this (upper-case hex) hash or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT hash, height, idx, tx_bytes, response FROM txs WHERE hash = ?", (tx_hash.upper(),)
            ).fetchone()
        return None if row is None else TxRecord(row[0], row[1], row[2], bytes(row[3]), bytes(row[4]))

    def commit_block(
        self,
        block: BlockRecord,
        changes: dict[bytes, bytes | None],
        txs: list[TxRecord],
        meta: dict[str, bytes] | None = None,
    ) -> None:
        """Write one block atomically: state changes, header, tx results (and metadata at genesis)."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                for key, value in changes.items():
                    if value is None:
                        self._conn.execute("DELETE FROM kv WHERE key = ?", (key,))
                    else:
                        self._conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))
                self._conn.execute(
                    "INSERT INTO blocks (height, time_ns, app_hash, block_hash) VALUES (?, ?, ?, ?)",
                    (block.height, block.time_ns, block.app_hash, block.block_hash),
                )
                self._conn.executemany(
                    "INSERT INTO txs (hash, height, idx, tx_bytes, response) VALUES (?, ?, ?, ?, ?)",
                    [(t.hash, t.height, t.index, t.tx_bytes, t.response) for t in txs],
                )
                for key, value in (meta or {}).items():
                    self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise ChainError(f"{self.path}: cannot commit block {block.height}: {exc}") from exc


def next_app_hash(prev: bytes, height: int, changes: dict[bytes, bytes | None]) -> bytes:
    """Chain the previous app hash with this block's sorted changes (deletions hash as empty)."""
    h = hashlib.sha256()
    h.update(prev)
    h.update(height.to_bytes(8, "big"))
    for key in sorted(changes):
        value = changes[key]
        h.update(len(key).to_bytes(4, "big") + key)
        h.update(b"\x00" if value is None else b"\x01" + len(value).to_bytes(4, "big") + value)
    return h.digest()


class Store:
    """A cached branch over a parent (the database or another branch), metering gas.

    Reads fall through to the parent; writes stay here until :meth:`write` pushes them up,
    so a failed message's writes are simply dropped (Cosmos ``CacheMultiStore``).
    """

    def __init__(self, parent: StateDB | Store, gas: GasMeter | None = None) -> None:
        self._parent = parent
        self.gas = gas or GasMeter(None)
        self.changes: dict[bytes, bytes | None] = {}

    def branch(self, gas: GasMeter | None = None) -> Store:
        """A child branch sharing this branch's gas meter unless one is given."""
        return Store(self, gas or self.gas)

    def _raw_get(self, key: bytes) -> bytes | None:
        if key in self.changes:
            return self.changes[key]
        return self._parent._raw_get(key) if isinstance(self._parent, Store) else self._parent.get(key)

    def _raw_iterate(self, prefix: bytes) -> dict[bytes, bytes | None]:
        if isinstance(self._parent, Store):
            merged = self._parent._raw_iterate(prefix)
        else:
            merged = dict(self._parent.iterate(prefix))
        merged.update({k: v for k, v in self.changes.items() if k.startswith(prefix)})
        return merged

    def get(self, key: bytes) -> bytes | None:
        """The value at ``key`` (charging read gas) or None."""
        value = self._raw_get(key)
        self.gas.consume(READ_COST_FLAT + READ_COST_PER_BYTE * (len(key) + len(value or b"")), "ReadFlat")
        return value

    def set(self, key: bytes, value: bytes) -> None:
        """Write ``value`` at ``key`` (charging write gas)."""
        self.gas.consume(WRITE_COST_FLAT + WRITE_COST_PER_BYTE * (len(key) + len(value)), "WriteFlat")
        self.changes[key] = value

    def delete(self, key: bytes) -> None:
        """Delete ``key`` (charging delete gas)."""
        self.gas.consume(DELETE_COST, "Delete")
        self.changes[key] = None

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Live (key, value) pairs under ``prefix`` in key order (charging per item)."""
        merged = self._raw_iterate(prefix)
        for key in sorted(merged):
            value = merged[key]
            if value is not None:
                self.gas.consume(ITER_NEXT_COST + READ_COST_PER_BYTE * (len(key) + len(value)), "IterNext")
                yield key, value

    def write(self) -> None:
        """Push this branch's writes into its parent branch (the database is written by commit)."""
        if not isinstance(self._parent, Store):
            raise ChainError("the root branch is committed with StateDB.commit_block, not write()")
        self._parent.changes.update(self.changes)
        self.changes = {}
