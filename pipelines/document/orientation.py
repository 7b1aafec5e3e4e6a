"""Face-based orientation: find the rotation at which MTCNN sees the portrait upright."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from pipelines.face.detect_graph import graph_mtcnn
from veid.errors import ModelError, StageError


@dataclass(frozen=True)
class OrientationConfig:
    """Tunables (``params.yaml`` section ``document_orientation``).

    Attributes:
        angles: candidate clockwise rotations of the captured document, degrees (0/90/180/270, and
            finer steps if wanted, e.g. 45).
        work_side: long side, pixels, the photo is shrunk to before detection (speed).
        min_face_size: MTCNN's smallest face, pixels at ``work_side``.
        min_confidence: a face below this probability does not count.
        landmark_weight: bonus for a face whose landmarks are upright (eyes above the mouth, left eye
            left of the right eye), penalty otherwise; MTCNN finds faces turned by 90 degrees too, the
            landmarks tell them apart.
        batch: run the candidate angles as MTCNN batches, one per image shape (0/180 and 90/270), instead of
            one call each.
        hog_rerank: when MTCNN finds the face at more than one angle, the angle whose face dlib's HOG detector
            scores highest wins. MTCNN finds a portrait turned by 90 degrees about as confidently as upright,
            with upright-looking landmarks; dlib's frontal HOG model is trained on upright faces only.
        hog_crop: side, pixels, of the square around a face hit that HOG re-scores (about 2x the face).
        hog_fallback_side: when MTCNN finds no face at any angle, HOG searches the photo shrunk to this long
            side at every candidate angle (0: no fallback). MTCNN misses some printed portraits (a SPECIMEN
            stamp across the mouth, glare) that HOG finds.
        hog_min_score: the HOG SVM margin a fallback face needs.
        red_fallback: before HOG, the fallback runs MTCNN again on the photo's red channel alone: a red
            SPECIMEN stamp across a printed portrait's mouth (which makes MTCNN's last stage reject the face)
            turns as light as the skin there, and skin stays light in it.
    """

    angles: tuple[int, ...] = (0, 90, 180, 270)
    work_side: int = 480
    min_face_size: int = 20
    min_confidence: float = 0.8
    landmark_weight: float = 0.5
    batch: bool = True
    hog_rerank: bool = True
    hog_crop: int = 160
    hog_fallback_side: int = 640
    hog_min_score: float = 0.0
    red_fallback: bool = True


@dataclass(frozen=True)
class FaceHit:
    """The best face at one candidate angle.

    Attributes:
        angle: the candidate rotation, degrees clockwise.
        confidence: MTCNN's probability (0-1); for a HOG fallback face, its SVM margin clipped to 0-1.
        upright: MTCNN's landmarks are upright (always true for HOG, which finds upright faces only).
        box: x0, y0, x1, y1 in pixels of the work image (long side ``work_side``) turned by ``angle``.
        hog: dlib HOG's margin for this face (``None``: not scored; ``-inf``: HOG sees no face there).
        source: ``"mtcnn"`` or ``"hog"`` (the fallback).
    """

    angle: int
    confidence: float
    upright: bool
    box: tuple[float, float, float, float]
    hog: float | None = None
    source: str = "mtcnn"

    def score(self, landmark_weight: float) -> float:
        return self.confidence + (landmark_weight if self.upright else -landmark_weight)


class OrientationSource(str, enum.Enum):
    """What told the document's rotation: its portrait (MTCNN, or HOG where MTCNN saw none), its MRZ, or the
    PDF417 symbol of a licence back; ``none`` when nothing did (angle 0 is then no finding)."""

    FACE = "face"
    MRZ = "mrz"
    BARCODE = "barcode"
    NONE = "none"


@dataclass(frozen=True)
class Orientation:
    """Which rotation makes the document upright.

    Attributes:
        angle: clockwise rotation, degrees, that the capture applied; :func:`rotate` undoes it.
        confidence: score margin of the winner over the runner-up, in ``[0, 1]`` (0 when no face); when HOG
            decided between angles, the HOG margin difference clipped to ``[0, 1]``.
        face_found: whether any candidate angle had a face.
        hits: the best face per angle (for debugging).
        source: what told the angle (the portrait, or where there is none, the MRZ or a PDF417).
    """

    angle: int
    confidence: float
    face_found: bool
    hits: tuple[FaceHit, ...] = field(default=())
    source: OrientationSource = OrientationSource.NONE


def rotate(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate ``image`` counter-clockwise by ``angle`` degrees (undoing a clockwise capture rotation).

    Multiples of 90 are exact (no resampling); other angles expand the canvas to keep every pixel.
    """
    a = int(round(angle)) % 360
    if a % 90 == 0 and float(angle).is_integer():
        return np.ascontiguousarray(np.rot90(image, k=a // 90))
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _upright(face: dict) -> bool:
    kp = face.get("keypoints") or {}
    try:
        le, re_, nose = kp["left_eye"], kp["right_eye"], kp["nose"]
        ml, mr = kp["mouth_left"], kp["mouth_right"]
    except KeyError:
        return False
    eye_y = (le[1] + re_[1]) / 2
    mouth_y = (ml[1] + mr[1]) / 2
    return le[0] < re_[0] and eye_y < nose[1] < mouth_y and (mouth_y - eye_y) > 0.5 * abs(re_[0] - le[0])


class FaceOrientation:
    """``image -> Orientation``: MTCNN on the photo turned by each candidate angle; the best-scoring wins.

    Args:
        cfg: tunables.
        detector: an ``mtcnn.MTCNN`` (created on first use when omitted, with its networks compiled by
            :func:`pipelines.face.detect_graph.graph_mtcnn`; its weights ship in the wheel).
        hog: dlib's frontal face detector (created on first use when omitted; built into dlib, no file).
    """

    def __init__(self, cfg: OrientationConfig | None = None, detector: object | None = None,
                 hog: object | None = None) -> None:
        self.cfg = cfg or OrientationConfig()
        self._detector = detector
        self._hog = hog

    @property
    def hog(self):
        if self._hog is None:
            import dlib

            self._hog = dlib.get_frontal_face_detector()
        return self._hog

    @property
    def detector(self):
        if self._detector is None:
            try:
                self._detector = graph_mtcnn()  # networks as compiled graphs: same faces, ~40 % less time
            except ModelError as exc:
                raise StageError(str(exc)) from exc
        return self._detector

    def _detect(self, turned: list[np.ndarray]) -> list[list[dict]]:
        """MTCNN's faces in each turned image: one batch per image shape (0/180 and 90/270 share one), so no
        image is padded to another's shape (padding a landscape and a portrait image to a square adds 25-75 %
        more pixels to every pyramid level); one call per image when ``batch`` is off."""
        if not self.cfg.batch:
            return [self.detector.detect_faces(t, min_face_size=self.cfg.min_face_size) for t in turned]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, t in enumerate(turned):
            groups.setdefault(t.shape, []).append(i)
        out: list[list[dict]] = [[] for _ in turned]
        for idx in groups.values():
            found = self.detector.detect_faces([turned[i] for i in idx], min_face_size=self.cfg.min_face_size)
            for i, faces in zip(idx, found):
                out[i] = faces
        return out

    def __call__(self, image: np.ndarray) -> Orientation:
        """Find the upright angle of an ``HxWx3`` uint8 RGB photo."""
        h, w = image.shape[:2]
        s = min(1.0, self.cfg.work_side / max(h, w))
        small = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        hits = []
        turned_all = [rotate(small, angle) for angle in self.cfg.angles]
        try:
            per_angle = self._detect(turned_all)
        except (ValueError, RuntimeError) as exc:
            raise StageError(f"MTCNN failed: {exc}") from exc
        for angle, faces in zip(self.cfg.angles, per_angle):
            faces = [f for f in faces or [] if float(f.get("confidence", 0.0)) >= self.cfg.min_confidence]
            if not faces:
                continue
            best = max(faces, key=lambda f: float(f["confidence"]) + (self.cfg.landmark_weight if _upright(f) else 0))
            x, y, bw, bh = (float(v) for v in best["box"])
            hits.append(FaceHit(angle, float(best["confidence"]), _upright(best), (x, y, x + bw, y + bh)))
        if not hits:
            return Orientation(0, 0.0, False, ())
        if self.cfg.hog_rerank and len(hits) > 1:
            hits = [replace(hit, hog=self._hog_score(turned_all[self.cfg.angles.index(hit.angle)], hit.box))
                    for hit in hits]
            scored = sorted(hits, key=lambda hit: (-hit.hog, -hit.score(self.cfg.landmark_weight)))
            if np.isfinite(scored[0].hog):
                second = scored[1].hog if np.isfinite(scored[1].hog) else -1.0
                return Orientation(scored[0].angle, float(np.clip(scored[0].hog - second, 0.0, 1.0)), True, tuple(hits),
                                   OrientationSource.FACE)
        ranked = sorted(hits, key=lambda hit: -hit.score(self.cfg.landmark_weight))
        top = ranked[0].score(self.cfg.landmark_weight)
        second = ranked[1].score(self.cfg.landmark_weight) if len(ranked) > 1 else 0.0
        margin = float(np.clip((top - second) / (1.0 + self.cfg.landmark_weight), 0.0, 1.0))
        return Orientation(ranked[0].angle, margin, True, tuple(hits), OrientationSource.FACE)

    def _hog_score(self, turned: np.ndarray, box: tuple[float, float, float, float]) -> float:
        """dlib HOG's best margin in a square of twice the face's size around ``box`` (``-inf``: no face)."""
        x0, y0, x1, y1 = box
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
        ih, iw = turned.shape[:2]
        crop = turned[int(max(0, cy - r)):int(min(ih, cy + r)), int(max(0, cx - r)):int(min(iw, cx + r))]
        if crop.size == 0:
            return -np.inf
        k = self.cfg.hog_crop / max(crop.shape[:2])
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k))))
        _, scores, _ = self.hog.run(np.ascontiguousarray(crop), 0, -1.0)
        return float(max(scores, default=-np.inf))

    def fallback(self, image: np.ndarray) -> Orientation:
        """For a photo where MTCNN found no face: MTCNN on its red channel (``red_fallback``), then dlib HOG at
        every candidate angle, where the face with the highest margin wins (``face_found`` false when neither
        finds one, or both are off).

        Separate from :meth:`__call__` so that a caller can first rule out a document with no portrait (a
        licence back, whose barcode reads), where a fallback could only find false faces.
        """
        if self.cfg.red_fallback:
            red = self(np.repeat(image[..., :1], 3, axis=2))
            if red.face_found:
                return red
        if self.cfg.hog_fallback_side <= 0:
            return Orientation(0, 0.0, False, ())
        h, w = image.shape[:2]
        work_scale = min(1.0, self.cfg.work_side / max(h, w))
        s = min(1.0, self.cfg.hog_fallback_side / max(h, w))
        small = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        k = work_scale / s  # HOG image -> work image
        hits = []
        for angle in self.cfg.angles:
            rects, scores, _ = self.hog.run(rotate(small, angle), 0, self.cfg.hog_min_score)
            if len(scores):
                i = int(np.argmax(scores))
                d = rects[i]
                box = (d.left() * k, d.top() * k, d.right() * k, d.bottom() * k)
                hits.append(FaceHit(angle, float(np.clip(scores[i], 0.0, 1.0)), True, box, float(scores[i]), "hog"))
        if not hits:
            return Orientation(0, 0.0, False, ())
        ranked = sorted(hits, key=lambda hit: -hit.hog)
        second = ranked[1].hog if len(ranked) > 1 else self.cfg.hog_min_score
        return Orientation(ranked[0].angle, float(np.clip(ranked[0].hog - second, 0.0, 1.0)), True, tuple(hits),
                           OrientationSource.FACE)
