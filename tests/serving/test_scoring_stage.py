"""Score quantisation, tiers, the baseline scorer and scorer loading."""

from __future__ import annotations

import pytest

from pipelines.scoring.evidence import EmailEvidence, Evidence, SelfieEvidence
from pipelines.scoring.features import build_features
from pipelines.scoring.scorer import ScoringConfig
from serving.scoring_stage import BASELINE_MODEL, BaselineScorer, TierPolicy, load_scorer, quantize_score, reason_codes
from veid.errors import ModelError


def test_quantize_and_tiers():
    assert [quantize_score(p) for p in (0.0, 0.004999, 0.005, 0.5, 0.9949999, 0.9949999999999, 1.0, 1.5, -1)] == [0, 0, 1, 50, 99, 100, 100, 100, 0]
    t = TierPolicy.from_scoring(ScoringConfig())
    assert [t.tier(s) for s in (0, 49, 50, 69, 70, 84, 85, 100)] == [
        "unverified", "unverified", "basic", "basic", "standard", "standard", "premium", "premium"]


def test_baseline_scorer_is_labelled_and_monotone():
    s = BaselineScorer()
    assert s.version.name == BASELINE_MODEL and len(s.version.sha256) == 64
    ev = Evidence(email=EmailEvidence(True))
    more = Evidence(email=EmailEvidence(True), selfie=SelfieEvidence(0.3, True))
    a, b = s(build_features(ev), ev), s(build_features(more), more)
    assert 0 < a.score < b.score <= 100
    assert "baseline_weights" in a.reasons and "email:verified" in a.reasons and "selfie:verified" in b.reasons


def test_load_scorer_without_model(tmp_path):
    cfg = ScoringConfig(model_dir=str(tmp_path / "none"))
    assert isinstance(load_scorer(cfg, True), BaselineScorer)
    with pytest.raises(ModelError, match="no trained scorer"):
        load_scorer(cfg, False)


def test_reason_codes_dedupe_and_limit():
    codes = reason_codes(("a:1", "a:1", "b:2"), ("face.match",) * 3 + tuple(f"x{i}" for i in range(40)), limit=5)
    assert codes == ("a:1", "b:2", "check.face.match", "check.x0", "check.x1")
