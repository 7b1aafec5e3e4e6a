"""The versioned feature vector built from all scopes, with explicit missing-scope indicators and monotone directions.

Every feature lies in ``[0, 1]`` and has a direction (``+1``: more of it can only raise the
score, ``-1``: can only lower it). The ensemble is trained under these constraints, which is
what makes "adding a verified scope never lowers the score" a property of the model rather
than a hope. To keep that true when a scope is added, a missing scope sets its
``<scope>_missing`` indicator (direction ``-1``) to 1 and fills each detail feature with the
worst value that a *verified* form of the scope can have (:func:`scope_is_verified`): the
worst end of the feature's range (0 for ``+1``, 1 for ``-1``) unless verification bounds it,
e.g. a verified document has ``tamper < 0.5`` so a missing one fills ``document_tamper = 0.5``.
Filling with the worst of *all* forms would tie "not attempted" to "forged", which the
monotone trees can then only score as low as a forgery.

Cross-checks that may be absent for a document family (MRZ on a licence, barcode on a
passport) are ordinal: pass 1, absent 0.5, fail 0. Country agreements are ordinal the same
way: equal 1, one side unknown 0.5, different 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipelines.scoring.evidence import Evidence

#: Bumped whenever a feature is added, removed, reordered or changes meaning.
FEATURE_SCHEMA_VERSION = 1

_AGE_CAP_DAYS = 36500.0
_COUNT_CAP = 100.0


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its name, the scope it belongs to and its monotone direction (+1 or -1)."""

    name: str
    scope: str
    direction: int


def _specs() -> tuple[FeatureSpec, ...]:
    s: list[FeatureSpec] = []

    def add(scope: str, *items: tuple[str, int]) -> None:
        s.extend(FeatureSpec(f"{scope}_{n}", scope, d) for n, d in items)

    add("email", ("missing", -1), ("verified", 1), ("failed", -1), ("failed_attempts", -1), ("locked", -1),
        ("disposable", -1), ("age", 1))
    add("sms", ("missing", -1), ("verified", 1), ("failed", -1), ("failed_attempts", -1), ("locked", -1),
        ("voip", -1), ("country_match", 1), ("age", 1))
    add("sso", ("missing", -1), ("verified", 1), ("failed", -1), ("email_verified", 1), ("email_matches", 1),
        ("account_age", 1), ("mfa", 1))
    add("domain", ("missing", -1), ("verified", 1), ("failed", -1), ("age", 1))
    add("document", ("missing", -1), ("conf_mean", 1), ("conf_min", 1), ("mrz_check", 1), ("mrz_agreement", 1),
        ("barcode_agreement", 1), ("expired", -1), ("tamper", -1), ("portrait_found", 1))
    add("selfie", ("missing", -1), ("similarity", 1), ("match", 1), ("quality", 1))
    add("liveness", ("missing", -1), ("score", 1), ("passed", 1), ("video", 1))
    add("biometric", ("missing", -1), ("verified", 1), ("failed", -1))
    add("provenance", ("missing", -1), ("signed", 1), ("screen_replay", -1), ("print_attack", -1))
    add("metadata", ("missing", -1), ("ip_doc_match", 1), ("gps_doc_match", 1), ("gps_ip_match", 1),
        ("vpn", -1), ("emulator", -1), ("device_reuse", -1), ("ip_signups", -1), ("velocity", -1))
    return tuple(s)


FEATURES: tuple[FeatureSpec, ...] = _specs()
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
DIRECTIONS: np.ndarray = np.asarray([f.direction for f in FEATURES], dtype=np.int8)
_INDEX = {n: i for i, n in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True)
class FeatureVector:
    """A person's features in :data:`FEATURE_NAMES` order (all in ``[0, 1]``)."""

    values: tuple[float, ...]
    schema_version: int = FEATURE_SCHEMA_VERSION

    def __post_init__(self) -> None:
        if len(self.values) != len(FEATURES):
            raise ValueError(f"expected {len(FEATURES)} features, got {len(self.values)}")

    def to_array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        """Name -> value, for display and JSON output only."""
        return dict(zip(FEATURE_NAMES, self.values))


def _age(days: float | None) -> float:
    if days is None or days <= 0 or math.isnan(days):
        return 0.0
    return math.log1p(min(days, _AGE_CAP_DAYS)) / math.log1p(_AGE_CAP_DAYS)


def _count(n: int, cap: float = _COUNT_CAP) -> float:
    """Extra occurrences beyond the first, log-scaled into ``[0, 1]``."""
    return math.log1p(min(max(n - 1, 0), cap)) / math.log1p(cap)


def _ordinal(flag: bool | None) -> float:
    return 0.5 if flag is None else (1.0 if flag else 0.0)


def _agree(a: str | None, b: str | None) -> float:
    return 0.5 if a is None or b is None else (1.0 if a.upper() == b.upper() else 0.0)


def _c01(x: float) -> float:
    return 0.0 if math.isnan(x) else min(1.0, max(0.0, float(x)))


def _fill(f: FeatureSpec) -> float:
    if f.name.endswith("_missing"):
        return 1.0
    if f.name.endswith("_failed"):
        return 0.0  # not attempted is not a failure
    return 1.0 if f.direction < 0 else 0.0


#: Bounds that verification puts on details (see :func:`scope_is_verified`): the worst verified value.
_VERIFIED_BOUND = {
    "document_tamper": 0.5, "document_expired": 0.0, "document_mrz_check": 0.5, "document_barcode_agreement": 0.5,
    "provenance_signed": 1.0, "provenance_screen_replay": 0.5, "provenance_print_attack": 0.5,
    "selfie_match": 1.0, "liveness_passed": 1.0,
}

#: Values of every feature when its scope is missing: the worst value a verified form can have.
MISSING_FILL: dict[str, float] = {f.name: _VERIFIED_BOUND.get(f.name, _fill(f)) for f in FEATURES}


#: Scopes in feature order and the slice of the vector each one owns.
SCOPE_ORDER: tuple[str, ...] = tuple(dict.fromkeys(f.scope for f in FEATURES))
SCOPE_SLICES: dict[str, slice] = {
    s: slice(FEATURE_NAMES.index(f"{s}_missing"), max(i for i, f in enumerate(FEATURES) if f.scope == s) + 1)
    for s in SCOPE_ORDER
}
_MISSING_BLOCKS = {s: [MISSING_FILL[n] for n in FEATURE_NAMES[sl]] for s, sl in SCOPE_SLICES.items()}
# Unknown context: neutral rather than worst (metadata is observed, never "added").
_MISSING_BLOCKS["metadata"] = [1.0, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]


def scope_block(ev: Evidence, scope: str) -> list[float]:
    """The features of one scope, in :data:`FEATURE_NAMES` order within :data:`SCOPE_SLICES` ``[scope]``.

    ``sms`` also reads the document country from ``metadata``.
    """
    item = getattr(ev, scope)
    if item is None:
        return list(_MISSING_BLOCKS[scope])
    if scope == "email":
        return [0.0, float(item.verified), float(not item.verified), min(item.failed_attempts, 10) / 10.0,
                float(item.locked_out), float(item.disposable_domain), _age(item.mailbox_age_days)]
    if scope == "sms":
        doc_country = ev.metadata.document_country if ev.metadata else None
        return [0.0, float(item.verified), float(not item.verified), min(item.failed_attempts, 10) / 10.0,
                float(item.locked_out), float(item.voip_number), _agree(item.number_country, doc_country),
                _age(item.number_age_days)]
    if scope == "sso":
        ok, c = item.verified, item.claims  # claims of a token that failed verification are not evidence
        return [0.0, float(ok), float(not ok), float(ok and c.email_verified), float(ok and c.email_matches_account),
                _age(c.account_age_days) if ok else 0.0, float(ok and c.mfa)]
    if scope == "domain":
        return [0.0, float(item.verified), float(not item.verified), _age(item.domain_age_days) if item.verified else 0.0]
    if scope == "document":
        conf = [_c01(c) for c in item.field_confidence.values()] or [0.0]
        agreement = 0.5 if item.mrz_visual_agreement is None else _c01(item.mrz_visual_agreement)
        return [0.0, sum(conf) / len(conf), min(conf), _ordinal(item.mrz_check_digits_ok), agreement,
                _ordinal(item.barcode_agreement), float(item.expired), _c01(item.tamper_score),
                float(item.portrait_found)]
    if scope == "selfie":
        return [0.0, _c01(1.0 - item.distance), float(item.match), _c01(item.quality)]
    if scope == "liveness":
        return [0.0, _c01(item.score), float(item.passed), float(item.video)]
    if scope == "biometric":
        return [0.0, float(item.verified), float(not item.verified)]
    if scope == "provenance":
        return [0.0, float(item.capture_signed), _c01(item.screen_replay_score), _c01(item.print_attack_score)]
    md = item
    return [0.0, _agree(md.ip_country, md.document_country), _agree(md.gps_country, md.document_country),
            _agree(md.gps_country, md.ip_country), float(md.vpn_or_proxy), float(md.emulator),
            _count(md.device_accounts), _count(md.signups_same_ip_24h), _count(md.attempts_24h)]


def build_features(ev: Evidence) -> FeatureVector:
    """Turn typed evidence into the feature vector (pure, deterministic)."""
    values: list[float] = []
    for scope in SCOPE_ORDER:
        values += scope_block(ev, scope)
    return FeatureVector(tuple(values))


#: Reference design's fixed weights of verified scopes (points).
BASELINE_WEIGHTS = {"document": 30, "face_video": 25, "selfie": 20, "biometric": 20, "domain": 15,
                    "email": 10, "sms": 10, "sso": 5}


def verified_scopes(ev: Evidence) -> dict[str, bool]:
    """Whether each of the reference design's scopes counts as verified (pass/fail, no nuance)."""
    flags = {s: scope_is_verified(ev, s) for s in ("document", "selfie", "biometric", "domain", "email", "sms", "sso")}
    flags["face_video"] = scope_is_verified(ev, "liveness") and ev.liveness is not None and ev.liveness.video
    return flags


def scope_is_verified(ev: Evidence, scope: str) -> bool:
    """Whether ``scope`` is present and verified; adding such a scope never lowers the score.

    Email, SMS, SSO, domain and biometric: their ``verified`` flag. Document: no failed MRZ or
    barcode cross-check, not expired, ``tamper_score < 0.5``. Selfie: ``match``. Liveness:
    ``passed``. Provenance: signed, replay and print-attack scores below 0.5.
    """
    item = getattr(ev, scope)
    if item is None:
        return False
    if scope == "document":
        return (item.mrz_check_digits_ok is not False and item.barcode_agreement is not False
                and not item.expired and item.tamper_score < 0.5)
    if scope == "selfie":
        return item.match
    if scope == "liveness":
        return item.passed
    if scope == "provenance":
        return item.capture_signed and item.screen_replay_score < 0.5 and item.print_attack_score < 0.5
    if scope == "metadata":
        return False
    return bool(item.verified)


def baseline_score(ev: Evidence) -> float:
    """The reference design's score in ``[0, 1]``: weighted average of verified scopes."""
    flags = verified_scopes(ev)
    return sum(w for k, w in BASELINE_WEIGHTS.items() if flags[k]) / sum(BASELINE_WEIGHTS.values())
