"""Keys: Cosmos secp256k1 accounts from BIP39 mnemonics, Ed25519 signing keys, X25519 and hybrid KEM keys.

Account keys follow the Cosmos SDK exactly: BIP39 seed (``mnemonic``), BIP32 path
``m/44'/118'/account'/0/index`` (``bip32``), compressed secp256k1 public keys, address
``bech32(prefix, ripemd160(sha256(pubkey)))``, signatures ``r || s`` (64 bytes, low-S)
over SHA-256 of the message, deterministic nonces (RFC 6979, libsecp256k1 via coincurve).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

import bech32
import coincurve
from bip32 import BIP32
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mlkem, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from mnemonic import Mnemonic

from veid.errors import CryptoError

#: secp256k1 group order; Cosmos rejects signatures whose s exceeds half of it.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
COSMOS_COIN_TYPE = 118
KEY_ID_HEX_CHARS = 32  # key ids are the first 16 bytes of SHA-256(public key), in hex


def key_id(public_key: bytes) -> str:
    """Short identifier of a public key: the first 16 bytes of its SHA-256, as 32 hex characters."""
    return hashlib.sha256(public_key).hexdigest()[:KEY_ID_HEX_CHARS]


def _ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 builds without the legacy provider
        from Crypto.Hash import RIPEMD160

        return RIPEMD160.new(data).digest()


def address_from_public_key(public_key: bytes, prefix: str = "virtengine") -> str:
    """Bech32 account address of a 33-byte compressed secp256k1 public key (Cosmos rules)."""
    if len(public_key) != 33 or public_key[0] not in (2, 3):
        raise CryptoError(f"expected a 33-byte compressed secp256k1 public key, got {len(public_key)} bytes")
    words = bech32.convertbits(_ripemd160(hashlib.sha256(public_key).digest()), 8, 5)
    return bech32.bech32_encode(prefix, words)


def decode_address(address: str) -> tuple[str, bytes]:
    """Split a bech32 account address into ``(prefix, 20-byte account id)``.

    Raises:
        CryptoError: not valid bech32 or not a 20-byte account id.
    """
    hrp, words = bech32.bech32_decode(address) if isinstance(address, str) else (None, None)
    data = bech32.convertbits(words, 5, 8, False) if words is not None else None
    if hrp is None or data is None or len(data) != 20:
        raise CryptoError(f"not a bech32 account address: {address!r}")
    return hrp, bytes(data)


def verify_account_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Verify a Cosmos secp256k1 signature (64-byte ``r || s`` over SHA-256 of ``message``).

    High-S signatures are rejected, as the Cosmos SDK does. Returns nothing; raises on failure.

    Raises:
        CryptoError: malformed key or signature, high S, or a signature that does not verify.
    """
    if len(signature) != 64:
        raise CryptoError(f"secp256k1 signature must be 64 bytes (r || s), got {len(signature)}")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < SECP256K1_N and 0 < s <= SECP256K1_N // 2):
        raise CryptoError("secp256k1 signature out of range or not low-S")
    try:
        pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), bytes(public_key))
    except ValueError as exc:
        raise CryptoError("invalid secp256k1 public key") from exc
    try:
        pub.verify(encode_dss_signature(r, s), bytes(message), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise CryptoError("secp256k1 signature does not verify") from exc


class AccountKey:
    """A Cosmos secp256k1 account key. The private key never appears in ``repr``."""

    def __init__(self, private_key: bytes, prefix: str = "virtengine") -> None:
        if len(private_key) != 32 or not 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
            raise CryptoError("secp256k1 private key must be 32 bytes in 1..n-1")
        self._secret = coincurve.PrivateKey(bytes(private_key))
        self.prefix = prefix

    @classmethod
    def from_mnemonic(cls, mnemonic: str, prefix: str = "virtengine", account: int = 0, index: int = 0) -> AccountKey:
        """Derive the key at ``m/44'/118'/account'/0/index`` from a BIP39 mnemonic (no passphrase).

        Raises:
            CryptoError: the mnemonic has an unknown word or a bad checksum.
        """
        words = " ".join(mnemonic.split())
        language = Mnemonic("english")
        if not language.check(words):
            raise CryptoError("mnemonic is not a valid BIP39 English phrase (unknown word or bad checksum)")
        seed = Mnemonic.to_seed(words, passphrase="")
        path = f"m/44'/{COSMOS_COIN_TYPE}'/{int(account)}'/0/{int(index)}"
        return cls(BIP32.from_seed(seed).get_privkey_from_path(path), prefix=prefix)

    @classmethod
    def generate(cls, prefix: str = "virtengine") -> AccountKey:
        """A fresh random key (from the OS CSPRNG)."""
        return cls(coincurve.PrivateKey().secret, prefix=prefix)

    @staticmethod
    def generate_mnemonic(strength_bits: int = 256) -> str:
        """A fresh BIP39 English mnemonic (24 words for 256 bits)."""
        return Mnemonic("english").generate(strength=strength_bits)

    @property
    def private_key_bytes(self) -> bytes:
        return self._secret.secret

    @property
    def public_key_bytes(self) -> bytes:
        """33-byte compressed public key."""
        return self._secret.public_key.format(compressed=True)

    @property
    def address(self) -> str:
        return address_from_public_key(self.public_key_bytes, self.prefix)

    def sign(self, message: bytes) -> bytes:
        """64-byte ``r || s`` signature over SHA-256(message); low-S and deterministic (RFC 6979)."""
        return self._secret.sign_recoverable(bytes(message), hasher=lambda m: hashlib.sha256(m).digest())[:64]

    def __repr__(self) -> str:
        return f"AccountKey(address={self.address!r})"


class _RawKey:
    """A private key stored as 32 raw bytes (Ed25519, X25519): loading, raw bytes and key id."""

    _primitive: type  # the cryptography private-key class
    _label: str

    def __init__(self, private_key) -> None:
        self._key = private_key

    @classmethod
    def generate(cls):
        return cls(cls._primitive.generate())

    @classmethod
    def from_bytes(cls, private_key: bytes):
        """Load from the 32-byte private key (the seed, for Ed25519)."""
        if len(private_key) != 32:
            raise CryptoError(f"{cls._label} private key must be 32 bytes, got {len(private_key)}")
        return cls(cls._primitive.from_private_bytes(bytes(private_key)))

    @property
    def private_key_bytes(self) -> bytes:
        return self._key.private_bytes_raw()

    @property
    def public_key_bytes(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key_bytes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_id={self.key_id!r})"


class Ed25519Key(_RawKey):
    """An Ed25519 signing key (envelope senders, capture devices, VC issuers)."""

    _primitive = ed25519.Ed25519PrivateKey
    _label = "Ed25519"

    def sign(self, message: bytes) -> bytes:
        """64-byte Ed25519 signature (RFC 8032, deterministic)."""
        return self._key.sign(bytes(message))


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Verify an Ed25519 signature; returns nothing, raises :class:`CryptoError` on any failure."""
    if len(public_key) != 32 or len(signature) != 64:
        raise CryptoError("Ed25519 public key must be 32 bytes and signature 64 bytes")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), bytes(message))
    except (InvalidSignature, ValueError) as exc:
        raise CryptoError("Ed25519 signature does not verify") from exc


class KemAlgorithm(enum.IntEnum):
    """Recipient key algorithms; the value is the wire identifier."""

    X25519 = 1
    MLKEM768_X25519 = 2


#: public key sizes per algorithm (ML-KEM-768 encapsulation key 1184 bytes, then X25519 32 bytes).
PUBLIC_KEY_SIZES = {KemAlgorithm.X25519: 32, KemAlgorithm.MLKEM768_X25519: 1184 + 32}


@dataclass(frozen=True)
class RecipientPublicKey:
    """A recipient's public encryption key: algorithm plus raw public bytes."""

    algorithm: KemAlgorithm
    public_bytes: bytes

    def __post_init__(self) -> None:
        if len(self.public_bytes) != PUBLIC_KEY_SIZES[self.algorithm]:
            raise CryptoError(
                f"{self.algorithm.name} public key must be {PUBLIC_KEY_SIZES[self.algorithm]} bytes, "
                f"got {len(self.public_bytes)}"
            )

    @property
    def key_id(self) -> str:
        return key_id(self.public_bytes)

    def to_hpke(self) -> object:
        """The ``cryptography`` public key object that HPKE encrypts to."""
        from cryptography.hazmat.primitives import hpke

        try:
            if self.algorithm is KemAlgorithm.X25519:
                return x25519.X25519PublicKey.from_public_bytes(self.public_bytes)
            return hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(self.public_bytes[:1184]),
                x25519.X25519PublicKey.from_public_bytes(self.public_bytes[1184:]),
            )
        except ValueError as exc:
            raise CryptoError(f"invalid {self.algorithm.name} public key") from exc


class X25519Key(_RawKey):
    """An X25519 private key for envelopes (HPKE DHKEM(X25519))."""

    algorithm = KemAlgorithm.X25519
    _primitive = x25519.X25519PrivateKey
    _label = "X25519"

    def public_key(self) -> RecipientPublicKey:
        return RecipientPublicKey(self.algorithm, self.public_key_bytes)

    def to_hpke(self) -> object:
        return self._key


class MLKEM768X25519Key:
    """A post-quantum hybrid recipient key: ML-KEM-768 (64-byte seed) plus X25519 (32 bytes)."""

    algorithm = KemAlgorithm.MLKEM768_X25519

    def __init__(self, mlkem_key: mlkem.MLKEM768PrivateKey, x25519_key: x25519.X25519PrivateKey) -> None:
        self._mlkem = mlkem_key
        self._x25519 = x25519_key

    @classmethod
    def generate(cls) -> MLKEM768X25519Key:
        return cls(mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, private_key: bytes) -> MLKEM768X25519Key:
        """Load from 96 bytes: the ML-KEM-768 seed (64) then the X25519 private key (32)."""
        if len(private_key) != 96:
            raise CryptoError(f"ML-KEM-768+X25519 private key must be 96 bytes, got {len(private_key)}")
        return cls(
            mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes(private_key[:64])),
            x25519.X25519PrivateKey.from_private_bytes(bytes(private_key[64:])),
        )

    @property
    def private_key_bytes(self) -> bytes:
        return self._mlkem.private_bytes_raw() + self._x25519.private_bytes_raw()

    @property
    def public_key_bytes(self) -> bytes:
        return self._mlkem.public_key().public_bytes_raw() + self._x25519.public_key().public_bytes_raw()

    def public_key(self) -> RecipientPublicKey:
        return RecipientPublicKey(self.algorithm, self.public_key_bytes)

    @property
    def key_id(self) -> str:
        return key_id(self.public_key_bytes)

    def to_hpke(self) -> object:
        from cryptography.hazmat.primitives import hpke

        return hpke.MLKEM768X25519PrivateKey(self._mlkem, self._x25519)

    def __repr__(self) -> str:
        return f"MLKEM768X25519Key(key_id={self.key_id!r})"


RecipientPrivateKey = X25519Key | MLKEM768X25519Key
