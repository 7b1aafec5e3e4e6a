"""The few layers of the small CNNs the document pipeline runs in NumPy (weights trained in Keras).

The mark and caption classifiers are a few kilobytes to a megabyte and run on crops of a few hundred
pixels: NumPy runs them in about a millisecond, without loading TensorFlow into the validator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from veid.errors import ModelError


def conv3x3_relu(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """3x3 'same' convolution, ReLU: ``(N, H, W, C)`` -> ``(N, H, W, F)`` (Keras' cross-correlation)."""
    pad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(pad, (3, 3), axis=(1, 2))  # N, H, W, C, 3, 3
    return np.maximum(np.einsum("nhwcij,ijcf->nhwf", win, kernel, optimize=True) + bias, 0.0)


def max_pool2(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling (odd edges dropped, as Keras does)."""
    n, h, w, c = x.shape
    x = x[:, :h // 2 * 2, :w // 2 * 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def read_npz(path: str | Path, keys: tuple[str, ...], meta: tuple[str, ...], what: str) -> tuple[list, dict]:
    """The float32 weight arrays ``keys`` and the raw ``meta`` arrays of a ``.npz`` written without pickles.

    Raises:
        ModelError: the file is missing or lacks one of them (``what`` names the model in the message).
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            return [np.asarray(z[k], np.float32) for k in keys], {m: np.asarray(z[m]) for m in meta}
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"cannot load the {what} {path}: {exc}") from exc


def read_classifier(path: str | Path, keys: tuple[str, ...], what: str, classes: tuple[str, ...], shape_key: str,
                    shape: tuple[int, ...]) -> list[np.ndarray]:
    """The weight arrays ``keys`` of a classifier written by :func:`save_classifier`, checked to be
    for ``classes`` and inputs of ``shape`` (stored under ``shape_key``); its last dense layer is ``w2``.

    Raises:
        ModelError: the file is missing, lacks an array or is another model (``what`` names it).
    """
    arrays, meta = read_npz(path, keys, ("classes", shape_key), what)
    found = tuple(str(s) for s in meta["classes"]), tuple(int(v) for v in meta[shape_key])
    if found != (tuple(classes), tuple(shape)) or dict(zip(keys, arrays))["w2"].shape[1] != len(classes):
        raise ModelError(f"{path}: not a {what} for inputs {shape} and classes {classes}")
    return arrays


def save_classifier(path: str | Path, model: object, keys: tuple[str, ...], classes: tuple[str, ...], shape_key: str,
                    shape: tuple[int, ...]) -> None:
    """Write ``model``'s weight attributes ``keys`` with its classes and input shape (``.npz``, no pickles)."""
    np.savez(path, **{k: getattr(model, k) for k in keys}, classes=np.asarray(classes), **{shape_key: np.asarray(shape)})


@dataclass(frozen=True)
class ZoneClassifier:
    """A small CNN over one image zone (two 3x3 convolutions with pooling, one hidden dense layer) plus two
    scalar features, trained in Keras and run here in NumPy. A subclass names its classes, its zone's shape,
    what it is (for error messages) and how its crops are bordered; its feature rows are the flattened zone
    then the two scalars (``letters.LineLayout.row``).

    Attributes:
        k1, c1, k2, c2: convolution kernels ``(3, 3, in, out)`` and biases.
        w1, b1, w2, b2: dense layers over the flattened maps and scalars; outputs are ``CLASSES`` logits.
    """

    k1: np.ndarray
    c1: np.ndarray
    k2: np.ndarray
    c2: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    KEYS: ClassVar[tuple[str, ...]] = ("k1", "c1", "k2", "c2", "w1", "b1", "w2", "b2")
    CLASSES: ClassVar[tuple[str, ...]] = ()
    SHAPE: ClassVar[tuple[int, int]] = (0, 0)
    WHAT: ClassVar[str] = "zone classifier"
    PAPER_BORDER: ClassVar[bool] = False  # its crops are bordered with the paper's grey (``marks.prepare``)

    @classmethod
    def n_features(cls) -> int:
        """Length of a feature row: the zone's pixels and the two scalars."""
        return cls.SHAPE[0] * cls.SHAPE[1] + 2

    @classmethod
    def load(cls, path: str | Path):
        """Read the ``.npz`` written by :meth:`save` (a shipped file's sha256 is checked by
        :func:`models.registry.file_version`).

        Raises:
            ModelError: the file is missing or not this model.
        """
        return cls(*read_classifier(path, cls.KEYS, cls.WHAT, cls.CLASSES, "zone_shape", cls.SHAPE))

    def save(self, path: str | Path) -> None:
        """Write the weights (``.npz``, no pickled objects)."""
        save_classifier(path, self, self.KEYS, self.CLASSES, "zone_shape", self.SHAPE)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per feature row."""
        n = x.shape[0]
        zone = x[:, :-2].reshape(n, *self.SHAPE, 1)
        h = max_pool2(conv3x3_relu(zone, self.k1, self.c1))
        h = max_pool2(conv3x3_relu(h, self.k2, self.c2))
        flat = np.concatenate([h.reshape(n, -1), x[:, -2:]], axis=1)
        return softmax(np.maximum(flat @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2)
