"""The ``attest`` section of params.yaml: quorum rule, attestation validity, keystore KDF, address prefix."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class KdfConfig:
    """scrypt parameters used to derive a keystore entry's key from its passphrase.

    Attributes:
        log2_n: log2 of scrypt's CPU/memory cost N (17 means N = 131072, 128 MiB with r = 8).
        r: scrypt block size.
        p: scrypt parallelism.
    """

    log2_n: int = 17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not 10 <= self.log2_n <= 22:
            raise ValueError(f"log2_n must be in 10..22, got {self.log2_n}")
        if self.r < 1 or self.p < 1:
            raise ValueError("scrypt r and p must be positive")


@dataclass(frozen=True)
class AttestConfig:
    """Tunables of attestations, quorum and keys (mirrors ``params.yaml: attest``).

    Attributes:
        address_prefix: bech32 human-readable prefix of account addresses.
        attestation_validity_days: days from issued-at to expires-at of a new attestation.
        quorum_tolerance: largest score difference (points, 0-100) between votes that still agree.
        quorum_threshold: ``[numerator, denominator]`` of the voting-power share that must agree.
        envelope_suite: default envelope suite, ``x25519`` or ``mlkem768-x25519``.
        keystore_kdf: scrypt parameters for new keystore entries.
    """

    address_prefix: str = "virtengine"
    attestation_validity_days: int = 365
    quorum_tolerance: int = 0
    quorum_threshold: tuple[int, int] = (2, 3)
    envelope_suite: str = "x25519"
    keystore_kdf: KdfConfig = field(default_factory=KdfConfig)

    def __post_init__(self) -> None:
        if not 0 <= self.quorum_tolerance <= 100:
            raise ValueError(f"quorum_tolerance must be in 0..100, got {self.quorum_tolerance}")
        num, den = self.quorum_threshold
        if den <= 0 or not 0 < num <= den:
            raise ValueError(f"quorum_threshold must be a fraction in (0, 1], got {num}/{den}")
        if self.attestation_validity_days < 1:
            raise ValueError("attestation_validity_days must be at least 1")
        if self.envelope_suite not in ("x25519", "mlkem768-x25519"):
            raise ValueError(f"envelope_suite must be x25519 or mlkem768-x25519, got {self.envelope_suite!r}")

    @property
    def threshold(self) -> Fraction:
        """The quorum threshold as an exact fraction."""
        return Fraction(*self.quorum_threshold)
