"""The identity-score ensemble: monotone gradient-boosted trees, logistic model and MLP, stacked and calibrated.

Inference is plain NumPy in float64 (no scikit-learn, TensorFlow or pickle at scoring time),
so every validator computes the same numbers whatever its thread settings; each stage's
output is rounded to 1e-9 before the next so that last-bit BLAS differences cannot move a
score across an integer boundary in practice.

On-disk format (a folder, e.g. ``models/weights/scorer/``):

* ``scorer.json``: ``{"format": "veid-scorer", "format_version": 1, "feature_schema_version",
  "feature_names", "directions", "logistic": {"coef", "intercept"}, "meta": {"coef",
  "intercept"}, "calibration": {"method": "isotonic"|"platt", "x", "y"} | {"a", "b"},
  "mlp": {"hidden", "activation"}, "hgb": {"baseline", "n_trees", "max_nodes"}, "training": {...}}``
* ``scorer_arrays.npz`` (``allow_pickle=False``): ``hgb_feature``, ``hgb_threshold``,
  ``hgb_left``, ``hgb_right`` (int32/float64, shape ``[n_trees, max_nodes]``), ``hgb_leaf``
  (bool), ``hgb_value`` (float64); ``mlp_w{i}``, ``mlp_b{i}`` per dense layer.

Trees send a row left when ``x[feature] <= threshold`` (scikit-learn's rule). The MLP sees
``x`` where direction is +1 and ``1 - x`` where it is -1; all its weights are non-negative
and tanh is increasing, so it is monotone, like the trees (monotonic constraints) and the logistic model (signed
coefficients). The meta model has non-negative weights and the calibration map is
non-decreasing, so the final probability is monotone in every feature's direction.
The version is the SHA-256 of the JSON text and of every array's name, dtype, shape and bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from veid.errors import ModelError
from veid.types import ModelVersion

FORMAT = "veid-scorer"
FORMAT_VERSION = 1
MODEL_NAME = "veid-scorer"
JSON_FILE = "scorer.json"
ARRAYS_FILE = "scorer_arrays.npz"
_Q = 1e9  # quantisation of intermediate outputs


def _quantize(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64) * _Q) / _Q


@dataclass(frozen=True)
class TreeEnsemble:
    """Gradient-boosted trees exported from scikit-learn, padded to ``[n_trees, max_nodes]``."""

    baseline: float
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray

    @classmethod
    def from_sklearn(cls, model: Any) -> "TreeEnsemble":
        """Export a fitted binary ``HistGradientBoostingClassifier`` (numeric features, no NaN)."""
        trees = [p[0].nodes for p in model._predictors]  # noqa: SLF001 (sklearn has no public tree export)
        if any(t["is_categorical"].any() for t in trees):
            raise ModelError("categorical splits are not supported by the scorer export")
        n, m = len(trees), max(len(t) for t in trees)
        feature = np.zeros((n, m), np.int32)
        threshold = np.zeros((n, m), np.float64)
        left = np.zeros((n, m), np.int32)
        right = np.zeros((n, m), np.int32)
        leaf = np.ones((n, m), bool)
        value = np.zeros((n, m), np.float64)
        for i, t in enumerate(trees):
            k = len(t)
            feature[i, :k], threshold[i, :k] = t["feature_idx"], t["num_threshold"]
            left[i, :k], right[i, :k] = t["left"], t["right"]
            leaf[i, :k], value[i, :k] = t["is_leaf"].astype(bool), t["value"]
        return cls(float(np.ravel(model._baseline_prediction)[0]), feature, threshold, left, right, leaf, value)

    def __post_init__(self) -> None:
        # Flattened copies for traversal; leaves point to themselves so every row can take `depth` steps.
        n, m = self.feature.shape
        own = np.arange(m)[None, :]
        offsets = (np.arange(n) * m)[:, None]
        left = (np.where(self.leaf, own, self.left) + offsets).ravel()
        right = (np.where(self.leaf, own, self.right) + offsets).ravel()
        depth = 0
        for t in range(n):
            stack = [(0, 0)]
            while stack:
                node, d = stack.pop()
                if not self.leaf[t, node]:
                    stack += [(int(self.left[t, node]), d + 1), (int(self.right[t, node]), d + 1)]
                depth = max(depth, d)
        object.__setattr__(self, "_flat", (self.feature.ravel(), self.threshold.ravel(), left, right,
                                           self.value.ravel(), offsets.ravel(), depth))

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of the baseline and every tree's leaf value, shape ``(n,)`` (a log-odds)."""
        feature, threshold, left, right, value, roots, depth = self._flat  # type: ignore[attr-defined]
        rows = np.arange(x.shape[0])[:, None]
        node = np.repeat(roots[None, :], x.shape[0], axis=0)
        for _ in range(depth):
            node = np.where(x[rows, feature[node]] <= threshold[node], left[node], right[node])
        # Fixed summation order (tree 0, 1, ...) independent of threads.
        return self.baseline + np.cumsum(value[node], axis=1)[:, -1]


def mlp_forward(weights: list[tuple[np.ndarray, np.ndarray]], z: np.ndarray) -> np.ndarray:
    """Monotone MLP logit for inputs ``z`` already flipped to increasing direction, shape ``(n,)``."""
    h = z
    for i, (w, b) in enumerate(weights):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.tanh(h)
    return h[:, 0]


def flip(x: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Map every feature to the increasing direction: ``x`` for +1, ``1 - x`` for -1."""
    return np.where(directions > 0, x, 1.0 - x)


@dataclass(frozen=True)
class ScorerEnsemble:
    """A trained, calibrated ensemble; :meth:`predict_proba` is deterministic NumPy."""

    feature_names: tuple[str, ...]
    directions: np.ndarray
    feature_schema_version: int
    trees: TreeEnsemble
    logistic_coef: np.ndarray
    logistic_intercept: float
    mlp: list[tuple[np.ndarray, np.ndarray]]
    meta_coef: np.ndarray
    meta_intercept: float
    calibration: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    version: ModelVersion = field(default_factory=lambda: ModelVersion(MODEL_NAME, ""))

    def base_logits(self, x: np.ndarray) -> np.ndarray:
        """Log-odds of the three base learners, columns ``(trees, logistic, mlp)``, shape ``(n, 3)``."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ModelError(f"expected features of shape (n, {len(self.feature_names)}), got {x.shape}")
        t = self.trees.raw(x)
        lr = x @ self.logistic_coef + self.logistic_intercept
        nn = mlp_forward(self.mlp, flip(x, self.directions))
        return _quantize(np.stack([t, lr, nn], axis=1))

    def meta_logit(self, base: np.ndarray) -> np.ndarray:
        """Stacked log-odds from the base logits (non-negative weights)."""
        return _quantize(base @ self.meta_coef + self.meta_intercept)

    def calibrate(self, logit: np.ndarray) -> np.ndarray:
        """Calibrated probability of a genuine person from the stacked log-odds."""
        c = self.calibration
        if c["method"] == "isotonic":
            p = np.interp(logit, np.asarray(c["x"], float), np.asarray(c["y"], float))
        elif c["method"] == "platt":
            p = 1.0 / (1.0 + np.exp(-(c["a"] * logit + c["b"])))
        else:
            raise ModelError(f"unknown calibration method {c['method']!r}")
        return _quantize(np.clip(p, 0.0, 1.0))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probability that each row is a genuine person, shape ``(n,)``."""
        return self.calibrate(self.meta_logit(self.base_logits(x)))

    # ----------------------------------------------------------------- persistence
    def _payload(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        doc = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "feature_schema_version": self.feature_schema_version,
            "feature_names": list(self.feature_names), "directions": [int(d) for d in self.directions],
            "logistic": {"coef": [float(c) for c in self.logistic_coef], "intercept": float(self.logistic_intercept)},
            "meta": {"coef": [float(c) for c in self.meta_coef], "intercept": float(self.meta_intercept)},
            "calibration": self.calibration,
            "mlp": {"hidden": [int(w.shape[1]) for w, _ in self.mlp[:-1]], "activation": "tanh"},
            "hgb": {"baseline": self.trees.baseline, "n_trees": int(self.trees.feature.shape[0]),
                    "max_nodes": int(self.trees.feature.shape[1])},
            "training": self.training,
        }
        arrays = {"hgb_feature": self.trees.feature, "hgb_threshold": self.trees.threshold,
                  "hgb_left": self.trees.left, "hgb_right": self.trees.right, "hgb_leaf": self.trees.leaf,
                  "hgb_value": self.trees.value}
        for i, (w, b) in enumerate(self.mlp):
            arrays[f"mlp_w{i}"], arrays[f"mlp_b{i}"] = w, b
        return doc, arrays

    def save(self, folder: Path) -> ModelVersion:
        """Write ``scorer.json`` and ``scorer_arrays.npz`` atomically; returns the content version."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        doc, arrays = self._payload()
        text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
        tmp_json, tmp_npz = folder / f".{JSON_FILE}.tmp", folder / f".{ARRAYS_FILE}.tmp.npz"
        tmp_json.write_text(text, encoding="utf-8")
        np.savez_compressed(tmp_npz, **arrays)
        os.replace(tmp_npz, folder / ARRAYS_FILE)
        os.replace(tmp_json, folder / JSON_FILE)
        return ModelVersion(MODEL_NAME, content_hash(text, arrays))

    @classmethod
    def load(cls, folder: Path) -> "ScorerEnsemble":
        """Read a saved ensemble (no pickle); raises :class:`ModelError` on a missing or foreign file."""
        folder = Path(folder)
        try:
            text = (folder / JSON_FILE).read_text(encoding="utf-8")
            doc = json.loads(text)
            with np.load(folder / ARRAYS_FILE, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read scorer model in {folder}: {exc}") from exc
        if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{folder / JSON_FILE}: not a {FORMAT} v{FORMAT_VERSION} model")
        try:
            trees = TreeEnsemble(float(doc["hgb"]["baseline"]), arrays["hgb_feature"], arrays["hgb_threshold"],
                                 arrays["hgb_left"], arrays["hgb_right"], arrays["hgb_leaf"], arrays["hgb_value"])
            n_layers = len(doc["mlp"]["hidden"]) + 1
            mlp = [(arrays[f"mlp_w{i}"], arrays[f"mlp_b{i}"]) for i in range(n_layers)]
            return cls(
                feature_names=tuple(doc["feature_names"]), directions=np.asarray(doc["directions"], np.int8),
                feature_schema_version=int(doc["feature_schema_version"]), trees=trees,
                logistic_coef=np.asarray(doc["logistic"]["coef"], float),
                logistic_intercept=float(doc["logistic"]["intercept"]), mlp=mlp,
                meta_coef=np.asarray(doc["meta"]["coef"], float), meta_intercept=float(doc["meta"]["intercept"]),
                calibration=doc["calibration"], training=doc.get("training", {}),
                version=ModelVersion(MODEL_NAME, content_hash(text, arrays), {"path": str(folder)}),
            )
        except KeyError as exc:
            raise ModelError(f"scorer model in {folder} lacks {exc}") from exc


def content_hash(json_text: str, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the JSON text and each array (name, dtype, shape, bytes) in name order."""
    h = hashlib.sha256(json_text.encode("utf-8"))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\n{name}|{a.dtype.str}|{a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def build_keras_mlp(n_features: int, hidden: tuple[int, ...], l2: float = 1e-4, seed: int = 0):
    """The Keras twin of :func:`mlp_forward`: non-negative kernels, tanh, one logit output."""
    import keras

    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input((n_features,), name="flipped_features")
    h = inputs
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation="tanh", kernel_constraint=keras.constraints.NonNeg(),
                               kernel_regularizer=reg,
                               kernel_initializer=keras.initializers.RandomUniform(0.0, 2.0 / np.sqrt(h.shape[-1]),
                                                                                   seed=seed + i),
                               bias_initializer=keras.initializers.Constant(-1.0), name=f"dense_{i}")(h)
    out = keras.layers.Dense(1, kernel_constraint=keras.constraints.NonNeg(), kernel_regularizer=reg,
                             kernel_initializer=keras.initializers.RandomUniform(0.0, 0.1, seed=seed + 99),
                             name="logit")(h)
    return keras.Model(inputs, out, name="monotone_mlp")


def keras_weights(model: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(kernel, bias), ...]`` as float64 arrays from a model built by :func:`build_keras_mlp`."""
    return [(np.asarray(layer.kernel, np.float64), np.asarray(layer.bias, np.float64))
            for layer in model.layers if hasattr(layer, "kernel")]
