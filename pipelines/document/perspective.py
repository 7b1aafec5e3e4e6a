"""Document quadrilateral detection and perspective warp to the canonical card or passport-page size."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, product

import cv2
import numpy as np

from models.boxes import quad_iou
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
            outline must hold the face and be far larger (the portrait photo's own frame, 6-8 face boxes,
            is not the card; the generator's cards are 12-30 face boxes, and the real specimens' data pages
            at least 19: the photo's whole frame is 19-89 on the 29 of ../shared/data/mrz-passporteye where
            MTCNN finds the face).
        max_corner_deviation: most degrees any corner of an outline may lie from a right angle: a
            document seen at a usable slant keeps its corners near 90 (the generator's captures: at most
            13); a wedge of text lines, glare and background edges does not.
        line_count: straight lines kept in each direction (longest first) to build outlines from as well: where
            regions of similar colour merge (a pale card on a pale blob of background) or a band inside the
            card (header, MRZ) stops a region, no region outlines the card, while its border is still straight.
            0: region outlines only.
        line_min_length: shortest line segment taken, fraction of the work image's long side.
        line_below_support: an outline of lines that scores higher replaces the best region outline whenever
            the region outline's sides lie on edges for less than this fraction of their length (a pale blob of
            background merged with the card); a better supported one only as ``line_replace_iou`` and
            ``line_grow_min_ink`` say (a smaller outline of lines is then a band inside the card, a header or
            MRZ band whose straight edge outscores the card's fainter border).
        line_replace_iou: ... and only where the two overlap less than this (IoU): one that differs by a pixel
            or two is not a better outline, and the stages after the warp were tuned on the region outlines.
        line_grow_min_ink: a larger outline of lines replaces the region outline only where this share of
            the band between them lies near edges (the card's print); a blank band is a sheet the card lies
            on (a print of it on paper: 0-0.11 on the seed-2 sample's print attacks, against 0.33-0.72 where
            the region outline had stopped at a header or MRZ band or at the portrait).
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
    min_face_ratio: float = 10.0
    line_count: int = 6
    line_min_length: float = 0.1
    line_below_support: float = 0.7
    line_replace_iou: float = 0.9
    line_grow_min_ink: float = 0.2


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


Line = tuple[float, float, float]


def _lines(small: np.ndarray, count: int, min_length: float) -> tuple[list[Line], list[Line]]:
    """The longest straight lines of an RGB image, ``count`` near-horizontal and ``count`` near-vertical ones,
    each as ``(theta, rho, length)``: direction angle in ``[0, pi)``, signed distance from the origin, and the
    length the line's segments cover (collinear segments, within 3 degrees and 4 pixels, are one line;
    overlapping ones count once, so the many short strokes along a row of text do not outweigh a border).
    Segments are found by OpenCV's LSD line segment detector in each CIELAB channel (a border may differ
    from the background in colour alone)."""
    long_side = max(small.shape[:2])
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    lsd = cv2.createLineSegmentDetector()
    found = [lsd.detect(lab[..., ch])[0] for ch in range(3)]
    segs = np.concatenate([f[:, 0] for f in found if f is not None] or [np.zeros((0, 4), np.float32)]).astype(float)
    segs = segs[np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1]) >= min_length * long_side]
    groups: list[tuple[float, float, list[tuple[float, float]]]] = []
    for x1, y1, x2, y2 in segs:
        theta = float(np.arctan2(y2 - y1, x2 - x1) % np.pi)
        for t, r, spans in groups:
            d = abs(t - theta)
            if min(d, np.pi - d) < np.radians(3) and abs(-x1 * np.sin(t) + y1 * np.cos(t) - r) < 4:
                break
        else:
            t, r, spans = theta, -x1 * np.sin(theta) + y1 * np.cos(theta), []
            groups.append((t, r, spans))
        u1, u2 = x1 * np.cos(t) + y1 * np.sin(t), x2 * np.cos(t) + y2 * np.sin(t)  # positions along the line
        spans.append((min(u1, u2), max(u1, u2)))
    lines = []
    for t, r, spans in groups:
        covered, end = 0.0, -np.inf
        for a, b in sorted(spans):
            covered += max(0.0, b - max(a, end))
            end = max(end, b)
        lines.append((t, r, covered))
    lines.sort(key=lambda line: -line[2])
    flat = [ln for ln in lines if min(ln[0], np.pi - ln[0]) < np.pi / 4][:count]
    steep = [ln for ln in lines if min(ln[0], np.pi - ln[0]) >= np.pi / 4][:count]
    return flat, steep


def _meet(a: Line, b: Line) -> np.ndarray | None:
    """Where two lines ``(theta, rho, _)`` cross, or ``None`` when they are (nearly) parallel."""
    m = np.array([[-np.sin(a[0]), np.cos(a[0])], [-np.sin(b[0]), np.cos(b[0])]])
    if abs(np.linalg.det(m)) < 0.2:
        return None
    return np.linalg.solve(m, np.array([a[1], b[1]]))


def _line_candidates(small: np.ndarray, count: int, min_length: float) -> list[np.ndarray]:
    """Outlines whose sides are two of the longest near-horizontal and two of the near-vertical lines: a
    card's border is straight even where its colour runs into the background's and no region outlines it."""
    h, w = small.shape[:2]
    flat, steep = _lines(small, count, min_length)
    out = []
    for (top, bottom), (left, right) in product(combinations(flat, 2), combinations(steep, 2)):
        pts = [_meet(top, left), _meet(top, right), _meet(bottom, right), _meet(bottom, left)]
        if any(p is None for p in pts):
            continue
        q = np.asarray(pts, np.float32)
        if (np.abs(q / (w, h) - 0.5) <= 0.55).all():  # corners in view, or just outside it
            out.append(q)
    return out


def _ink_between(outer: np.ndarray, inner: np.ndarray, near: np.ndarray) -> float:
    """Share of the pixels between two nested outlines that lie near an edge, 7 pixels clear of both
    outlines (their own edges do not count)."""
    band = np.zeros(near.shape, np.uint8)
    cv2.fillPoly(band, [np.round(outer).astype(np.int32)], 1)
    band = cv2.erode(band, np.ones((15, 15), np.uint8))
    hole = np.zeros_like(band)
    cv2.fillPoly(hole, [np.round(inner).astype(np.int32)], 1)
    band[cv2.dilate(hole, np.ones((15, 15), np.uint8)) > 0] = 0
    return float(near[band > 0].mean()) if band.any() else 0.0


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
        edges = _edges(small)
        near = cv2.dilate(edges, np.ones((7, 7), np.uint8)) > 0  # once per photo, not per candidate
        best, best_score = self._best(_candidates(small, edges), near, area, face_pts)
        if self.cfg.line_count:
            lines = _line_candidates(small, self.cfg.line_count, self.cfg.line_min_length)
            line_best, line_score = self._best(lines, near, area, face_pts)
            if line_score > best_score and (best is None or self._replaces(line_best, best, near)):
                best = line_best
        return None if best is None else Quad.from_array(best / s)

    def _replaces(self, line_quad: np.ndarray, region_quad: np.ndarray, near: np.ndarray) -> bool:
        """Whether an outline of lines that scores higher replaces the best region outline: always where the
        region outline is poorly supported by edges (``line_below_support``: a blob of background merged in);
        otherwise only where the two differ (``line_replace_iou``) and the line outline is larger, with print
        between them (``line_grow_min_ink``)."""
        if _edge_support(region_quad, near) < self.cfg.line_below_support:
            return True
        if quad_iou(Quad.from_array(line_quad), Quad.from_array(region_quad)) >= self.cfg.line_replace_iou:
            return False
        if cv2.contourArea(line_quad.astype(np.float32)) < cv2.contourArea(region_quad.astype(np.float32)):
            return False  # a well-outlined region outline holds it: a band inside the card (header, MRZ)
        # the region outline had stopped at a band inside the card (header, MRZ) or at the portrait: the band
        # between the two holds the card's print; a blank band is a sheet the card lies on (a print of it on
        # paper, a sleeve), whose outline is not the card's
        return _ink_between(line_quad, region_quad, near) >= self.cfg.line_grow_min_ink

    def _best(self, candidates: list[np.ndarray], near: np.ndarray, area: int,
              face_pts: np.ndarray | None) -> tuple[np.ndarray | None, float]:
        """The best card-shaped outline among ``candidates`` (work-image pixels) and its score (``None, 0`` when
        none is card-shaped): outlined by edges, and big."""
        best, best_score = None, 0.0
        for q in candidates:
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
            score = _edge_support(q, near) ** 2 * np.sqrt(frac)
            if score > best_score:
                best, best_score = q, score
        return best, best_score

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
