"""Decode CRAFT region/affinity maps into word quadrilaterals (CRAFT paper, section 3.3).

Threshold the region and affinity scores, join them into one binary map, label its
connected components (one per word: affinity links the characters of a word, spaces
have none), drop weak or tiny components, grow each to the character extent and fit a
minimum-area rectangle. Boxes come back in input-image pixels as :class:`veid.types.Quad`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.craft import CraftMaps
from veid.types import Quad


@dataclass(frozen=True)
class WordBoxConfig:
    """Thresholds of the word-box decoding (mirrors ``params.yaml: doc_eval.decode``).

    Attributes:
        region_low: region score above which a pixel belongs to a character.
        affinity_low: affinity score above which a pixel links two characters.
        region_peak: a component is kept only if its highest region score exceeds this.
        min_area: smallest component kept, in map pixels.
        expand: the fitted rectangle grows by ``expand * its height`` at the top and at the
            bottom (the thresholded core of a Gaussian is smaller than the character box).
        expand_x: ... and by ``expand_x * its height`` at the left and right ends. Heights are
            measured along the rectangle side closer to vertical (text is upright here).
        glyph_ratio: a component narrower than ``glyph_ratio`` x its height is one thin glyph
            (a lone "/", "1", "I"; 0 turns this off). Its core is one or two map pixels wide,
            so a box fitted to the thresholded pixels is off by a pixel (half its width); it
            is sized from the region peak's half-maximum width and height instead, which
            interpolates between pixels. The targets are Gaussians of sigma = side / 4, so the
            half-maximum width is 0.59 x the glyph's side; the factors below are tuned on val.
        glyph_peak: thin glyphs need only this region peak (CRAFT scores them lower).
        glyph_min_area: ... and only this many map pixels.
        glyph_width: a thin glyph's box width = this x the peak's half-maximum width.
        glyph_height: ... and its height = this x the half-maximum height.
    """

    region_low: float = 0.4
    affinity_low: float = 0.5
    region_peak: float = 0.7
    min_area: int = 4
    expand: float = 0.25
    expand_x: float = 0.08
    glyph_ratio: float = 0.8
    glyph_peak: float = 0.4
    glyph_min_area: int = 2
    glyph_width: float = 1.1
    glyph_height: float = 1.7


def order_clockwise(points: np.ndarray) -> np.ndarray:
    """Order 4 corners clockwise from the top-left (image coords, y down)."""
    pts = np.asarray(points, dtype=np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # increasing angle = clockwise on screen (y down)
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)


def _rect_quad(ys: np.ndarray, xs: np.ndarray, expand: float, expand_x: float) -> np.ndarray:
    """Minimum-area rectangle of pixel set (row, col indices) as 4 corners in map pixels."""
    import cv2

    # Pixel (r, c) covers [c, c+1) x [r, r+1): fit the rectangle to pixel centres then add 1.
    pts = np.stack([xs + 0.5, ys + 0.5], axis=1).astype(np.float32)
    (cx, cy), (w, h), angle = cv2.minAreaRect(pts)
    w, h = w + 1.0, h + 1.0
    # Grow by a fraction of the text *height*: the rectangle side closer to vertical
    # (not the shorter side, which for a lone "/" or "1" is its width).
    theta = np.deg2rad(angle)
    if abs(np.sin(theta)) > abs(np.cos(theta)):  # OpenCV's "w" side is the vertical one
        w, h = w + 2.0 * expand * w, h + 2.0 * expand_x * w
    else:
        w, h = w + 2.0 * expand_x * h, h + 2.0 * expand * h
    box = cv2.boxPoints(((cx, cy), (w, h), angle))
    # Nearly axis-aligned: snap to the axis-aligned box (documents here are upright).
    if abs((angle % 90.0)) < 1.0 or abs((angle % 90.0) - 90.0) < 1.0:
        x0, y0 = box[:, 0].min(), box[:, 1].min()
        x1, y1 = box[:, 0].max(), box[:, 1].max()
        box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
    return order_clockwise(box)


def half_max_span(profile: np.ndarray, peak: int) -> tuple[float, float]:
    """Where ``profile`` falls to half its value at ``peak`` on either side, linearly
    interpolated between samples (pixel ``i`` is centred at ``i + 0.5``). The walk stops
    where the profile rises again, so a neighbouring glyph does not widen the span."""
    half = profile[peak] / 2.0

    def edge(step: int) -> float:
        i = peak
        while 0 <= i + step < len(profile) and half < profile[i + step] <= profile[i]:
            i += step
        j = i + step
        if not 0 <= j < len(profile) or profile[j] > half:
            return i + 0.5 + 0.5 * step  # ran off the map or into a neighbour: the pixel edge
        return i + 0.5 + step * (profile[i] - half) / (profile[i] - profile[j])

    return edge(-1), edge(1)


def _glyph_quad(region: np.ndarray, py: int, px: int, width: float, height: float) -> np.ndarray:
    """Axis-aligned box of one thin glyph centred on its half-maximum spans, in map pixels."""
    x0, x1 = half_max_span(region[py, :], px)
    y0, y1 = half_max_span(region[:, px], py)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    hw, hh = width * (x1 - x0) / 2.0, height * (y1 - y0) / 2.0
    return np.array([[cx - hw, cy - hh], [cx + hw, cy - hh], [cx + hw, cy + hh], [cx - hw, cy + hh]], np.float32)


def decode_word_boxes(maps: CraftMaps, cfg: WordBoxConfig = WordBoxConfig()) -> list[Quad]:
    """Word quadrilaterals in input-image pixel coordinates, sorted top-to-bottom, left-to-right.

    Args:
        maps: CRAFT output; ``maps.scale`` converts map pixels to input pixels.
        cfg: thresholds.
    """
    import cv2

    region, affinity = maps.region, maps.affinity
    text = region > cfg.region_low
    link = affinity > cfg.affinity_low
    binary = (text | link).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=4)
    quads: list[Quad] = []
    for k in range(1, n):
        x, y, w, h = (stats[k, i] for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
        glyph = w < cfg.glyph_ratio * h
        if stats[k, cv2.CC_STAT_AREA] < (cfg.glyph_min_area if glyph else cfg.min_area):
            continue
        comp = labels[y : y + h, x : x + w] == k
        scores = np.where(comp, region[y : y + h, x : x + w], 0.0)
        if scores.max() < (cfg.glyph_peak if glyph else cfg.region_peak):
            continue
        if glyph:
            py, px = np.unravel_index(int(np.argmax(scores)), scores.shape)
            quad = _glyph_quad(region, y + int(py), x + int(px), cfg.glyph_width, cfg.glyph_height)
        else:
            # Keep character pixels and the links between them; isolated link blobs add nothing.
            ys, xs = np.nonzero(comp)
            quad = _rect_quad(ys + y, xs + x, cfg.expand, cfg.expand_x)
        quads.append(Quad.from_array(quad * maps.scale))
    quads.sort(key=lambda q: (round(q.bounds().y0 / (maps.scale * 4)), q.bounds().x0))
    return quads


def quad_iou(a: Quad, b: Quad) -> float:
    """Intersection over union of two convex quadrilaterals (0 when disjoint)."""
    import cv2

    pa = a.to_array().astype(np.float32)
    pb = b.to_array().astype(np.float32)
    area_a, area_b = abs(cv2.contourArea(pa)), abs(cv2.contourArea(pb))
    if area_a <= 0 or area_b <= 0:
        return 0.0
    ba, bb = a.bounds(), b.bounds()
    if ba.x1 <= bb.x0 or bb.x1 <= ba.x0 or ba.y1 <= bb.y0 or bb.y1 <= ba.y0:
        return 0.0
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass(frozen=True)
class MatchCounts:
    """One-to-one matches between predicted and true boxes at an IoU threshold."""

    matched: int
    predicted: int
    truth: int

    def __add__(self, other: "MatchCounts") -> "MatchCounts":
        return MatchCounts(self.matched + other.matched, self.predicted + other.predicted, self.truth + other.truth)

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 0.0

    @property
    def hmean(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def match_boxes(pred: list[Quad], truth: list[Quad], iou_threshold: float = 0.5) -> MatchCounts:
    """Greedy one-to-one matching by descending IoU (ICDAR-style detection counting)."""
    pairs = []
    if pred and truth:
        bp = np.array([q.bounds().to_list() for q in pred])
        bt = np.array([q.bounds().to_list() for q in truth])
        overlap = (
            (bp[:, None, 0] < bt[None, :, 2]) & (bt[None, :, 0] < bp[:, None, 2])
            & (bp[:, None, 1] < bt[None, :, 3]) & (bt[None, :, 1] < bp[:, None, 3])
        )
        for i, j in zip(*np.nonzero(overlap)):
            iou = quad_iou(pred[i], truth[j])
            if iou >= iou_threshold:
                pairs.append((iou, int(i), int(j)))
    pairs.sort(reverse=True)
    used_p, used_t = set(), set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
    return MatchCounts(len(used_p), len(pred), len(truth))
