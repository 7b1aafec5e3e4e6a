"""An ApprovedClientRegistry that reads the approved capture clients from the chain (Ed25519 ones only)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pipelines.provenance.registry import ApprovedClient
from veid.errors import ChainError


class ChainClientRegistry:
    """``ChainClientRegistry(client).get(client_id)``: approved clients from the chain's ApprovedClients query.

    Provenance signatures are Ed25519, so only clients registered with algorithm ``ed25519``
    are returned; a secp256k1-registered client id is reported as unknown. Answers are cached
    for ``ttl_s`` seconds (a removed client stops being accepted at most that much later).

    Args:
        client: a :class:`chain_client.client.ChainClient` (anything with ``approved_clients()``).
        ttl_s: cache lifetime, seconds (0: query on every lookup).
        clock: monotonic seconds (injectable).

    Raises:
        ChainError: (from lookups) the chain cannot be queried and no cached answer exists.
    """

    def __init__(self, client, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, ApprovedClient] | None = None
        self._fetched_at = float("-inf")

    def _load(self) -> dict[str, ApprovedClient]:
        with self._lock:
            now = self._clock()
            if self._cache is None or now - self._fetched_at >= self.ttl_s:
                try:
                    records = self._client.approved_clients()
                except ChainError:
                    if self._cache is None:
                        raise
                    return self._cache
                self._cache = {
                    r.client_id: ApprovedClient(r.client_id, bytes(r.public_key), r.name)
                    for r in records if r.algorithm == "ed25519" and len(r.public_key) == 32
                }
                self._fetched_at = now
            return self._cache

    def get(self, client_id: str) -> ApprovedClient | None:
        """The approved Ed25519 client ``client_id`` or None."""
        return self._load().get(client_id)

    def all(self) -> tuple[ApprovedClient, ...]:
        """Every approved Ed25519 client."""
        return tuple(self._load().values())

    def refresh(self) -> None:
        """Forget the cache (the next lookup queries the chain)."""
        with self._lock:
            self._cache = None
