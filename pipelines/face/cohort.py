"""Cohort score normalisation: a pair's embedding distance divided by how crowded each face's neighbourhood is.

Some faces lie close to many other people's (a common look, a blurred or washed-out capture), some
far from everyone (an unusual face, an aged one). A raw distance threshold treats both alike, so
the false accepts at a 0.1 % false-accept rate come from a few "crowded" impostor pairs and the
false rejects from a few "lonely" genuine ones. Dividing the distance by each face's typical
distance to a fixed cohort of other people (the mean of its ``k`` nearest) evens that out:

    score(a, b) = d(a, b) / sqrt(m_k(a) * m_k(b))

This is the adaptive ("top-k") flavour of the classic cohort normalisations of speaker and face
verification (Z-/T-/S-norm). The cohort is the calibration persons' real photos, embedded as the
verifier embeds (in colour, and in grey for grey-against-colour comparisons); it ships as
``models/face/face_cohort.npz``, written by the calibration stage. It holds only embeddings of
public-domain official portraits, never a user's face. At calibration time the cohort photos of
the pair's own persons are left out (``exclude``), as an applicant is never in the cohort.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from veid.errors import ConfigError


@dataclass(frozen=True)
class CohortConfig:
    """``face.cohort`` in params.yaml.

    Attributes:
        enabled: decide on the cohort-normalised score rather than the raw distance (the
            calibration stage must be re-run after changing this).
        k: how many nearest cohort faces give a face's scale.
        file: the cohort embeddings (``.npz``: ``colour``, ``grey``), relative to the repository root.
    """

    enabled: bool = True
    k: int = 10
    file: str = "models/face/face_cohort.npz"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ConfigError(f"face.cohort.k must be at least 1, got {self.k}")


@dataclass(frozen=True)
class Cohort:
    """Embeddings of the cohort faces, ``(n, 128)`` each: as embedded in colour and in grey."""

    colour: np.ndarray
    grey: np.ndarray

    def __post_init__(self) -> None:
        if self.colour.ndim != 2 or self.colour.shape != self.grey.shape or self.colour.shape[1] != 128:
            raise ConfigError(f"cohort embeddings must be two (n, 128) arrays, got {self.colour.shape} "
                              f"and {self.grey.shape}")
        if not (np.all(np.isfinite(self.colour)) and np.all(np.isfinite(self.grey))):
            raise ConfigError("cohort embeddings hold NaN or infinite values")

    def __len__(self) -> int:
        return int(self.colour.shape[0])

    def sha256(self) -> str:
        """Content hash of the embeddings (recorded with the calibration that used them)."""
        h = hashlib.sha256()
        for arr in (self.colour, self.grey):
            h.update(np.ascontiguousarray(arr, dtype="<f4").tobytes())
        return h.hexdigest()

    def save(self, path: Path) -> None:
        """Write ``colour`` and ``grey`` as float32 ``.npz``, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, colour=self.colour.astype(np.float32), grey=self.grey.astype(np.float32))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Cohort":
        """Read a cohort file.

        Raises:
            ConfigError: missing or malformed.
        """
        try:
            with np.load(path) as z:
                return cls(np.asarray(z["colour"], np.float64), np.asarray(z["grey"], np.float64))
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"{path}: face cohort missing or unreadable (run the face_calibration stage): {exc}") from exc


class CohortNormalizer:
    """``CohortNormalizer(cohort, k).score(distance, va, vb, grey)``: the normalised score of a pair."""

    def __init__(self, cohort: Cohort, k: int) -> None:
        if k > len(cohort):
            raise ConfigError(f"face.cohort.k = {k} exceeds the cohort's {len(cohort)} faces")
        self.cohort = cohort
        self.k = k

    def scale(self, vector: np.ndarray, grey: bool, exclude: np.ndarray | None = None) -> float:
        """Mean distance from ``vector`` to its ``k`` nearest cohort faces (the grey cohort when ``grey``).

        Args:
            exclude: boolean mask of cohort rows to leave out (the pair's own persons, at calibration).
        """
        table = self.cohort.grey if grey else self.cohort.colour
        d = np.linalg.norm(table - np.asarray(vector, np.float64), axis=1)
        if exclude is not None:
            d = d[~exclude]
        if d.size < self.k:
            raise ConfigError(f"only {d.size} cohort faces left, k = {self.k}")
        return float(np.partition(d, self.k - 1)[: self.k].mean())

    def score(self, distance: float, va: np.ndarray, vb: np.ndarray, grey: bool,
              exclude: np.ndarray | None = None) -> float:
        """``distance / sqrt(scale(va) * scale(vb))``; ``grey``: the pair is compared in grey."""
        return float(distance / np.sqrt(self.scale(va, grey, exclude) * self.scale(vb, grey, exclude)))
