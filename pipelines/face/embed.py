"""Embed an aligned face chip with dlib's ResNet: AlignedFace in, unit-scale 128-d embedding out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
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
        mirror_average: also embed the left-right mirrored chip and average the two descriptors
            (one batched ResNet call; twice the embedding time). Measured on the calibration
            identities' document-portrait-versus-selfie pairs: EER 1.1% -> 0.4% and FRR at FAR
            0.1% 4.4% -> 2.2% (`python -m bench face`). Calibrate again after changing it.
        grey_match: when one face of a pair is grey (a monochrome document portrait) and the other
            in colour, compare the grey face with the colour face converted to grey (one more
            embedding of the colour chip). Calibrate again after changing it.
        grey_max_saturation: a chip whose central median HSV saturation (0-1) is at or below this
            is grey.
    """

    num_jitters: int = 1
    mirror_average: bool = True
    grey_match: bool = True
    grey_max_saturation: float = 0.08


def chip_saturation(chip: np.ndarray) -> float:
    """Median HSV saturation (0-1) of the central 60 % of an RGB uint8 chip (the face, little background)."""
    h, w = chip.shape[:2]
    centre = chip[h // 5: h - h // 5, w // 5: w - w // 5]
    return float(np.median(cv2.cvtColor(np.ascontiguousarray(centre), cv2.COLOR_RGB2HSV)[..., 1])) / 255.0


def grey_chip(chip: np.ndarray) -> np.ndarray:
    """The chip in grey, as three equal RGB channels (what a monochrome print of it shows)."""
    g = cv2.cvtColor(np.ascontiguousarray(chip), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(np.repeat(g[..., None], 3, axis=2))


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

    def is_grey(self, aligned: AlignedFace) -> bool:
        """Whether the chip shows a grey (monochrome) face: see ``EmbedderConfig.grey_max_saturation``."""
        return chip_saturation(aligned.chip) <= self.cfg.grey_max_saturation

    def __call__(self, aligned: AlignedFace) -> FaceEmbedding:
        """Compute the descriptor of a 150x150 RGB chip (mean of chip and mirror when ``mirror_average``).

        Raises:
            StageError: dlib refused the chip.
        """
        return self._embed_chip(aligned.chip)

    def embed_grey(self, aligned: AlignedFace) -> FaceEmbedding:
        """The descriptor of the chip converted to grey (to compare with a grey face); see ``grey_match``."""
        return self._embed_chip(grey_chip(aligned.chip))

    def _embed_chip(self, chip: np.ndarray) -> FaceEmbedding:
        try:
            if self.cfg.mirror_average:
                pair = self._recognizer.compute_face_descriptor([chip, np.ascontiguousarray(chip[:, ::-1])],
                                                                self.cfg.num_jitters)
                out = (np.asarray(pair[0], dtype=np.float64) + np.asarray(pair[1], dtype=np.float64)) / 2.0
            else:
                out = np.asarray(self._recognizer.compute_face_descriptor(chip, self.cfg.num_jitters), dtype=np.float64)
        except (RuntimeError, TypeError) as exc:
            raise StageError(f"dlib could not embed the face chip: {exc}") from exc
        if out.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(out)):
            raise StageError(f"dlib returned an invalid descriptor of shape {out.shape}")
        return FaceEmbedding(out)
