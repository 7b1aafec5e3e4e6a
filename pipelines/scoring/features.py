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


def build_features(ev: Evidence) -> FeatureVector:
    """Turn typed evidence into the feature vector (pure, deterministic)."""
    v = dict(MISSING_FILL)
    doc_country = ev.metadata.document_country if ev.metadata else None
    if (e := ev.email) is not None:
        v.update(email_missing=0.0, email_verified=float(e.verified), email_failed=float(not e.verified),
                 email_failed_attempts=min(e.failed_attempts, 10) / 10.0, email_locked=float(e.locked_out),
                 email_disposable=float(e.disposable_domain), email_age=_age(e.mailbox_age_days))
    if (m := ev.sms) is not None:
        v.update(sms_missing=0.0, sms_verified=float(m.verified), sms_failed=float(not m.verified),
                 sms_failed_attempts=min(m.failed_attempts, 10) / 10.0, sms_locked=float(m.locked_out),
                 sms_voip=float(m.voip_number), sms_country_match=_agree(m.number_country, doc_country),
                 sms_age=_age(m.number_age_days))
    if (o := ev.sso) is not None:
        trusted = o.verified  # claims of a token that failed verification are not evidence
        v.update(sso_missing=0.0, sso_verified=float(o.verified), sso_failed=float(not o.verified),
                 sso_email_verified=float(trusted and o.claims.email_verified),
                 sso_email_matches=float(trusted and o.claims.email_matches_account),
                 sso_account_age=_age(o.claims.account_age_days) if trusted else 0.0,
                 sso_mfa=float(trusted and o.claims.mfa))
    if (d := ev.domain) is not None:
        v.update(domain_missing=0.0, domain_verified=float(d.verified), domain_failed=float(not d.verified),
                 domain_age=_age(d.domain_age_days) if d.verified else 0.0)
    if (doc := ev.document) is not None:
        conf = [_c01(c) for c in doc.field_confidence.values()] or [0.0]
        v.update(document_missing=0.0, document_conf_mean=float(np.mean(conf)), document_conf_min=min(conf),
                 document_mrz_check=_ordinal(doc.mrz_check_digits_ok),
                 document_mrz_agreement=0.5 if doc.mrz_visual_agreement is None else _c01(doc.mrz_visual_agreement),
                 document_barcode_agreement=_ordinal(doc.barcode_agreement),
                 document_expired=float(doc.expired), document_tamper=_c01(doc.tamper_score),
                 document_portrait_found=float(doc.portrait_found))
    if (f := ev.selfie) is not None:
        v.update(selfie_missing=0.0, selfie_similarity=_c01(1.0 - f.distance), selfie_match=float(f.match),
                 selfie_quality=_c01(f.quality))
    if (lv := ev.liveness) is not None:
        v.update(liveness_missing=0.0, liveness_score=_c01(lv.score), liveness_passed=float(lv.passed),
                 liveness_video=float(lv.video))
    if (b := ev.biometric) is not None:
        v.update(biometric_missing=0.0, biometric_verified=float(b.verified), biometric_failed=float(not b.verified))
    if (p := ev.provenance) is not None:
        v.update(provenance_missing=0.0, provenance_signed=float(p.capture_signed),
                 provenance_screen_replay=_c01(p.screen_replay_score),
                 provenance_print_attack=_c01(p.print_attack_score))
    if (md := ev.metadata) is not None:
        v.update(metadata_missing=0.0, metadata_ip_doc_match=_agree(md.ip_country, md.document_country),
                 metadata_gps_doc_match=_agree(md.gps_country, md.document_country),
                 metadata_gps_ip_match=_agree(md.gps_country, md.ip_country),
                 metadata_vpn=float(md.vpn_or_proxy), metadata_emulator=float(md.emulator),
                 metadata_device_reuse=_count(md.device_accounts), metadata_ip_signups=_count(md.signups_same_ip_24h),
                 metadata_velocity=_count(md.attempts_24h))
    else:  # unknown context: neutral rather than worst (metadata is observed, never "added")
        v.update(metadata_ip_doc_match=0.5, metadata_gps_doc_match=0.5, metadata_gps_ip_match=0.5,
                 metadata_vpn=0.0, metadata_emulator=0.0, metadata_device_reuse=0.0, metadata_ip_signups=0.0,
                 metadata_velocity=0.0)
    return FeatureVector(tuple(float(v[n]) for n in FEATURE_NAMES))


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
