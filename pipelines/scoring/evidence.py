"""Typed evidence of every scope a person proved: the scorer's input, parsed strictly from JSON.

The JSON form is the ``scopes`` object of ``scopes.jsonl`` (see ``training/synth_scopes.py``)
and of ``veid score FEATURES.json``: one key per scope, ``null`` (or absent) when the scope
was not attempted. Unknown keys and wrong types are rejected with an :class:`InputError`
naming the key.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass, field, replace
from typing import Any

from pipelines.scopes.metadata import MetadataEvidence
from veid.config import to_mapping
from veid.errors import InputError


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


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """``(field name, type, required)`` of a dataclass, resolved once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
                 for f in dataclasses.fields(cls))


def _convert(tp: Any, value: Any, where: str) -> Any:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            raise InputError(f"scopes: key '{where}': must not be null")
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, where)
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp, value, where)
    if typing.get_origin(tp) is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise InputError(f"scopes: key '{where}': expected a mapping with string keys")
        return {k: _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise InputError(f"scopes: key '{where}': must be finite")
        return float(value)
    if (tp is int and isinstance(value, int) and not isinstance(value, bool)) or (
            tp in (bool, str) and isinstance(value, tp)):
        return value
    raise InputError(f"scopes: key '{where}': expected {getattr(tp, '__name__', tp)}, got {type(value).__name__}")


def _dataclass(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise InputError(f"scopes: key '{where}': expected an object, got {type(raw).__name__}")
    fields = _hints(cls)
    unknown = sorted(set(raw) - {name for name, _, _ in fields})
    if unknown:
        raise InputError(f"scopes: key '{where}.{unknown[0]}': unknown key")
    kwargs = {}
    for name, tp, required in fields:
        if name in raw:
            kwargs[name] = _convert(tp, raw[name], f"{where}.{name}")
        elif required:
            raise InputError(f"scopes: key '{where}.{name}': missing required key")
    return cls(**kwargs)


def parse_evidence(raw: Any) -> Evidence:
    """Parse the ``scopes`` JSON object, or a whole ``scopes.jsonl`` record holding one.

    Raises:
        InputError: not a mapping, an unknown scope or key, a missing required key, or a value
            of the wrong type (the message names the key path).
    """
    if isinstance(raw, dict) and "scopes" in raw and isinstance(raw["scopes"], dict):
        raw = raw["scopes"]
    if not isinstance(raw, dict):
        raise InputError(f"scopes must be a JSON object, got {type(raw).__name__}")
    ev = _dataclass(Evidence, raw, "scopes")
    for name in ("document_country", "ip_country", "gps_country"):
        value = getattr(ev.metadata, name, None) if ev.metadata else None
        if value is not None and not (len(value) == 2 and value.isalpha()):
            raise InputError(f"scopes.metadata.{name} must be an ISO 3166-1 alpha-2 code")
    return ev
