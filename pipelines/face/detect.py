"""Find faces and their five landmarks with MTCNN: RGB image in, DetectedFace tuple out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from veid.errors import StageError
from veid.types import Box

Point = tuple[float, float]


@dataclass(frozen=True)
class DetectorConfig:
    """MTCNN settings.

    Attributes:
        min_face_size: smallest face MTCNN searches for, pixels (after any downscaling).
        min_confidence: faces scored below this (0-1) are dropped.
        max_side: images whose longer side exceeds this (pixels) are downscaled for detection;
            boxes and landmarks are mapped back to the original pixels.
        hog_fallback: when MTCNN finds no face, try dlib's HOG detector (landmarks from the
            68-point model). MTCNN misses some printed document portraits that HOG finds.
        hog_min_score: HOG SVM margin a fallback face needs.
    """

    min_face_size: int = 20
    min_confidence: float = 0.9
    max_side: int = 800
    hog_fallback: bool = True
    hog_min_score: float = 0.0


@dataclass(frozen=True)
class FaceLandmarks:
    """MTCNN's five landmarks in image pixels. ``left``/``right`` are as seen in the image
    (``left_eye`` has the smaller x: the subject's right eye)."""

    left_eye: Point
    right_eye: Point
    nose: Point
    mouth_left: Point
    mouth_right: Point

    def to_array(self) -> np.ndarray:
        """``(5, 2)`` float array in the order left eye, right eye, nose, mouth left, mouth right."""
        return np.asarray([self.left_eye, self.right_eye, self.nose, self.mouth_left, self.mouth_right], float)

    @property
    def eye_distance(self) -> float:
        """Distance between the eye centres, pixels."""
        return float(np.hypot(self.right_eye[0] - self.left_eye[0], self.right_eye[1] - self.left_eye[1]))


@dataclass(frozen=True)
class DetectedFace:
    """One face: its box (pixels), confidence, five landmarks and which detector found it.

    ``confidence`` is MTCNN's score (0-1) for ``source == "mtcnn"``; for the HOG fallback it
    is the SVM margin clipped to [0, 1] (not a probability).
    """

    box: Box
    confidence: float
    landmarks: FaceLandmarks
    source: str = "mtcnn"


class FaceDetector:
    """MTCNN detection: ``FaceDetector(cfg, mtcnn, hog, shape68)(rgb) -> faces``, largest face first.

    ``hog`` and ``shape68`` (dlib) serve the fallback only; pass ``None`` to disable it.
    """

    def __init__(self, cfg: DetectorConfig, mtcnn: Any, hog: Any = None, shape68: Any = None) -> None:
        self.cfg = cfg
        self._mtcnn = mtcnn
        self._hog = hog
        self._shape68 = shape68

    def __call__(self, image: np.ndarray) -> tuple[DetectedFace, ...]:
        """Detect faces in an ``(H, W, 3)`` RGB uint8 image.

        Returns:
            Faces with confidence at least ``min_confidence``, sorted by box area, largest first
            (empty when there is none).

        Raises:
            StageError: MTCNN itself failed on an acceptable image.
        """
        h, w = image.shape[:2]
        scale = min(1.0, self.cfg.max_side / max(h, w))
        work = image if scale == 1.0 else cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        try:
            raw = self._mtcnn.detect_faces(
                work, box_format="xyxy", min_face_size=self.cfg.min_face_size,
            )
        except (ValueError, RuntimeError) as exc:  # TF raises subclasses of these
            raise StageError(f"MTCNN failed: {exc}") from exc
        faces = []
        for det in raw:
            conf = float(det["confidence"])
            if conf < self.cfg.min_confidence:
                continue
            x0, y0, x1, y1 = (float(v) / scale for v in det["box"])
            kp = {k: (float(v[0]) / scale, float(v[1]) / scale) for k, v in det["keypoints"].items()}
            # mtcnn names eyes from the subject's view only loosely; order them by x instead.
            eyes = sorted([kp["left_eye"], kp["right_eye"]])
            mouth = sorted([kp["mouth_left"], kp["mouth_right"]])
            box = Box(max(0.0, x0), max(0.0, y0), min(float(w), max(x0, x1)), min(float(h), max(y0, y1)))
            faces.append(DetectedFace(box, conf, FaceLandmarks(eyes[0], eyes[1], kp["nose"], mouth[0], mouth[1])))
        if not faces and self.cfg.hog_fallback and self._hog is not None and self._shape68 is not None:
            faces = self._hog_faces(image)
        faces.sort(key=lambda f: f.box.area, reverse=True)
        return tuple(faces)

    def _hog_faces(self, image: np.ndarray) -> list[DetectedFace]:
        h, w = image.shape[:2]
        rects, scores, _ = self._hog.run(image, 1, self.cfg.hog_min_score)
        out = []
        for rect, score in zip(rects, scores):
            pts = np.asarray([(p.x, p.y) for p in self._shape68(image, rect).parts()], dtype=float)
            eyes = sorted([tuple(pts[36:42].mean(axis=0)), tuple(pts[42:48].mean(axis=0))])
            mouth = sorted([tuple(pts[48]), tuple(pts[54])])
            lm = FaceLandmarks(eyes[0], eyes[1], tuple(pts[30]), mouth[0], mouth[1])
            box = Box(max(0.0, float(rect.left())), max(0.0, float(rect.top())),
                      min(float(w), float(rect.right())), min(float(h), float(rect.bottom())))
            if box.area > 0:
                out.append(DetectedFace(box, float(np.clip(score, 0.0, 1.0)), lm, "hog"))
        return out
