"""The validator daemon's durable progress (SQLite): one row per request and the salts it claimed, so restarts never repeat or lose work."""

from __future__ import annotations

import enum
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


class Status(str, enum.Enum):
    """Where one request stands for this validator."""

    NEW = "new"                # seen, not yet judged (or a retry is due)
    ATTESTED = "attested"      # signed attestation recorded, maybe not yet on chain
    SUBMITTED = "submitted"    # our attestation is on chain
    GAVE_UP = "gave_up"        # no judgement possible after max attempts


@dataclass(frozen=True)
class RequestRow:
    """A request's progress; ``payload`` is the recorded signed attestation message (protobuf bytes)."""

    scope_id: str
    status: Status
    attempts: int
    next_try: float
    payload: bytes
    tx_hash: str
    error: str


class ProgressStore:
    """``ProgressStore(path)``: request rows and salt claims in one WAL database (synchronous=FULL).

    Args:
        path: the SQLite file (in the validator's home).
    """

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS requests (scope_id TEXT PRIMARY KEY, status TEXT NOT NULL, attempts INTEGER"
            " NOT NULL DEFAULT 0, next_try REAL NOT NULL DEFAULT 0, payload BLOB NOT NULL DEFAULT x'', tx_hash TEXT"
            " NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', updated REAL NOT NULL)"
        )
        self._conn.execute("CREATE TABLE IF NOT EXISTS salts (salt BLOB PRIMARY KEY, scope_id TEXT NOT NULL)")

    def close(self) -> None:
        self._conn.close()

    def get(self, scope_id: str) -> RequestRow | None:
        row = self._conn.execute(
            "SELECT scope_id, status, attempts, next_try, payload, tx_hash, error FROM requests WHERE scope_id = ?",
            (scope_id,),
        ).fetchone()
        return None if row is None else RequestRow(row[0], Status(row[1]), row[2], row[3], bytes(row[4]), row[5], row[6])

    def ensure(self, scope_id: str) -> RequestRow:
        """The row of ``scope_id``, created as NEW on first sight."""
        self._conn.execute("INSERT OR IGNORE INTO requests (scope_id, status, updated) VALUES (?, ?, ?)",
                           (scope_id, Status.NEW.value, time.time()))
        row = self.get(scope_id)
        assert row is not None
        return row

    def record_attested(self, scope_id: str, payload: bytes) -> None:
        """Record the signed attestation before it is submitted (so a restart resubmits the same bytes)."""
        self._conn.execute(
            "INSERT INTO requests (scope_id, status, payload, updated) VALUES (?, ?, ?, ?) ON CONFLICT(scope_id)"
            " DO UPDATE SET status = excluded.status, payload = excluded.payload, error = '', updated = excluded.updated",
            (scope_id, Status.ATTESTED.value, payload, time.time()))

    def record_submitted(self, scope_id: str, tx_hash: str) -> None:
        self._conn.execute(
            "INSERT INTO requests (scope_id, status, tx_hash, updated) VALUES (?, ?, ?, ?) ON CONFLICT(scope_id)"
            " DO UPDATE SET status = excluded.status, tx_hash = excluded.tx_hash, updated = excluded.updated",
            (scope_id, Status.SUBMITTED.value, tx_hash, time.time()))

    def record_failure(self, scope_id: str, error: str, max_attempts: int, backoff_s: float) -> RequestRow:
        """Count a failed attempt (retry after an exponential backoff); after ``max_attempts`` the request is given up."""
        row = self.ensure(scope_id)
        attempts = row.attempts + 1
        status = Status.GAVE_UP if attempts >= max_attempts else row.status
        next_try = time.time() + backoff_s * (2 ** (attempts - 1))
        self._conn.execute("UPDATE requests SET status = ?, attempts = ?, next_try = ?, error = ?, updated = ?"
                           " WHERE scope_id = ?", (status.value, attempts, next_try, error[:500], time.time(), scope_id))
        return self.ensure(scope_id)

    def counts(self) -> dict[Status, int]:
        """Requests per status."""
        rows = self._conn.execute("SELECT status, COUNT(*) FROM requests GROUP BY status").fetchall()
        return {Status(s): n for s, n in rows}

    def claim_salt(self, salt: bytes, scope_id: str) -> bool:
        """Claim ``salt`` for ``scope_id``: True when new or already claimed by the same request (a resumed run)."""
        self._conn.execute("INSERT OR IGNORE INTO salts (salt, scope_id) VALUES (?, ?)", (bytes(salt), scope_id))
        owner = self._conn.execute("SELECT scope_id FROM salts WHERE salt = ?", (bytes(salt),)).fetchone()
        return owner is not None and owner[0] == scope_id


class ScopedSaltClaims:
    """A provenance salt store bound to one request: a salt may serve that request again, never another.

    Passed to :class:`pipelines.provenance.verify.ProvenanceVerifier` in place of its SaltStore.
    """

    def __init__(self, store: ProgressStore, scope_id: str) -> None:
        self._store = store
        self._scope_id = scope_id

    def claim(self, salt: bytes, captured_at_ms: int, client_id: str) -> bool:
        return self._store.claim_salt(salt, self._scope_id)
