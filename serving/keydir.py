"""Validators' encryption keys: each validator's X25519 key in its own home (0600) and a directory of the public keys.

Capture clients find the keys through :class:`EncryptionKeyDirectory`. :class:`ChainKeyDirectory`
reads them from the chain's Validator records (genesis carries each validator's key; this is the
default). :class:`FileKeyDirectory` keeps them in one JSON file
(``CHAIN_HOME/config/encryption_keys.json``), for validators whose key is not on chain::

    {"schema": 1, "validators": [{"address": "virtengine1...", "algorithm": "x25519",
                                   "public_key": "<64 hex>", "key_id": "<32 hex>"}]}

A capture client encrypts each upload to every key listed for a current validator.
"""

from __future__ import annotations

import abc
import fcntl
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from attest.keys import KemAlgorithm, RecipientPublicKey, X25519Key
from veid.errors import ConfigError, CryptoError

KEY_FILE = "encryption.key"
DIRECTORY_FILE = Path("config") / "encryption_keys.json"


@runtime_checkable
class EncryptionKeyDirectory(Protocol):
    """Where capture clients find the validators' envelope keys."""

    def get(self, validator: str) -> RecipientPublicKey | None:
        """The key published by ``validator`` (account address), or None."""
        ...

    def recipients(self, validators: Iterable[str] | None = None) -> list[RecipientPublicKey]:
        """Keys of ``validators`` (all published ones when None), in address order."""
        ...


class _KeyLookup(abc.ABC):
    """``get``/``recipients`` over a ``_read() -> {address: key}`` that subclasses provide."""

    @abc.abstractmethod
    def _read(self) -> dict[str, RecipientPublicKey]:
        """Every published key, by validator address."""

    def get(self, validator: str) -> RecipientPublicKey | None:
        return self._read().get(validator)

    def recipients(self, validators: Iterable[str] | None = None) -> list[RecipientPublicKey]:
        keys = self._read()
        wanted = sorted(keys) if validators is None else sorted(set(validators))
        return [keys[v] for v in wanted if v in keys]


class FileKeyDirectory(_KeyLookup):
    """An :class:`EncryptionKeyDirectory` in one JSON file, updated under an exclusive lock.

    Args:
        path: the JSON file; a missing file is an empty directory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_chain_home(cls, chain_home: str | Path) -> "FileKeyDirectory":
        """The directory file of a chain home (``config/encryption_keys.json``)."""
        return cls(Path(chain_home) / DIRECTORY_FILE)

    def _read(self) -> dict[str, RecipientPublicKey]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            out = {}
            for entry in raw["validators"]:
                if entry["algorithm"] != "x25519":
                    raise ValueError(f"unsupported algorithm {entry['algorithm']!r}")
                key = RecipientPublicKey(KemAlgorithm.X25519, bytes.fromhex(entry["public_key"]))
                if entry.get("key_id", key.key_id) != key.key_id:
                    raise ValueError(f"key id of {entry['address']} does not match its key")
                out[str(entry["address"])] = key
            return out
        except (OSError, ValueError, KeyError, TypeError, CryptoError) as exc:
            raise ConfigError(f"{self.path}: not a valid encryption key directory: {exc}") from exc


    def publish(self, validator: str, key: RecipientPublicKey) -> None:
        """Add or replace ``validator``'s key (atomic, safe against concurrent publishers)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            keys = self._read()
            keys[validator] = key
            doc = {"schema": 1, "validators": [
                {"address": a, "algorithm": "x25519", "public_key": k.public_bytes.hex(), "key_id": k.key_id}
                for a, k in sorted(keys.items())
            ]}
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2, sort_keys=True)
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)


class ChainKeyDirectory(_KeyLookup):
    """An :class:`EncryptionKeyDirectory` over the chain's Validator records (``encryption_key``).

    Args:
        client: a :class:`chain_client.client.ChainClient` (anything with ``validators()``).
    """

    def __init__(self, client) -> None:
        self.client = client

    def _read(self) -> dict[str, RecipientPublicKey]:
        out = {}
        for v in self.client.validators():
            if v.encryption_key:
                out[v.address] = RecipientPublicKey(KemAlgorithm.X25519, bytes(v.encryption_key))
        return out



def create_encryption_key(home: str | Path, overwrite: bool = False, key: X25519Key | None = None) -> X25519Key:
    """Create ``HOME/encryption.key`` (hex X25519 secret, mode 0600, home 0700) and return the key.

    Args:
        home: the validator home.
        overwrite: replace an existing key.
        key: the key to store (default: a fresh random one), e.g. the one genesis published.

    Raises:
        ConfigError: the key exists and ``overwrite`` is False.
    """
    home = Path(home)
    path = home / KEY_FILE
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; refusing to replace a validator's encryption key")
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    key = key or X25519Key.generate()
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".key-", suffix=".tmp")
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key.private_key_bytes.hex() + "\n")
    os.replace(tmp, path)
    return key


def load_encryption_key(home: str | Path) -> X25519Key:
    """Read ``HOME/encryption.key``; refuses a file readable by group or others.

    Raises:
        ConfigError: missing, unreadable, too permissive, or not a 32-byte hex key.
    """
    path = Path(home) / KEY_FILE
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: no validator encryption key ({exc.strerror}); run `veid validator init`") from exc
    if mode & 0o077:
        raise ConfigError(f"{path} has mode {mode:o}; it must be readable by its owner only (chmod 600)")
    try:
        return X25519Key.from_bytes(bytes.fromhex(text))
    except (ValueError, CryptoError) as exc:
        raise ConfigError(f"{path}: not a hex X25519 key") from exc
