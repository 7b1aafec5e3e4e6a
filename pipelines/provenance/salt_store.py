"""SQLite-backed replay store: each upload salt may be claimed once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class SaltStore:
    """Remembers claimed salts; :meth:`claim` is atomic across threads and processes (SQLite).

    Args:
        path: database file, or ``":memory:"`` for a private in-process store.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS salts (salt BLOB PRIMARY KEY, captured_at_ms INTEGER NOT NULL,"
            " client_id TEXT NOT NULL)"
        )

    def claim(self, salt: bytes, captured_at_ms: int, client_id: str) -> bool:
        """Record ``salt``; ``True`` the first time, ``False`` when it was already claimed."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO salts (salt, captured_at_ms, client_id) VALUES (?, ?, ?)",
                (bytes(salt), int(captured_at_ms), client_id),
            )
            return cur.rowcount == 1

    def seen(self, salt: bytes) -> bool:
        """Whether ``salt`` was claimed before (without claiming it)."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM salts WHERE salt = ?", (bytes(salt),)).fetchone() is not None

    def prune(self, older_than_ms: int) -> int:
        """Forget salts captured before ``older_than_ms`` (Unix ms); returns how many.

        Safe only below the verifier's freshness window: an upload that old is rejected as
        stale before its salt is looked at.
        """
        with self._lock:
            return self._conn.execute("DELETE FROM salts WHERE captured_at_ms < ?", (int(older_than_ms),)).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
