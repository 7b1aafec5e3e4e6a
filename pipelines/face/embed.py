"""Embed an aligned face chip with dlib's ResNet: AlignedFace in, unit-scale 128-d embedding out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.face.align import AlignedFace
from veid.errors import StageError

EMBEDDING_DIM = 128


@dataclass(frozen=True)
class EmbedderConfig:
    """Embedding settings.

    Attributes:
        num_jitters: dlib re-samples the chip this many times and averages (1 = no jitter;
            more is slower and slightly more stable).
    """

    num_jitters: int = 1


@dataclass(frozen=True)
class FaceEmbedding:
    """A 128-d dlib face descriptor (float64). Distances are Euclidean, same scale as face_recognition."""

    vector: np.ndarray

    def distance(self, other: "FaceEmbedding") -> float:
        """Euclidean distance to ``other`` (0 identical; face_recognition's default rule is < 0.6)."""
        return float(np.linalg.norm(self.vector - other.vector))


class FaceEmbedder:
    """``FaceEmbedder(cfg, recognizer)(aligned) -> FaceEmbedding`` with dlib's ResNet model."""

    def __init__(self, cfg: EmbedderConfig, recognizer: Any) -> None:
        if cfg.num_jitters < 1:
            raise ValueError("num_jitters must be at least 1")
        self.cfg = cfg
        self._recognizer = recognizer

    def __call__(self, aligned: AlignedFace) -> FaceEmbedding:
        """Compute the descriptor of a 150x150 RGB chip.

        Raises:
            StageError: dlib refused the chip.
        """
        try:
            vec = self._recognizer.compute_face_descriptor(aligned.chip, self.cfg.num_jitters)
        except (RuntimeError, TypeError) as exc:
            raise StageError(f"dlib could not embed the face chip: {exc}") from exc
        out = np.asarray(vec, dtype=np.float64)
        if out.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(out)):
            raise StageError(f"dlib returned an invalid descriptor of shape {out.shape}")
        return FaceEmbedding(out)
