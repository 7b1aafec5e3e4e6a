"""Compare two face photos: detect, align, embed, gate on quality, decide at the calibrated threshold."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.face.align import AlignedFace, AlignerConfig, FaceAligner
from pipelines.face.cohort import Cohort, CohortConfig, CohortNormalizer
from pipelines.face.detect import DetectedFace, DetectorConfig, FaceDetector
from pipelines.face.embed import EmbedderConfig, FaceEmbedder, FaceEmbedding
from pipelines.face.image_io import load_rgb
from pipelines.face.liveness import LivenessConfig, identical_portrait_check
from pipelines.face.models import FaceModels
from pipelines.face.quality import QualityAssessor, QualityConfig, QualityReport
from veid.config import from_mapping
from veid.errors import ConfigError, InputError
from veid.types import CheckResult, ModelVersion

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FaceCalibration:
    """Decision threshold and probability mapping, produced by ``training/face_calibration.py``.

    Attributes:
        threshold: embedding distance at or below which two faces match (at ``target_far``).
        target_far: false-accept rate the threshold was chosen for, on the calibration pairs.
        logistic_slope: ``a`` in ``P(same) = 1 / (1 + exp(-(a * (threshold - d) + b)))``.
        logistic_offset: ``b`` in the same formula (fitted on the calibration pairs).
        eer: equal error rate on the calibration pairs.
        source: what the numbers were fitted on (identities and pair counts).
        score: what ``threshold`` applies to: ``"distance"`` (the raw embedding distance) or
            ``"cohort"`` (the distance normalised by the ``cohort_k`` nearest faces of the cohort
            whose content hash is ``cohort_sha256``; see :mod:`pipelines.face.cohort`).
    """

    threshold: float
    target_far: float
    logistic_slope: float
    logistic_offset: float
    eer: float = float("nan")
    source: str = ""
    score: str = "distance"
    cohort_k: int = 0
    cohort_sha256: str = ""

    def __post_init__(self) -> None:
        if self.score not in ("distance", "cohort"):
            raise ConfigError(f"face calibration score must be 'distance' or 'cohort', got {self.score!r}")
        if self.score == "cohort" and self.cohort_k < 1:
            raise ConfigError("a cohort face calibration needs cohort_k >= 1")

    def probability(self, distance: float) -> float:
        """Calibrated probability (0-1) that two faces at ``distance`` are the same person."""
        z = self.logistic_slope * (self.threshold - distance) + self.logistic_offset
        return float(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))))


@dataclass(frozen=True)
class FaceConfig:
    """The ``face`` section of params.yaml (stage settings; the threshold lives in the calibration file).

    Attributes:
        calibration_file: JSON written by the calibration stage, relative to the repository root.
    """

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    aligner: AlignerConfig = field(default_factory=AlignerConfig)
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    liveness: LivenessConfig = field(default_factory=LivenessConfig)
    cohort: CohortConfig = field(default_factory=CohortConfig)
    calibration_file: str = "models/face/face_calibration.json"


@dataclass(frozen=True)
class FaceObservation:
    """One photo after the pipeline: every face found, the compared (largest) face, its chip,
    embedding and quality report; ``grey``: the face is monochrome (see ``EmbedderConfig.grey_match``)."""

    faces: tuple[DetectedFace, ...]
    aligned: AlignedFace
    embedding: FaceEmbedding
    quality: QualityReport
    grey: bool = False


@dataclass(frozen=True)
class FaceMatchResult:
    """The verdict on two photos.

    Attributes:
        distance: Euclidean distance of the two 128-d embeddings.
        threshold: calibrated decision threshold used (on ``score``).
        match: ``score <= threshold`` (the biometric decision alone).
        probability: calibrated probability of the same person (0-1).
        checks: quality checks of photo A (``a.`` prefix) and photo B (``b.`` prefix), and the
            liveness check when A is a document portrait.
        models: versions of the models that produced the result.
        compared_in_grey: one face was grey and the other in colour, so the colour face was
            converted to grey before embedding (``face.embedder.grey_match``).
        score: what was decided on: the distance normalised by the cohort (``face.cohort``,
            :mod:`pipelines.face.cohort`), or the distance itself when that is off.
    """

    distance: float
    threshold: float
    match: bool
    probability: float
    checks: tuple[CheckResult, ...]
    models: tuple[ModelVersion, ...] = ()
    compared_in_grey: bool = False
    score: float | None = None

    def __post_init__(self) -> None:
        if self.score is None:
            object.__setattr__(self, "score", self.distance)

    @property
    def quality_passed(self) -> bool:
        """Every check passed (quality gates and, when asked for, the liveness check)."""
        return all(c.passed for c in self.checks)

    @property
    def accepted(self) -> bool:
        """A match on two photos that both passed every quality gate."""
        return self.match and self.quality_passed

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-friendly view (the ``veid face --json`` output)."""
        return {
            "distance": round(self.distance, 6),
            "score": round(self.score, 6),
            "threshold": round(self.threshold, 6),
            "match": self.match,
            "probability": round(self.probability, 6),
            "compared_in_grey": self.compared_in_grey,
            "quality_passed": self.quality_passed,
            "accepted": self.accepted,
            "checks": [
                {"name": c.name, "passed": c.passed, "score": round(c.score, 4), "reason": c.reason}
                for c in self.checks
            ],
            "models": [{"name": m.name, "sha256": m.sha256} for m in self.models],
        }


def load_calibration(path: str | Path) -> FaceCalibration:
    """Read the calibration JSON (``threshold``, ``target_far``, ``logistic_*``, ...).

    Raises:
        ConfigError: the file is missing or malformed.
    """
    path = Path(path)
    if not path.is_absolute():
        path = REPO_ROOT / path
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: face calibration missing (run the face_calibration stage): {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    keys = {f for f in FaceCalibration.__dataclass_fields__}
    return from_mapping(FaceCalibration, {k: v for k, v in raw.items() if k in keys}, source=str(path))


class FaceVerifier:
    """``FaceVerifier(cfg, models).compare(img_a, img_b) -> FaceMatchResult``.

    Args:
        cfg: the ``face`` section.
        models: loaded :class:`FaceModels` (load once, share).
        calibration: threshold and probability mapping; read from ``cfg.calibration_file``
            when omitted.
    """

    def __init__(self, cfg: FaceConfig, models: FaceModels, calibration: FaceCalibration | None = None) -> None:
        self.cfg = cfg
        self.models = models
        self.calibration = calibration if calibration is not None else load_calibration(cfg.calibration_file)
        self.detect = FaceDetector(cfg.detector, models.detector, models.hog, models.shape68)
        self.align = FaceAligner(cfg.aligner, models.shape5)
        self.embed = FaceEmbedder(cfg.embedder, models.recognizer)
        self.assess = QualityAssessor(cfg.quality, models.shape68)
        self.normalizer = _normalizer(self.calibration, cfg.cohort)

    def observe(self, image: Any, *, label: str = "image") -> FaceObservation:
        """Run detection, alignment, embedding and quality gates on one photo.

        Args:
            image: path, encoded bytes or RGB/grey uint8 array.
            label: name of the photo in error messages.

        Raises:
            InputError: not a decodable image, or no face in it.
        """
        try:
            rgb = load_rgb(image)
        except InputError as exc:
            raise InputError(f"{label}: {exc}") from exc
        faces = self.detect(rgb)
        if not faces:
            raise InputError(f"{label}: no face found (MTCNN confidence >= {self.cfg.detector.min_confidence})")
        aligned = self.align(rgb, faces[0])
        return FaceObservation(faces, aligned, self.embed(aligned), self.assess(rgb, faces, aligned),
                               self.embed.is_grey(aligned))

    def compare_observations(self, a: FaceObservation, b: FaceObservation, *,
                             a_is_document_portrait: bool = False) -> FaceMatchResult:
        """Decide on two already observed photos.

        Args:
            a_is_document_portrait: ``a`` is the portrait cut from an identity document and ``b``
                a selfie: adds the ``liveness.selfie_is_document_portrait`` check.

        Raises:
            StageError: dlib could not embed the grey copy of the colour face.
        """
        in_grey = self.cfg.embedder.grey_match and a.grey != b.grey
        if in_grey:  # a monochrome portrait against a colour selfie: compare both in grey
            colour, grey = (b, a) if a.grey else (a, b)
            va, vb = self.embed.embed_grey(colour.aligned).vector, grey.embedding.vector
        else:
            va, vb = a.embedding.vector, b.embedding.vector
        distance = float(np.linalg.norm(va - vb))
        score = distance if self.normalizer is None else self.normalizer.score(distance, va, vb, in_grey)
        checks = tuple(_prefixed("a", c) for c in a.quality.checks) + tuple(_prefixed("b", c) for c in b.quality.checks)
        if a_is_document_portrait:
            checks += (identical_portrait_check(a.aligned.chip, b.aligned.chip, self.cfg.liveness),)
        return FaceMatchResult(
            distance=distance,
            threshold=self.calibration.threshold,
            match=bool(score <= self.calibration.threshold),
            probability=self.calibration.probability(score),
            checks=checks,
            models=self.models.versions,
            compared_in_grey=in_grey,
            score=score,
        )

    def compare(self, img_a: Any, img_b: Any, *, a_is_document_portrait: bool = False) -> FaceMatchResult:
        """Compare the largest face of each photo (paths, bytes or arrays); see :meth:`compare_observations`."""
        return self.compare_observations(self.observe(img_a, label="image A"), self.observe(img_b, label="image B"),
                                         a_is_document_portrait=a_is_document_portrait)


def _normalizer(calibration: FaceCalibration, cfg: CohortConfig) -> CohortNormalizer | None:
    """The cohort normaliser the calibration was fitted with (``None`` for a raw-distance calibration).

    Raises:
        ConfigError: the cohort file is missing, or is not the one the calibration used.
    """
    if calibration.score != "cohort":
        return None
    path = Path(cfg.file) if Path(cfg.file).is_absolute() else REPO_ROOT / cfg.file
    cohort = Cohort.load(path)
    if calibration.cohort_sha256 and cohort.sha256() != calibration.cohort_sha256:
        raise ConfigError(f"{path}: not the cohort the face calibration was fitted with (sha256 differs); "
                          "re-run the face_calibration stage")
    return CohortNormalizer(cohort, calibration.cohort_k)


def _prefixed(side: str, check: CheckResult) -> CheckResult:
    name = check.name.replace("face.", f"face.{side}.", 1)
    return CheckResult(name, check.passed, check.score, f"image {side.upper()}: {check.reason}" if check.reason else "")


def embedding_array(obs: FaceObservation) -> np.ndarray:
    """The observation's embedding as a ``(128,)`` float64 array."""
    return obs.embedding.vector
