"""The approved-capture-client registry: a protocol, plus in-memory and JSON-file versions (the chain implements it later)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from veid.errors import ConfigError


@dataclass(frozen=True)
class ApprovedClient:
    """A capture client allowed to submit uploads.

    Attributes:
        client_id: identifier carried in uploads.
        public_key: its Ed25519 public key (32 bytes).
        name: human-readable label (app name and version).
        revoked: a revoked client is treated as unapproved.
    """

    client_id: str
    public_key: bytes
    name: str = ""
    revoked: bool = False


@runtime_checkable
class ApprovedClientRegistry(Protocol):
    """Look up approved capture clients by id."""

    def get(self, client_id: str) -> ApprovedClient | None:
        """The client with this id, or ``None`` when unknown."""
        ...


class InMemoryClientRegistry:
    """A registry held in a dict (tests, single-process demos)."""

    def __init__(self, clients: tuple[ApprovedClient, ...] = ()) -> None:
        self._clients = {c.client_id: c for c in clients}

    def add(self, client: ApprovedClient) -> None:
        """Approve (or replace) a client."""
        self._clients[client.client_id] = client

    def get(self, client_id: str) -> ApprovedClient | None:
        return self._clients.get(client_id)

    def all(self) -> tuple[ApprovedClient, ...]:
        return tuple(self._clients.values())


class JsonFileClientRegistry(InMemoryClientRegistry):
    """A registry persisted as JSON: ``{"clients": [{"client_id", "public_key" (hex), "name", "revoked"}]}``.

    Args:
        path: the JSON file; a missing file is an empty registry.

    Raises:
        ConfigError: the file exists but is not a valid registry.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        clients: list[ApprovedClient] = []
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                for entry in raw["clients"]:
                    key = bytes.fromhex(entry["public_key"])
                    if len(key) != 32:
                        raise ValueError(f"public key of {entry['client_id']!r} is not 32 bytes")
                    clients.append(ApprovedClient(str(entry["client_id"]), key, str(entry.get("name", "")),
                                                  bool(entry.get("revoked", False))))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"{self.path}: not a valid client registry: {exc}") from exc
        super().__init__(tuple(clients))

    def save(self) -> None:
        """Write the registry atomically (temporary file, then rename)."""
        data = {"clients": [
            {"client_id": c.client_id, "public_key": c.public_key.hex(), "name": c.name, "revoked": c.revoked}
            for c in self.all()
        ]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.path)
