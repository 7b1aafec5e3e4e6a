"""Tests for the scorer ensemble: tree export, MLP twin, signed logistic fit, save/load round trip and versioning."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.scorer import (
    ARRAYS_FILE, JSON_FILE, ScorerEnsemble, TreeEnsemble, build_keras_mlp, flip, keras_weights, mlp_forward,
)
from training.scorer_fit import EnsembleConfig, fit_ensemble, fit_signed_logistic
from veid.errors import ModelError


def _toy(n: int = 1200, d: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    logit = 4 * x[:, 0] - 3 * x[:, 1] + 2 * x[:, 2] * x[:, 3] - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y, np.array([1, -1, 1, 1, -1, 1], np.int8)


def test_tree_export_matches_sklearn() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from threadpoolctl import threadpool_limits

    x, y, dirs = _toy()
    with threadpool_limits(limits=1):
        hgb = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=7, monotonic_cst=list(dirs),
                                             random_state=0).fit(x, y)
    trees = TreeEnsemble.from_sklearn(hgb)
    xt = np.random.default_rng(1).random((300, 6))
    np.testing.assert_allclose(trees.raw(xt), hgb.decision_function(xt), rtol=0, atol=1e-10)


def test_signed_logistic_respects_signs() -> None:
    x, y, dirs = _toy()
    coef, _ = fit_signed_logistic(x, y.astype(float), dirs, c=10.0)
    assert np.all(coef * dirs >= 0)
    assert coef[0] > 1 and coef[1] < -1  # the true effects are recovered in sign
    # Feature 4 has no true effect; unconstrained it may take either sign, constrained it must be <= 0.
    assert coef[4] <= 0


def test_keras_twin_matches_numpy_and_is_monotone() -> None:
    model = build_keras_mlp(6, (8, 4), seed=3)
    z = np.random.default_rng(2).random((50, 6)).astype(np.float32)
    weights = keras_weights(model)
    assert all((w >= 0).all() for w, _ in weights)
    np.testing.assert_allclose(mlp_forward(weights, z.astype(float)), model.predict(z, verbose=0)[:, 0], atol=1e-5)
    bumped = z.copy()
    bumped[:, 2] += 0.3
    assert np.all(mlp_forward(weights, bumped.astype(float)) >= mlp_forward(weights, z.astype(float)) - 1e-12)


@pytest.fixture(scope="module")
def tiny_model():
    x, y, dirs = _toy(1500)
    cfg = EnsembleConfig(hgb_max_iter=30, mlp_hidden=(8,), mlp_epochs=3, stack_folds=2)
    names = tuple(f"f{i}" for i in range(6))
    return fit_ensemble(x[:1000], y[:1000], x[1000:], y[1000:], names, dirs, 1, cfg, progress=False), x, dirs


def test_ensemble_is_calibrated_monotone_and_roundtrips(tiny_model, tmp_path) -> None:
    model, x, dirs = tiny_model
    assert np.all(model.meta_coef >= 0)
    p = model.predict_proba(x)
    assert p.min() >= 0 and p.max() <= 1
    # Monotone: moving any feature in its direction never lowers the probability.
    for j in range(6):
        moved = x.copy()
        moved[:, j] = np.clip(moved[:, j] + 0.2 * dirs[j], 0, 1)
        assert np.all(model.predict_proba(moved) >= p - 1e-9)
    v1 = model.save(tmp_path / "a")
    v2 = model.save(tmp_path / "b")
    assert v1.sha256 == v2.sha256 and len(v1.sha256) == 64
    loaded = ScorerEnsemble.load(tmp_path / "a")
    assert loaded.version.sha256 == v1.sha256
    np.testing.assert_array_equal(loaded.predict_proba(x), p)
    with np.load(tmp_path / "a" / ARRAYS_FILE, allow_pickle=False) as npz:
        assert "hgb_threshold" in npz.files and "mlp_w0" in npz.files


def test_load_rejects_foreign_or_changed_files(tiny_model, tmp_path) -> None:
    model, _, _ = tiny_model
    v = model.save(tmp_path)
    doc = json.loads((tmp_path / JSON_FILE).read_text())
    doc["meta"]["intercept"] += 0.5
    (tmp_path / JSON_FILE).write_text(json.dumps(doc))
    assert ScorerEnsemble.load(tmp_path).version.sha256 != v.sha256  # content hash follows the content
    doc["format"] = "something-else"
    (tmp_path / JSON_FILE).write_text(json.dumps(doc))
    with pytest.raises(ModelError):
        ScorerEnsemble.load(tmp_path)
    with pytest.raises(ModelError):
        ScorerEnsemble.load(tmp_path / "missing")
    with pytest.raises(ModelError):
        model.predict_proba(np.zeros((2, 5)))


def test_flip() -> None:
    x = np.array([[0.2, 0.2]])
    np.testing.assert_allclose(flip(x, np.array([1, -1])), [[0.2, 0.8]])
