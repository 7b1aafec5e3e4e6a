"""Document quadrilateral detection and perspective warp to the canonical card or passport-page size."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from veid.errors import InputError
from veid.types import Box, Quad


@dataclass(frozen=True)
class PerspectiveConfig:
    """Tunables (``params.yaml`` section ``document_perspective``).

    Attributes:
        work_side: long side, pixels, at which the outline is searched.
        min_area: smallest document, as a fraction of the photo's area.
        max_area: largest document (a photo that is all document has no outline), fraction.
        aspect_range: accepted long/short side ratios of the document.
        card_size: canonical ``(width, height)`` of ID-1 cards (ID cards, licences), pixels.
        page_size: canonical ``(width, height)`` of passport data pages (TD3), pixels.
        card_page_split: aspect ratio above which the document is taken for an ID-1 card.
        margin: fraction of each side trimmed after the warp (the card's rounded corners and border).
        min_face_ratio: least outline area, in face boxes, when the portrait's face is known: the
            outline must hold the face and be far larger (the portrait photo's own frame is not the card).
        max_corner_deviation: most degrees any corner of an outline may lie from a right angle: a
            document seen at a usable slant keeps its corners near 90 (the generator's captures: at most
            13); a wedge of text lines, glare and background edges does not.
    """

    work_side: int = 640
    min_area: float = 0.08
    max_area: float = 0.995
    aspect_range: tuple[float, float] = (1.2, 1.9)
    card_size: tuple[int, int] = (1012, 638)
    page_size: tuple[int, int] = (1250, 880)
    card_page_split: float = 1.5
    margin: float = 0.0
    max_corner_deviation: float = 30.0
    min_face_ratio: float = 6.0


@dataclass(frozen=True)
class WarpedDocument:
    """The document warped flat and upright.

    Attributes:
        image: ``HxWx3`` uint8 RGB, canonical size.
        quad: the document's corners in the (orientation-corrected) photo, clockwise from top-left.
        homography: 3x3 map from warped pixels to photo pixels.
        is_card: ID-1 card (True) or passport page (False), judged from the aspect ratio.
        whole_frame: True when no outline was found and the whole photo is taken as the document.
    """

    image: np.ndarray
    quad: Quad
    homography: np.ndarray
    is_card: bool
    whole_frame: bool = False


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise from the top-left (y down), the long side horizontal first."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coords starting near -pi (left)
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def _edges(small: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    edges = np.zeros(small.shape[:2], np.uint8)
    for ch in range(3):
        edges |= cv2.Canny(cv2.GaussianBlur(lab[..., ch], (5, 5), 0), 20, 60)
    return edges


def _candidates(small: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    masks = [cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))]
    _, pale = cv2.threshold(cv2.GaussianBlur(hsv[..., 1], (9, 9), 0), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(pale, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8)))
    _, bright = cv2.threshold(cv2.GaussianBlur(gray, (9, 9), 0), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8)))
    out = []
    for m in masks:
        contours, _ = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for c in sorted(contours, key=cv2.contourArea, reverse=True)[:6]:
            hull = cv2.convexHull(c)
            peri = cv2.arcLength(hull, True)
            for eps in (0.01, 0.02, 0.03, 0.05):
                approx = cv2.approxPolyDP(hull, eps * peri, True)
                if len(approx) == 4:
                    out.append(approx.reshape(4, 2).astype(np.float32))
                    break
            out.append(cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32))
    return out


def corner_deviation(quad: np.ndarray) -> float:
    """Largest difference, in degrees, between a corner of ``quad`` and a right angle."""
    worst = 0.0
    for i in range(4):
        a, b = quad[i - 1] - quad[i], quad[(i + 1) % 4] - quad[i]
        cos = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))
        worst = max(worst, abs(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))) - 90.0))
    return worst


def _holds(quad: np.ndarray, face: np.ndarray, min_ratio: float) -> bool:
    """Whether ``quad`` contains the centre of the ``face`` box and is ``min_ratio`` times its area (the box's
    corners may stick out: MTCNN's box of a portrait printed at the card's edge can cross it)."""
    poly = quad.reshape(-1, 1, 2).astype(np.float32)
    cx, cy = face.mean(axis=0)
    inside = cv2.pointPolygonTest(poly, (float(cx), float(cy)), False) >= 0
    return inside and cv2.contourArea(quad) >= min_ratio * cv2.contourArea(face)


def _edge_support(quad: np.ndarray, near: np.ndarray) -> float:
    """Fraction of points along the quad's sides that lie within 3 pixels of an edge (``near``: dilated edges)."""
    h, w = near.shape
    hits = total = 0
    for i in range(4):
        p, q = quad[i], quad[(i + 1) % 4]
        n = max(2, int(np.linalg.norm(q - p) / 2))
        pts = (p + np.linspace(0, 1, n)[:, None] * (q - p)).astype(int)
        x, y = pts[:, 0], pts[:, 1]
        inside = (0 <= x) & (x < w) & (0 <= y) & (y < h)
        total += n
        hits += int(near[y[inside], x[inside]].sum())
    return hits / max(total, 1)


class DocumentWarper:
    """``upright photo -> WarpedDocument``: find the card's outline and warp it to canonical size."""

    def __init__(self, cfg: PerspectiveConfig | None = None) -> None:
        self.cfg = cfg or PerspectiveConfig()

    def find_quad(self, image: np.ndarray, face: Box | None = None) -> Quad | None:
        """The document's outline in ``image`` pixels, or ``None`` when no card-shaped outline is seen.

        ``face``: the portrait's face box in ``image`` pixels, when known; outlines that do not hold it, or
        are not :attr:`PerspectiveConfig.min_face_ratio` times its area, are not the document.
        """
        h, w = image.shape[:2]
        s = min(1.0, self.cfg.work_side / max(h, w))
        face_pts = None if face is None else Quad.from_box(face).to_array().astype(np.float32) * s
        small = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        area = small.shape[0] * small.shape[1]
        best, best_score = None, 0.0
        edges = _edges(small)
        near = cv2.dilate(edges, np.ones((7, 7), np.uint8)) > 0  # once per photo, not per candidate
        for q in _candidates(small, edges):
            q = order_corners(q)
            frac = cv2.contourArea(q) / area
            sides = [np.linalg.norm(q[(i + 1) % 4] - q[i]) for i in range(4)]
            long_, short = max(sides[0] + sides[2], sides[1] + sides[3]), min(sides[0] + sides[2], sides[1] + sides[3])
            aspect = long_ / max(short, 1e-6)
            if not (self.cfg.min_area <= frac <= self.cfg.max_area):
                continue
            if not (self.cfg.aspect_range[0] <= aspect <= self.cfg.aspect_range[1]):
                continue
            if corner_deviation(q) > self.cfg.max_corner_deviation:
                continue
            if face_pts is not None and not _holds(q, face_pts, self.cfg.min_face_ratio):
                continue
            score = _edge_support(q, near) ** 2 * np.sqrt(frac)  # outlined by edges, and big
            if score > best_score:
                best, best_score = q, score
        return None if best is None else Quad.from_array(best / s)

    def __call__(self, image: np.ndarray, allow_whole_frame: bool = False, face: Box | None = None) -> WarpedDocument:
        """Warp the document of an upright photo.

        Args:
            image: ``HxWx3`` uint8 RGB, already turned upright.
            allow_whole_frame: when no outline is found, take the whole photo (a scan or a tight crop)
                instead of failing.
            face: the portrait's face box in ``image`` pixels, when known (see :meth:`find_quad`).

        Raises:
            InputError: no document outline in view (and ``allow_whole_frame`` is false).
        """
        quad = self.find_quad(image, face)
        whole = False
        h, w = image.shape[:2]
        if quad is None:
            aspect = max(h, w) / max(min(h, w), 1)
            if not allow_whole_frame or not (self.cfg.aspect_range[0] <= aspect <= self.cfg.aspect_range[1]):
                raise InputError("no document in view: no card- or page-shaped outline was found")
            quad, whole = Quad.from_array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]), True
        pts = quad.to_array().astype(np.float32)
        top = np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[3])
        side = np.linalg.norm(pts[3] - pts[0]) + np.linalg.norm(pts[2] - pts[1])
        if side > top:  # portrait outline: the long side should be horizontal once upright
            pts = np.roll(pts, -1, axis=0) if np.linalg.norm(pts[1] - pts[0]) < np.linalg.norm(pts[3] - pts[0]) else pts
            top, side = side, top
        aspect = top / max(side, 1e-6)
        is_card = aspect >= self.cfg.card_page_split
        tw, th = self.cfg.card_size if is_card else self.cfg.page_size
        mx, my = self.cfg.margin * tw, self.cfg.margin * th
        dst = np.float32([[-mx, -my], [tw - 1 + mx, -my], [tw - 1 + mx, th - 1 + my], [-mx, th - 1 + my]])
        to_flat = cv2.getPerspectiveTransform(pts, dst)
        flat = cv2.warpPerspective(image, to_flat, (tw, th), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return WarpedDocument(flat, Quad.from_array(pts), np.linalg.inv(to_flat), is_card, whole)
