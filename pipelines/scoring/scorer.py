"""Score a person from 0 to 100 with the trained ensemble: integer score, tier, borderline band and reason codes.

Reasons are ablations computed in the same batch as the score: a present scope's
``points`` are the score minus the score with that scope removed (and ``log_odds`` the same
difference in calibrated log-odds, which still shows direction where the score saturates at
0 or 100); for metadata, the difference to consistent, unremarkable metadata. They explain direction and size but
do not add up to the score (the model is not additive). For a borderline score the scorer
also names the missing scope whose typical verified form would raise the score most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.scorer import ScorerEnsemble
from pipelines.scopes.metadata import MetadataEvidence
from pipelines.scoring.evidence import (
    VERIFIABLE_SCOPES, BiometricEvidence, DocumentEvidence, DomainEvidence, EmailEvidence, Evidence,
    LivenessEvidence, ProvenanceEvidence, SelfieEvidence, SmsEvidence, SsoClaims, SsoEvidence,
)
from pipelines.scoring.features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION, SCOPE_SLICES, build_features, scope_block
from veid.errors import ModelError
from veid.types import ModelVersion

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class ScoringConfig:
    """Runtime scoring policy (``params.yaml`` ``scorer.scoring``).

    Attributes:
        tiers: tier name -> minimum integer score (e.g. basic 50, standard 70, premium 85).
        borderline_band: a score this many points or fewer below a tier's minimum is borderline
            and asks for one more factor.
        model_dir: folder of the trained ensemble, relative to the repository root unless absolute.
    """

    tiers: dict[str, int] = field(default_factory=lambda: {"basic": 50, "standard": 70, "premium": 85})
    borderline_band: int = 3
    model_dir: str = "models/weights/scorer"

    def __post_init__(self) -> None:
        if any(not 0 <= v <= 100 for v in self.tiers.values()) or len(set(self.tiers.values())) != len(self.tiers):
            raise ValueError("tier minimums must be distinct integers in 0..100")
        if not 0 <= self.borderline_band <= 20:
            raise ValueError("borderline_band must lie in 0..20")


@dataclass(frozen=True)
class Reason:
    """Why one scope moved the score: signed points, the same in log-odds (informative near 0 and 100), codes."""

    scope: str
    points: int
    codes: tuple[str, ...]
    log_odds: float = 0.0


@dataclass(frozen=True)
class ScoreResult:
    """A person's score and its explanation.

    Attributes:
        score: integer 0..100 (calibrated probability of a genuine person, in percent, rounded half up).
        probability: the calibrated probability, quantised to 1e-9.
        tier: highest tier whose minimum the score reaches, or ``None``.
        borderline: the score is within ``borderline_band`` below the next tier.
        next_tier: the tier just above the score, or ``None`` at the top.
        suggested_scope: the missing scope that would raise the score most (when borderline).
        suggested_gain: points that scope would typically add.
        reasons: per-scope contributions, largest magnitude first.
        missing: scopes not attempted.
        model_version: the ensemble's name and content hash.
        feature_schema_version: version of the feature vector.
    """

    score: int
    probability: float
    tier: str | None
    borderline: bool
    next_tier: str | None
    suggested_scope: str | None
    suggested_gain: int
    reasons: tuple[Reason, ...]
    missing: tuple[str, ...]
    model_version: ModelVersion
    feature_schema_version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score, "probability": self.probability, "tier": self.tier, "borderline": self.borderline,
            "next_tier": self.next_tier, "suggested_scope": self.suggested_scope,
            "suggested_gain": self.suggested_gain,
            "reasons": [{"scope": r.scope, "points": r.points, "log_odds": r.log_odds, "codes": list(r.codes)}
                        for r in self.reasons],
            "missing": list(self.missing),
            "model": {"name": self.model_version.name, "sha256": self.model_version.sha256},
            "feature_schema_version": self.feature_schema_version,
        }


def to_score(probability: float) -> int:
    """Integer score 0..100 from a probability: ``floor(100 p + 0.5)``, clipped."""
    return int(min(100, max(0, math.floor(probability * 100.0 + 0.5))))


def _typical(scope: str, doc_country: str | None) -> Any:
    """A typical verified form of ``scope`` (what a genuine person usually proves)."""
    return {
        "email": EmailEvidence(True, mailbox_age_days=365.0),
        "sms": SmsEvidence(True, number_country=doc_country, number_age_days=365.0),
        "sso": SsoEvidence(True, "google", claims=SsoClaims(True, True, 365.0, False)),
        "domain": DomainEvidence(True, domain_age_days=365.0),
        "document": DocumentEvidence("id_card_td1", {"id_number": 0.95, "first_name": 0.95, "last_name": 0.95,
                                                     "date_of_birth": 0.95}, True, True, 0.97, None, False, 0.05),
        "selfie": SelfieEvidence(0.35, True, 0.9),
        "liveness": LivenessEvidence(0.9, True, True),
        "biometric": BiometricEvidence(True),
        "provenance": ProvenanceEvidence(True, 0.05, 0.05),
    }[scope]


def _codes(scope: str, ev: Evidence) -> tuple[str, ...]:
    s = scope.upper()
    item = getattr(ev, scope)
    if scope in ("email", "sms", "sso", "domain", "biometric"):
        codes = [f"{s}_VERIFIED" if item.verified else f"{s}_NOT_VERIFIED"]
        if scope == "email" and item.disposable_domain:
            codes.append("EMAIL_DISPOSABLE_DOMAIN")
        if scope == "sms" and item.voip_number:
            codes.append("SMS_VOIP_NUMBER")
        if scope in ("email", "sms") and item.locked_out:
            codes.append(f"{s}_LOCKED_OUT")
        return tuple(codes)
    if scope == "document":
        bad = [c for c, hit in (("DOCUMENT_MRZ_CHECK_FAILED", item.mrz_check_digits_ok is False),
                                ("DOCUMENT_BARCODE_MISMATCH", item.barcode_agreement is False),
                                ("DOCUMENT_EXPIRED", item.expired),
                                ("DOCUMENT_TAMPER_SUSPECTED", item.tamper_score >= 0.5),
                                ("DOCUMENT_NO_PORTRAIT", not item.portrait_found)) if hit]
        return tuple(bad) or ("DOCUMENT_CONSISTENT",)
    if scope == "selfie":
        return ("SELFIE_MATCH",) if item.match else ("SELFIE_MISMATCH",)
    if scope == "liveness":
        return (("LIVENESS_PASSED",) if item.passed else ("LIVENESS_FAILED",)) + (("LIVENESS_VIDEO",) if item.video else ())
    if scope == "provenance":
        bad = [c for c, hit in (("CAPTURE_UNSIGNED", not item.capture_signed),
                                ("SCREEN_REPLAY_SUSPECTED", item.screen_replay_score >= 0.5),
                                ("PRINT_ATTACK_SUSPECTED", item.print_attack_score >= 0.5)) if hit]
        return tuple(bad) or ("CAPTURE_GENUINE",)
    md = item
    bad = [c for c, hit in (
        ("IP_DOCUMENT_COUNTRY_MISMATCH", md.ip_country and md.document_country and md.ip_country != md.document_country),
        ("GPS_DOCUMENT_COUNTRY_MISMATCH",
         md.gps_country and md.document_country and md.gps_country != md.document_country),
        ("VPN_OR_PROXY", md.vpn_or_proxy), ("EMULATOR", md.emulator), ("DEVICE_SHARED", md.device_accounts > 1),
        ("IP_SIGNUP_BURST", md.signups_same_ip_24h > 3), ("HIGH_VELOCITY", md.attempts_24h > 5)) if hit]
    return tuple(bad) or ("METADATA_CONSISTENT",)


class IdentityScorer:
    """Evidence -> :class:`ScoreResult` with a loaded :class:`ScorerEnsemble`."""

    def __init__(self, cfg: ScoringConfig, model: ScorerEnsemble) -> None:
        if tuple(model.feature_names) != FEATURE_NAMES or model.feature_schema_version != FEATURE_SCHEMA_VERSION:
            raise ModelError(f"scorer model features (schema {model.feature_schema_version}) do not match "
                             f"this code's feature schema {FEATURE_SCHEMA_VERSION}")
        self.cfg = cfg
        self.model = model
        self._tiers = sorted(cfg.tiers.items(), key=lambda kv: kv[1])

    @classmethod
    def from_config(cls, cfg: ScoringConfig, root: Path | None = None) -> "IdentityScorer":
        """Load the model named by ``cfg.model_dir`` (relative to ``root``, default the repository)."""
        path = Path(cfg.model_dir)
        if not path.is_absolute():
            path = (root or REPO_ROOT) / path
        return cls(cfg, ScorerEnsemble.load(path))

    def probabilities(self, evidence: list[Evidence]) -> np.ndarray:
        """Calibrated probabilities for many people at once, shape ``(n,)``."""
        x = np.stack([build_features(e).to_array() for e in evidence]) if evidence else np.zeros((0, len(FEATURE_NAMES)))
        return self.model.predict_proba(x)

    def _tier(self, score: int) -> tuple[str | None, str | None, int | None]:
        tier, nxt, nxt_min = None, None, None
        for name, minimum in self._tiers:
            if score >= minimum:
                tier = name
            elif nxt is None:
                nxt, nxt_min = name, minimum
        return tier, nxt, nxt_min

    def __call__(self, ev: Evidence) -> ScoreResult:
        """Score one person, with reasons and (if borderline) the most useful missing scope."""
        present = [s for s in VERIFIABLE_SCOPES if getattr(ev, s) is not None]
        missing = [s for s in VERIFIABLE_SCOPES if getattr(ev, s) is None]
        doc_country = ev.metadata.document_country if ev.metadata else None
        base_row = build_features(ev).to_array()

        def row(variant: Evidence, changed: str) -> np.ndarray:
            out = base_row.copy()
            for scope in (changed, "sms") if changed == "metadata" else (changed,):  # sms reads the doc country
                out[SCOPE_SLICES[scope]] = scope_block(variant, scope)
            return out

        rows = [base_row] + [row(ev.without(s), s) for s in present]
        if ev.metadata is not None:
            c = doc_country or ev.metadata.ip_country
            rows.append(row(replace(ev, metadata=MetadataEvidence(c, c, c, False, False, 1, 1, 1)), "metadata"))
        rows += [row(replace(ev, **{s: _typical(s, doc_country)}), s) for s in missing]
        logits = self.model.meta_logit(self.model.base_logits(np.stack(rows)))
        probs = self.model.calibrate(logits)
        scores = [to_score(p) for p in probs]

        def reason(scope: str, i: int) -> Reason:
            return Reason(scope, score - scores[i], _codes(scope, ev), round(float(logits[0] - logits[i]), 3))

        score = scores[0]
        reasons = [reason(s, 1 + i) for i, s in enumerate(present)]
        k = 1 + len(present)
        if ev.metadata is not None:
            reasons.append(reason("metadata", k))
            k += 1
        gains = {s: scores[k + i] - score for i, s in enumerate(missing)}
        tier, nxt, nxt_min = self._tier(score)
        borderline = nxt_min is not None and nxt_min - self.cfg.borderline_band <= score < nxt_min
        best = max(gains, key=lambda s: (gains[s], -missing.index(s))) if gains else None
        suggest = best if borderline and best is not None and gains[best] > 0 else None
        reasons.sort(key=lambda r: (-abs(r.points), -abs(r.log_odds), r.scope))
        return ScoreResult(score, float(probs[0]), tier, borderline, nxt, suggest, gains[suggest] if suggest else 0,
                           tuple(reasons), tuple(missing), self.model.version, FEATURE_SCHEMA_VERSION)
