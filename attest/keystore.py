"""Keystore: private keys encrypted at rest under a passphrase (scrypt + AES-256-GCM), one 0600 file per key.

Entry file ``<dir>/<name>.json``::

    {"version": 1, "name": ..., "kind": "secp256k1" | "ed25519" | "x25519" | "mlkem768-x25519",
     "public_key": <hex>, "address": <bech32 or "">,
     "kdf": {"name": "scrypt", "log2_n": .., "r": .., "p": .., "salt": <hex 16 bytes>},
     "cipher": {"name": "aes-256-gcm", "nonce": <hex 12 bytes>, "ciphertext": <hex>}}

Every field except the ciphertext is bound as associated data (JCS of the entry without
``cipher``), so editing the name, kind, public key or KDF parameters makes decryption fail.
Files are written atomically (temporary file, then ``os.replace``) with mode 0600 inside a
0700 directory.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from attest.config import KdfConfig
from attest.jcs import canonicalize
from attest.keys import AccountKey, Ed25519Key, MLKEM768X25519Key, X25519Key
from veid.errors import CryptoError, InputError

KINDS = ("secp256k1", "ed25519", "x25519", "mlkem768-x25519")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
AnyKey = AccountKey | Ed25519Key | X25519Key | MLKEM768X25519Key


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about a stored key (never the secret)."""

    name: str
    kind: str
    public_key: bytes
    address: str


def _kind_of(key: AnyKey) -> str:
    kinds = {AccountKey: "secp256k1", Ed25519Key: "ed25519", X25519Key: "x25519", MLKEM768X25519Key: "mlkem768-x25519"}
    return kinds[type(key)]


def _load_key(kind: str, secret: bytes, prefix: str) -> AnyKey:
    if kind == "secp256k1":
        return AccountKey(secret, prefix=prefix)
    if kind == "ed25519":
        return Ed25519Key.from_bytes(secret)
    if kind == "x25519":
        return X25519Key.from_bytes(secret)
    return MLKEM768X25519Key.from_bytes(secret)


def _derive(passphrase: str, salt: bytes, kdf: KdfConfig) -> bytes:
    if not passphrase:
        raise InputError("keystore passphrase must not be empty")
    return Scrypt(salt=salt, length=32, n=2**kdf.log2_n, r=kdf.r, p=kdf.p).derive(passphrase.encode("utf-8"))


class Keystore:
    """A directory of passphrase-encrypted key entries."""

    def __init__(self, directory: str | Path, kdf: KdfConfig | None = None) -> None:
        self.directory = Path(directory)
        self.kdf = kdf or KdfConfig()

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise InputError(f"key name must be 1..64 of [A-Za-z0-9_.-], got {name!r}")
        return self.directory / f"{name}.json"

    def add(self, name: str, key: AnyKey, passphrase: str, overwrite: bool = False) -> KeyInfo:
        """Encrypt and store ``key`` under ``name``.

        Raises:
            InputError: bad name, empty passphrase, or the name exists and ``overwrite`` is false.
        """
        path = self._path(name)
        if path.exists() and not overwrite:
            raise InputError(f"key {name!r} already exists in {self.directory}")
        kind = _kind_of(key)
        address = key.address if isinstance(key, AccountKey) else ""
        salt, nonce = os.urandom(16), os.urandom(12)
        entry: dict[str, Any] = {
            "version": 1,
            "name": name,
            "kind": kind,
            "public_key": key.public_key_bytes.hex(),
            "address": address,
            "kdf": {"name": "scrypt", "log2_n": self.kdf.log2_n, "r": self.kdf.r, "p": self.kdf.p, "salt": salt.hex()},
        }
        ciphertext = AESGCM(_derive(passphrase, salt, self.kdf)).encrypt(
            nonce, key.private_key_bytes, canonicalize(entry)
        )
        entry["cipher"] = {"name": "aes-256-gcm", "nonce": nonce.hex(), "ciphertext": ciphertext.hex()}
        self._write(path, json.dumps(entry, indent=2, sort_keys=True).encode())
        return KeyInfo(name, kind, key.public_key_bytes, address)

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, name: str) -> dict[str, Any]:
        path = self._path(name)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"no key named {name!r} in {self.directory}") from None
        except (OSError, ValueError) as exc:
            raise CryptoError(f"keystore entry {path} is unreadable: {exc}") from exc
        if not isinstance(entry, dict) or entry.get("version") != 1 or entry.get("kind") not in KINDS:
            raise CryptoError(f"keystore entry {path} has an unknown version or kind")
        return entry

    def info(self, name: str) -> KeyInfo:
        """Public facts about one key (no passphrase needed)."""
        entry = self._read(name)
        return KeyInfo(entry["name"], entry["kind"], bytes.fromhex(entry["public_key"]), entry["address"])

    def list(self) -> list[KeyInfo]:
        """All keys, sorted by name."""
        if not self.directory.is_dir():
            return []
        return [self.info(p.stem) for p in sorted(self.directory.glob("*.json")) if _NAME.match(p.stem)]

    def load(self, name: str, passphrase: str, prefix: str = "virtengine") -> AnyKey:
        """Decrypt a key.

        Raises:
            CryptoError: wrong passphrase, or the entry was altered (any field).
        """
        entry = self._read(name)
        try:
            cipher, kdf_raw = entry["cipher"], entry["kdf"]
            kdf = KdfConfig(log2_n=kdf_raw["log2_n"], r=kdf_raw["r"], p=kdf_raw["p"])
            salt, nonce = bytes.fromhex(kdf_raw["salt"]), bytes.fromhex(cipher["nonce"])
            ciphertext = bytes.fromhex(cipher["ciphertext"])
            associated = canonicalize({k: v for k, v in entry.items() if k != "cipher"})
        except (KeyError, TypeError, ValueError, InputError) as exc:
            raise CryptoError(f"keystore entry {name!r} is malformed: {exc}") from exc
        try:
            secret = AESGCM(_derive(passphrase, salt, kdf)).decrypt(nonce, ciphertext, associated)
        except InvalidTag:
            raise CryptoError(f"wrong passphrase for key {name!r}, or the entry was altered") from None
        key = _load_key(entry["kind"], secret, prefix)
        if key.public_key_bytes.hex() != entry["public_key"]:
            raise CryptoError(f"keystore entry {name!r}: decrypted key does not match its public key")
        return key
