"""Features -> integer score 0-100, tier and reason codes: the trained ensemble, or the reference design's fixed weights."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from pipelines.scoring.evidence import Evidence
from pipelines.scoring.features import BASELINE_WEIGHTS, FeatureVector, baseline_score, verified_scopes
from veid.errors import ModelError
from veid.types import ModelVersion

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE_MODEL = "veid-baseline-weights"


@dataclass(frozen=True)
class TierPolicy:
    """Tier names and their lowest score (``scorer.scoring.tiers``); below every tier: ``below``."""

    minimums: tuple[tuple[str, int], ...] = (("basic", 50), ("standard", 70), ("premium", 85))
    below: str = "unverified"

    @classmethod
    def from_scoring(cls, cfg) -> "TierPolicy":
        """From a ``pipelines.scoring.scorer.ScoringConfig``."""
        return cls(tuple(sorted(cfg.tiers.items(), key=lambda kv: kv[1])))

    def tier(self, score: int) -> str:
        """The highest tier whose minimum ``score`` reaches."""
        best = self.below
        for name, low in sorted(self.minimums, key=lambda t: t[1]):
            if score >= low:
                best = name
        return best


@dataclass(frozen=True)
class ScoreResult:
    """A scorer's verdict: probability of a genuine person (0-1), the integer score, the model and reason codes."""

    probability: float
    score: int
    model: ModelVersion
    reasons: tuple[str, ...] = ()


class Scorer(Protocol):
    """``scorer(features, evidence) -> ScoreResult`` (deterministic)."""

    version: ModelVersion

    def __call__(self, features: FeatureVector, evidence: Evidence) -> ScoreResult: ...


def quantize_score(probability: float) -> int:
    """The integer score 0-100 of a probability: round half up of ``100 p`` after rounding ``p`` to 1e-9."""
    p = round(float(np.clip(probability, 0.0, 1.0)) * 1e9) / 1e9
    return int(np.floor(p * 100.0 + 0.5))


class TrainedScorer:
    """The trained ensemble through ``pipelines.scoring.scorer.IdentityScorer`` (score, ablation reasons).

    Reason codes: ``<scope>:<points>`` per scope (signed points the scope adds), then each
    scope's codes (``DOCUMENT_CONSISTENT``, ``SELFIE_MATCH``...), then ``suggest:<scope>`` when borderline.

    Raises:
        ModelError: no model in ``cfg.model_dir`` or one trained on another feature schema.
    """

    def __init__(self, cfg) -> None:
        from pipelines.scoring.scorer import IdentityScorer

        self.scorer = IdentityScorer.from_config(cfg)
        self.version = self.scorer.model.version

    def __call__(self, features: FeatureVector, evidence: Evidence) -> ScoreResult:
        r = self.scorer(evidence)
        codes = [f"{x.scope}:{x.points}" for x in r.reasons]
        codes += [c for x in r.reasons for c in x.codes]
        if r.suggested_scope:
            codes.append(f"suggest:{r.suggested_scope}")
        return ScoreResult(r.probability, r.score, r.model_version, tuple(dict.fromkeys(codes)))


class BaselineScorer:
    """The reference design's score: weighted share of verified scopes (``features.baseline_score``).

    Not a trained model: it is what VEID scores with when no trained scorer is installed, and
    attestations record it as model ``veid-baseline-weights`` so nobody mistakes one for the other.
    """

    def __init__(self) -> None:
        digest = hashlib.sha256(json.dumps(BASELINE_WEIGHTS, sort_keys=True).encode()).hexdigest()
        self.version = ModelVersion(BASELINE_MODEL, digest)

    def __call__(self, features: FeatureVector, evidence: Evidence) -> ScoreResult:
        p = float(baseline_score(evidence))
        flags = verified_scopes(evidence)
        codes = tuple(f"{name}:{'verified' if ok else 'missing'}" for name, ok in sorted(flags.items()))
        return ScoreResult(p, quantize_score(p), self.version, ("baseline_weights",) + codes)


def load_scorer(scoring_cfg, baseline_when_missing: bool) -> Scorer:
    """The trained scorer in ``scoring_cfg.model_dir``; the baseline when it is absent and ``baseline_when_missing``.

    Raises:
        ModelError: no trained scorer and the baseline is not allowed, or a broken scorer folder.
    """
    path = Path(scoring_cfg.model_dir)
    path = path if path.is_absolute() else REPO_ROOT / path
    if not (path / "scorer.json").exists():
        if baseline_when_missing:
            return BaselineScorer()
        raise ModelError(f"no trained scorer in {path} (train it, or allow serving.baseline_when_no_scorer)")
    return TrainedScorer(scoring_cfg)


def reason_codes(scorer_reasons: tuple[str, ...], failed_checks: tuple[str, ...], limit: int = 24) -> tuple[str, ...]:
    """Short codes explaining a score: the scorer's reasons, then ``check.<name>`` per failed check."""
    codes = list(scorer_reasons) + [f"check.{name}"[:64] for name in failed_checks]
    return tuple(dict.fromkeys(codes))[:limit]
