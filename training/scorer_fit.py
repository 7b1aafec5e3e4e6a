"""Fitting the scorer ensemble: monotone trees, sign-constrained logistic model, monotone Keras MLP, stacking, calibration."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
from tqdm import tqdm

from models.scorer import ScorerEnsemble, TreeEnsemble, build_keras_mlp, flip, keras_weights


@dataclass(frozen=True)
class EnsembleConfig:
    """Learner settings (``params.yaml`` ``scorer.model``).

    Attributes:
        hgb_max_iter: boosting rounds of the tree model.
        hgb_learning_rate: shrinkage of each round.
        hgb_max_leaf_nodes: leaves per tree.
        hgb_min_samples_leaf: minimum users per leaf.
        hgb_l2: L2 regularisation of leaf values.
        logistic_c: inverse L2 strength of the logistic model (larger = weaker).
        mlp_hidden: hidden layer widths of the monotone MLP.
        mlp_epochs: training epochs.
        mlp_batch: batch size.
        mlp_learning_rate: Adam learning rate.
        mlp_l2: L2 on kernels.
        stack_folds: folds for out-of-fold base predictions that train the meta model.
        calibration: ``isotonic`` or ``platt``.
        seed: seed of every learner.
    """

    hgb_max_iter: int = 300
    hgb_learning_rate: float = 0.05
    hgb_max_leaf_nodes: int = 15
    hgb_min_samples_leaf: int = 40
    hgb_l2: float = 1.0
    logistic_c: float = 1.0
    mlp_hidden: tuple[int, ...] = (32, 16)
    mlp_epochs: int = 20
    mlp_batch: int = 256
    mlp_learning_rate: float = 0.01
    mlp_l2: float = 1e-4
    stack_folds: int = 5
    calibration: Literal["isotonic", "platt"] = "platt"
    seed: int = 0


def fit_signed_logistic(x: np.ndarray, y: np.ndarray, signs: np.ndarray, c: float,
                        weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression whose coefficient ``j`` has the sign of ``signs[j]`` (0: free).

    Minimises ``sum_i w_i * logloss_i + ||coef||^2 / (2 c)`` with L-BFGS-B under bounds.

    Returns:
        ``(coef, intercept)``.
    """
    from scipy.optimize import minimize

    n, d = x.shape
    w = np.ones(n) if weight is None else weight
    w = w / w.mean()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        coef, b = theta[:d], theta[d]
        z = x @ coef + b
        p = 1.0 / (1.0 + np.exp(-z))
        ll = np.sum(w * (np.logaddexp(0.0, z) - y * z))
        g = w * (p - y)
        grad = np.concatenate([x.T @ g + coef / c, [g.sum()]])
        return ll + 0.5 * np.dot(coef, coef) / c, grad

    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs] + [(None, None)]
    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 2000, "gtol": 1e-8})
    return res.x[:d].copy(), float(res.x[d])


def _fit_hgb(x: np.ndarray, y: np.ndarray, directions: np.ndarray, cfg: EnsembleConfig):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=cfg.hgb_max_iter, learning_rate=cfg.hgb_learning_rate, max_leaf_nodes=cfg.hgb_max_leaf_nodes,
        min_samples_leaf=cfg.hgb_min_samples_leaf, l2_regularization=cfg.hgb_l2,
        monotonic_cst=[int(d) for d in directions], early_stopping=False, random_state=cfg.seed,
    ).fit(x, y)


def _fit_mlp(x: np.ndarray, y: np.ndarray, directions: np.ndarray, cfg: EnsembleConfig, seed: int):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    try:  # one thread and deterministic kernels: the same weights on every machine
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already initialised in this process (tests): keep its settings
        pass
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)
    model = build_keras_mlp(x.shape[1], cfg.mlp_hidden, cfg.mlp_l2, seed)
    model.compile(optimizer=keras.optimizers.Adam(cfg.mlp_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(flip(x, directions).astype(np.float32), y.astype(np.float32), epochs=cfg.mlp_epochs,
              batch_size=cfg.mlp_batch, shuffle=True, verbose=0)
    return keras_weights(model)


@dataclass(frozen=True)
class _Bases:
    trees: TreeEnsemble
    coef: np.ndarray
    intercept: float
    mlp: list[tuple[np.ndarray, np.ndarray]]


def _fit_bases(x: np.ndarray, y: np.ndarray, directions: np.ndarray, cfg: EnsembleConfig, seed: int) -> _Bases:
    trees = TreeEnsemble.from_sklearn(_fit_hgb(x, y, directions, cfg))
    coef, intercept = fit_signed_logistic(x, y, directions, cfg.logistic_c)
    return _Bases(trees, coef, intercept, _fit_mlp(x, y, directions, cfg, seed))


def _shell(bases: _Bases, names: tuple[str, ...], directions: np.ndarray, schema: int) -> ScorerEnsemble:
    return ScorerEnsemble(names, directions, schema, bases.trees, bases.coef, bases.intercept, bases.mlp,
                          np.ones(3) / 3, 0.0, {"method": "platt", "a": 1.0, "b": 0.0})


def fit_ensemble(x_train: np.ndarray, y_train: np.ndarray, x_cal: np.ndarray, y_cal: np.ndarray,
                 names: tuple[str, ...], directions: np.ndarray, schema: int, cfg: EnsembleConfig,
                 progress: bool = True) -> ScorerEnsemble:
    """Fit the stacked, calibrated ensemble.

    Base learners are fitted on ``stack_folds`` folds of the training users to give out-of-fold
    log-odds, on which the non-negative meta model is fitted; the bases are then refitted on all
    training users, and the calibration map is fitted on the separate calibration users.
    """
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # OpenMP oversubscription makes tree fitting 20x slower on busy hosts
        return _fit_ensemble(x_train, y_train, x_cal, y_cal, names, directions, schema, cfg, progress,
                             StratifiedKFold)


def _fit_ensemble(x_train, y_train, x_cal, y_cal, names, directions, schema, cfg, progress, kfold):
    oof = np.zeros((len(y_train), 3))
    folds = kfold(cfg.stack_folds, shuffle=True, random_state=cfg.seed).split(x_train, y_train)
    for k, (tr, te) in enumerate(tqdm(list(folds), desc="stacking folds", disable=not progress)):
        bases = _fit_bases(x_train[tr], y_train[tr], directions, cfg, cfg.seed + 1 + k)
        oof[te] = _shell(bases, names, directions, schema).base_logits(x_train[te])
    meta_coef, meta_b = fit_signed_logistic(oof, y_train.astype(float), np.ones(3), c=100.0)
    bases = _fit_bases(x_train, y_train, directions, cfg, cfg.seed)
    model = ScorerEnsemble(names, directions, schema, bases.trees, bases.coef, bases.intercept, bases.mlp,
                           meta_coef, meta_b, {"method": "platt", "a": 1.0, "b": 0.0})
    logit = model.meta_logit(model.base_logits(x_cal))
    if cfg.calibration == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(logit, y_cal)
        calibration = {"method": "isotonic", "x": [float(v) for v in iso.X_thresholds_],
                       "y": [float(v) for v in iso.y_thresholds_]}
    else:
        a, b = fit_signed_logistic(logit[:, None], y_cal.astype(float), np.ones(1), c=1e6)
        calibration = {"method": "platt", "a": float(a[0]), "b": float(b)}
    return ScorerEnsemble(names, directions, schema, bases.trees, bases.coef, bases.intercept, bases.mlp,
                          meta_coef, meta_b, calibration)
