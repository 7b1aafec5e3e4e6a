"""Typed evidence of every scope a person proved: the scorer's input, parsed strictly from JSON.

The JSON form is the ``scopes`` object of ``scopes.jsonl`` (see ``training/synth_scopes.py``)
and of ``veid score FEATURES.json``: one key per scope, ``null`` (or absent) when the scope
was not attempted. Unknown keys and wrong types are rejected with an :class:`InputError`
naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pipelines.scopes.metadata import MetadataEvidence
from veid.config import from_mapping, to_mapping
from veid.errors import ConfigError, InputError


@dataclass(frozen=True)
class EmailEvidence:
    """Email one-time-code scope (``pipelines.scopes.otp``); ages in days, times in seconds."""

    verified: bool
    codes_sent: int = 1
    failed_attempts: int = 0
    locked_out: bool = False
    disposable_domain: bool = False
    mailbox_age_days: float | None = None
    seconds_to_verify: float | None = None


@dataclass(frozen=True)
class SmsEvidence:
    """SMS one-time-code scope; ``number_country`` is ISO 3166-1 alpha-2."""

    verified: bool
    codes_sent: int = 1
    failed_attempts: int = 0
    locked_out: bool = False
    voip_number: bool = False
    number_country: str | None = None
    number_age_days: float | None = None


@dataclass(frozen=True)
class SsoClaims:
    """Summary of the verified ID token's claims (no personal data)."""

    email_verified: bool = False
    email_matches_account: bool = False
    account_age_days: float | None = None
    mfa: bool = False


@dataclass(frozen=True)
class SsoEvidence:
    """OpenID Connect sign-on scope (``pipelines.scopes.oidc``)."""

    verified: bool
    provider: str = "generic"
    failure: str | None = None
    claims: SsoClaims = field(default_factory=SsoClaims)


@dataclass(frozen=True)
class DomainEvidence:
    """Domain ownership scope (``pipelines.scopes.domain``)."""

    verified: bool
    method: str = "dns_txt"
    domain_age_days: float | None = None
    failure: str | None = None


@dataclass(frozen=True)
class DocumentEvidence:
    """Identity document read-out and cross-checks; confidences and scores in ``[0, 1]``.

    ``mrz_check_digits_ok``/``mrz_visual_agreement`` are ``None`` without an MRZ and
    ``barcode_agreement`` is ``None`` without a barcode.
    """

    family: str = "id_card_td1"
    field_confidence: dict[str, float] = field(default_factory=dict)
    mrz_present: bool = False
    mrz_check_digits_ok: bool | None = None
    mrz_visual_agreement: float | None = None
    barcode_agreement: bool | None = None
    expired: bool = False
    tamper_score: float = 0.0
    portrait_found: bool = True


@dataclass(frozen=True)
class SelfieEvidence:
    """Portrait vs selfie comparison: embedding distance (dlib scale, match below 0.6), quality in ``[0, 1]``."""

    distance: float
    match: bool
    quality: float = 1.0


@dataclass(frozen=True)
class LivenessEvidence:
    """Liveness: ``score`` in ``[0, 1]``; ``video`` when it came from a face video, not one photo."""

    score: float
    passed: bool
    video: bool = False


@dataclass(frozen=True)
class BiometricEvidence:
    """Device biometric (platform authenticator user verification)."""

    verified: bool
    method: str = "webauthn_platform"


@dataclass(frozen=True)
class ProvenanceEvidence:
    """Capture provenance: signed by an approved client; attack scores in ``[0, 1]`` (1 = attack)."""

    capture_signed: bool
    screen_replay_score: float = 0.0
    print_attack_score: float = 0.0


@dataclass(frozen=True)
class Evidence:
    """Every scope of one person; ``None`` means the scope was not attempted."""

    email: EmailEvidence | None = None
    sms: SmsEvidence | None = None
    sso: SsoEvidence | None = None
    domain: DomainEvidence | None = None
    document: DocumentEvidence | None = None
    selfie: SelfieEvidence | None = None
    liveness: LivenessEvidence | None = None
    biometric: BiometricEvidence | None = None
    provenance: ProvenanceEvidence | None = None
    metadata: MetadataEvidence | None = None

    def without(self, scope: str) -> "Evidence":
        """A copy with ``scope`` removed (not attempted)."""
        return replace(self, **{scope: None})

    def to_json(self) -> dict[str, Any]:
        """The JSON form (inverse of :func:`parse_evidence`)."""
        return to_mapping(self)


#: Scope names in feature order.
SCOPES: tuple[str, ...] = ("email", "sms", "sso", "domain", "document", "selfie", "liveness",
                           "biometric", "provenance", "metadata")
#: Scopes that a person adds by proving something (metadata is observed, not added).
VERIFIABLE_SCOPES: tuple[str, ...] = SCOPES[:-1]


def parse_evidence(raw: Any) -> Evidence:
    """Parse the ``scopes`` JSON object, or a whole ``scopes.jsonl`` record holding one.

    Raises:
        InputError: not a mapping, an unknown scope or key, or a value of the wrong type.
    """
    if isinstance(raw, dict) and "scopes" in raw and isinstance(raw["scopes"], dict):
        raw = raw["scopes"]
    if not isinstance(raw, dict):
        raise InputError(f"scopes must be a JSON object, got {type(raw).__name__}")
    try:
        ev = from_mapping(Evidence, raw, source="scopes", where="scopes")
    except ConfigError as exc:
        raise InputError(str(exc)) from exc
    for name in ("document_country", "ip_country", "gps_country"):
        value = getattr(ev.metadata, name, None) if ev.metadata else None
        if value is not None and not (len(value) == 2 and value.isalpha()):
            raise InputError(f"scopes.metadata.{name} must be an ISO 3166-1 alpha-2 code")
    return ev
