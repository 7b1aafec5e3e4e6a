"""Tests for the scope evidence parser, the versioned feature vector and the reference baseline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pipelines.scoring.evidence import VERIFIABLE_SCOPES, Evidence, EmailEvidence, parse_evidence
from pipelines.scoring.features import (
    DIRECTIONS, FEATURE_NAMES, FEATURE_SCHEMA_VERSION, FEATURES, MISSING_FILL, baseline_score, build_features,
    scope_is_verified,
)
from training.synth_scopes import scope_histories
from veid.errors import InputError


@pytest.fixture(scope="module")
def records():
    ids = [f"feat-{i:04d}" for i in range(400)]
    return scope_histories(ids, ["test"] * len(ids), seed=5)


def test_schema() -> None:
    assert FEATURE_SCHEMA_VERSION == 1
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) == len(DIRECTIONS)
    assert set(np.unique(DIRECTIONS)) <= {-1, 1}
    # Every verifiable scope has an explicit missing indicator.
    for scope in ("email", "sms", "sso", "domain", "document", "selfie", "liveness", "biometric", "provenance"):
        assert f"{scope}_missing" in FEATURE_NAMES


def test_vectors_in_unit_range_and_roundtrip(records) -> None:
    for rec in records:
        ev = parse_evidence(rec)
        assert parse_evidence(ev.to_json()) == ev
        x = build_features(ev).to_array()
        assert x.shape == (len(FEATURES),) and np.all((x >= 0) & (x <= 1))


def test_missing_scope_is_explicit_and_worst_filled() -> None:
    v = build_features(Evidence()).as_dict()
    assert v["email_missing"] == 1.0 and v["email_verified"] == 0.0 and v["email_failed"] == 0.0
    assert v["email_disposable"] == 1.0 and v["email_age"] == 0.0  # worst ends of their directions
    assert {k: v[k] for k in MISSING_FILL if not k.startswith("metadata")} == \
        {k: x for k, x in MISSING_FILL.items() if not k.startswith("metadata")}
    w = build_features(Evidence(email=EmailEvidence(verified=False, failed_attempts=2))).as_dict()
    assert w["email_missing"] == 0.0 and w["email_failed"] == 1.0 and w["email_failed_attempts"] == 0.2


def test_adding_verified_scope_moves_features_in_their_direction(records) -> None:
    # The property the monotone ensemble relies on: missing -> verified never moves a feature against its direction.
    evs = [parse_evidence(r) for r in records]
    checked = 0
    for scope in VERIFIABLE_SCOPES:
        donors = [getattr(e, scope) for e in evs if scope_is_verified(e, scope)][:20]
        assert donors, scope
        for ev in evs[:30]:
            before = build_features(ev.without(scope)).to_array()
            for d in donors:
                after = build_features(replace(ev, **{scope: d})).to_array()
                assert np.all((after - before) * DIRECTIONS >= 0), (scope, d)
                checked += 1
    assert checked > 1000


def test_missing_is_not_tied_to_forgery() -> None:
    # A missing document fills tamper at the verified bound (0.5), not at a forgery's 1.0.
    assert MISSING_FILL["document_tamper"] == 0.5 and MISSING_FILL["document_expired"] == 0.0
    assert MISSING_FILL["document_conf_mean"] == 0.0


def test_parse_errors() -> None:
    with pytest.raises(InputError, match="scopes.email"):
        parse_evidence({"email": {"verified": True, "colour": "blue"}})
    with pytest.raises(InputError):
        parse_evidence({"email": {"verified": "yes"}})
    with pytest.raises(InputError):
        parse_evidence({"telepathy": None})
    with pytest.raises(InputError, match="alpha-2"):
        parse_evidence({"metadata": {"document_country": "GBR", "ip_country": "GB", "gps_country": None,
                                     "vpn_or_proxy": False, "emulator": False, "device_accounts": 1,
                                     "signups_same_ip_24h": 1, "attempts_24h": 1}})
    with pytest.raises(InputError):
        parse_evidence([1, 2])


def test_baseline_weights(records) -> None:
    assert baseline_score(Evidence()) == 0.0
    assert baseline_score(Evidence(email=EmailEvidence(verified=True))) == pytest.approx(10 / 135)
    scores = [baseline_score(parse_evidence(r)) for r in records]
    assert 0.0 <= min(scores) and max(scores) <= 1.0 and len(set(scores)) > 10
