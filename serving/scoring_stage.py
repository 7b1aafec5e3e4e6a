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
    """Tier names, highest first, and the lowest score (0-100) of each (the chain's ``tier_*`` settings)."""

    names: tuple[str, ...] = ("trusted", "verified", "basic", "unverified")
    min_scores: tuple[int, ...] = (85, 70, 50, 0)

    def tier(self, score: int) -> str:
        """The tier of ``score``."""
        for name, low in sorted(zip(self.names, self.min_scores), key=lambda t: -t[1]):
            if score >= low:
                return name
        return self.names[-1]


@dataclass(frozen=True)
class ScoreResult:
    """A scorer's verdict: probability of a genuine person (0-1), the integer score and the model used."""

    probability: float
    score: int
    model: ModelVersion


class Scorer(Protocol):
    """``scorer(features, evidence) -> ScoreResult`` (deterministic)."""

    version: ModelVersion

    def __call__(self, features: FeatureVector, evidence: Evidence) -> ScoreResult: ...


def quantize_score(probability: float) -> int:
    """The integer score 0-100 of a probability: round half up of ``100 p`` after rounding ``p`` to 1e-9."""
    p = round(float(np.clip(probability, 0.0, 1.0)) * 1e9) / 1e9
    return int(np.floor(p * 100.0 + 0.5))


class EnsembleScorer:
    """The trained monotone ensemble (``models.scorer.ScorerEnsemble``) loaded from a folder.

    Raises:
        ModelError: the folder holds no scorer, or its feature schema differs from the pipeline's.
    """

    def __init__(self, folder: str | Path) -> None:
        from models.scorer import ScorerEnsemble
        from pipelines.scoring.features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION

        folder = Path(folder)
        if not folder.is_absolute():
            folder = REPO_ROOT / folder
        self.model = ScorerEnsemble.load(folder)
        if self.model.feature_schema_version != FEATURE_SCHEMA_VERSION or tuple(self.model.feature_names) != FEATURE_NAMES:
            raise ModelError(f"scorer in {folder} was trained on another feature schema")
        self.version = self.model.version

    def __call__(self, features: FeatureVector, evidence: Evidence) -> ScoreResult:
        p = float(self.model.predict_proba(features.to_array()[None, :])[0])
        return ScoreResult(p, quantize_score(p), self.version)


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
        return ScoreResult(p, quantize_score(p), self.version)


def load_scorer(folder: str | Path, baseline_when_missing: bool) -> Scorer:
    """The trained scorer in ``folder``; the baseline when it is absent and ``baseline_when_missing``.

    Raises:
        ModelError: no trained scorer and the baseline is not allowed, or a broken scorer folder.
    """
    path = Path(folder) if Path(folder).is_absolute() else REPO_ROOT / folder
    if not (path / "scorer.json").exists():
        if baseline_when_missing:
            return BaselineScorer()
        raise ModelError(f"no trained scorer in {path} (train it, or allow serving.baseline_when_no_scorer)")
    return EnsembleScorer(path)


def reason_codes(evidence: Evidence, failed_checks: tuple[str, ...], limit: int = 12) -> tuple[str, ...]:
    """Short codes explaining a score: ``scope.<name>.verified|missing`` then ``check.<name>`` per failed check."""
    flags = verified_scopes(evidence)
    codes = [f"scope.{name}.{'verified' if ok else 'missing'}" for name, ok in sorted(flags.items())]
    codes += [f"check.{name}"[:64] for name in failed_checks]
    return tuple(codes[:limit])
