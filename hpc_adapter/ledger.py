"""SQLite ledger of settled jobs, keyed by (cluster, job id), so no job is ever paid twice.

A job's row moves ``sending`` -> ``paid`` around the transfer. A row left ``sending`` (the
process died mid-transfer) is never retried automatically: it is reported as in doubt, to be
reconciled against the chain by the memo digest. Jobs that were judged and will never be
paid (failed, provider below threshold) are stored as ``skipped`` with the reason.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from veid.errors import AdapterError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settled_jobs (
    cluster TEXT NOT NULL,
    job_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'paid', 'skipped')),
    address TEXT NOT NULL DEFAULT '',
    amount INTEGER NOT NULL DEFAULT 0,
    tx_hash TEXT NOT NULL DEFAULT '',
    batch TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    settled_at REAL NOT NULL,
    PRIMARY KEY (cluster, job_id)
);
CREATE INDEX IF NOT EXISTS settled_jobs_batch ON settled_jobs (batch) WHERE batch != ''
"""


class RewardLedger:
    """Persistent set of settled ``(cluster, job_id)`` pairs.

    Args:
        path: SQLite file (created with its parent folder); ``":memory:"`` for tests.
    """

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise AdapterError(f"cannot open reward ledger {path}: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def settled(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of ``keys`` already have a row (any status)."""
        keys = list(keys)
        found: set[tuple[str, str]] = set()
        for start in range(0, len(keys), 450):
            chunk = keys[start : start + 450]
            values = ",".join(["(?, ?)"] * len(chunk))
            params = [v for key in chunk for v in key]
            rows = self._db.execute(
                f"SELECT cluster, job_id FROM settled_jobs WHERE (cluster, job_id) IN (VALUES {values})", params
            )
            found.update((c, j) for c, j in rows)
        return found

    def skip(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Record ``(cluster, job_id, reason)`` as judged and never payable."""
        now = time.time()
        with self._tx():
            self._db.executemany(
                "INSERT OR IGNORE INTO settled_jobs (cluster, job_id, status, reason, settled_at) "
                "VALUES (?, ?, 'skipped', ?, ?)",
                [(c, j, r, now) for c, j, r in rows],
            )

    def reserve(self, batches: Iterable[tuple[str, str, Iterable[tuple[str, str, int]]]]) -> None:
        """Before transferring, mark each batch's ``(cluster, job_id, amount)`` rows ``sending`` (one transaction).

        Args:
            batches: ``(batch_id, address, jobs)`` per planned transfer.

        Raises:
            AdapterError: a job already has a row (a concurrent cycle got there first); nothing is reserved.
        """
        now = time.time()
        rows = [(c, j, address, a, batch, now) for batch, address, jobs in batches for c, j, a in jobs]
        try:
            with self._tx():
                self._db.executemany(
                    "INSERT INTO settled_jobs (cluster, job_id, status, address, amount, batch, settled_at) "
                    "VALUES (?, ?, 'sending', ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.IntegrityError as exc:
            raise AdapterError(f"job already settled by another cycle: {exc}") from exc

    def finish(self, confirmed: Iterable[tuple[str, str]], released: Iterable[str]) -> None:
        """After transferring: mark ``(batch_id, tx_hash)`` batches ``paid``; drop ``released`` batches (refused
        transfers) so the next cycle retries them. One transaction."""
        with self._tx():
            self._db.executemany(
                "UPDATE settled_jobs SET status = 'paid', tx_hash = ? WHERE batch = ? AND status = 'sending'",
                [(tx, batch) for batch, tx in confirmed],
            )
            self._db.executemany(
                "DELETE FROM settled_jobs WHERE batch = ? AND status = 'sending'", [(b,) for b in released]
            )

    def in_doubt(self) -> list[tuple[str, str, str, int]]:
        """Rows left ``sending``: ``(cluster, job_id, address, amount)``."""
        rows = self._db.execute("SELECT cluster, job_id, address, amount FROM settled_jobs WHERE status = 'sending'")
        return [tuple(r) for r in rows]

    def total_paid(self, address: str | None = None) -> int:
        """Sum of paid amounts (to ``address``, or to everyone)."""
        if address is None:
            row = self._db.execute("SELECT COALESCE(SUM(amount), 0) FROM settled_jobs WHERE status = 'paid'")
        else:
            row = self._db.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM settled_jobs WHERE status = 'paid' AND address = ?", (address,)
            )
        return int(row.fetchone()[0])

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
