"""Tests for the synthetic web-scope histories: determinism, schema, class balance and overlap."""

from __future__ import annotations

import json

import pytest

from training.synth_scopes import SCOPE_SCHEMA_VERSION, scope_histories

SCOPES = {"email", "sms", "sso", "domain", "document", "selfie", "liveness", "biometric", "provenance", "metadata"}


def _users(n: int) -> tuple[list[str], list[str]]:
    ids = [f"id-{i:05d}" for i in range(n)]
    return ids, ["train" if i % 5 else "test" for i in range(n)]


def test_deterministic_and_order_independent() -> None:
    ids, splits = _users(200)
    a = scope_histories(ids, splits, seed=3)
    b = scope_histories(ids[::-1], splits[::-1], seed=3)[::-1]
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    c = scope_histories(ids, splits, seed=4)
    assert json.dumps(a, sort_keys=True) != json.dumps(c, sort_keys=True)


def test_schema_and_json_ready() -> None:
    ids, splits = _users(300)
    recs = scope_histories(ids, splits, seed=1)
    for rec, ident, split in zip(recs, ids, splits):
        assert rec["schema"] == SCOPE_SCHEMA_VERSION
        assert rec["identity"] == ident and rec["split"] == split and rec["label"] in (0, 1)
        assert set(rec["scopes"]) == SCOPES
        assert rec["scopes"]["metadata"] is not None
    json.loads(json.dumps(recs))  # round-trips through JSON


def test_classes_overlap() -> None:
    ids, splits = _users(3000)
    recs = scope_histories(ids, splits, seed=11)
    labels = [r["label"] for r in recs]
    assert 0.2 < 1 - sum(labels) / len(labels) < 0.4
    # Some fraudsters verify their email and pass the document checks; some genuine users miss scopes.
    fraud_verified = [r for r in recs if r["label"] == 0 and (r["scopes"]["email"] or {}).get("verified")]
    assert len(fraud_verified) > 100
    genuine_no_doc = [r for r in recs if r["label"] == 1 and r["scopes"]["document"] is None]
    assert len(genuine_no_doc) > 50
    genuine_foreign_ip = [r for r in recs if r["label"] == 1
                          and r["scopes"]["metadata"]["ip_country"] != r["scopes"]["metadata"]["document_country"]]
    assert len(genuine_foreign_ip) > 50


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        scope_histories(["a", "b"], ["train"], seed=0)
    with pytest.raises(ValueError):
        scope_histories(["a", "a"], ["train", "train"], seed=0)
    with pytest.raises(ValueError):
        scope_histories(["a"], ["train"], seed=0, fraud_rate=1.5)
