"""Tests for decoding CRAFT maps into word boxes and for box matching."""

from __future__ import annotations

import numpy as np
import pytest

from models.boxes import WordBoxConfig, decode_word_boxes, match_boxes, order_clockwise, quad_iou
from models.craft import CraftMaps
from training.targets import region_affinity_maps
from veid.types import Box, Quad


def _chars(x0: float, y0: float, n: int, w: float = 8, h: float = 14, gap: float = 1) -> list[np.ndarray]:
    out = []
    for i in range(n):
        a = x0 + i * (w + gap)
        out.append(np.array([[a, y0], [a + w, y0], [a + w, y0 + h], [a, y0 + h]], np.float32))
    return out


def test_hand_made_maps_decode_to_one_box_per_word_in_input_pixels():
    words = [_chars(10, 10, 5), _chars(70, 10, 3), _chars(20, 50, 6)]
    region, affinity = region_affinity_maps(words, (80, 120))
    maps = CraftMaps(region, affinity, scale=2.0, image_size=(240, 160))
    quads = decode_word_boxes(maps, WordBoxConfig())
    assert len(quads) == 3
    truth = [Quad.from_box(Box(c[0][0, 0] * 2, c[0][0, 1] * 2, c[-1][1, 0] * 2, c[-1][2, 1] * 2)) for c in words]
    counts = match_boxes(quads, truth, 0.5)
    assert counts.matched == 3
    for q in quads:  # clockwise from top-left
        a = q.to_array()
        assert a[0, 0] < a[1, 0] and a[0, 1] < a[3, 1]


def test_words_separated_by_a_space_stay_separate():
    words = [_chars(10, 10, 4), _chars(10 + 4 * 9 + 6, 10, 4)]  # 6-px space between words
    region, affinity = region_affinity_maps(words, (40, 120))
    quads = decode_word_boxes(CraftMaps(region, affinity, scale=1.0), WordBoxConfig())
    assert len(quads) == 2


def test_empty_and_weak_maps_give_no_boxes():
    z = np.zeros((32, 32), np.float32)
    assert decode_word_boxes(CraftMaps(z, z), WordBoxConfig()) == []
    weak = z.copy()
    weak[10:20, 10:20] = 0.5  # above region_low but never reaches region_peak
    assert decode_word_boxes(CraftMaps(weak, z), WordBoxConfig(region_peak=0.7)) == []


def test_quad_iou_and_matching_counts():
    a = Quad.from_box(Box(0, 0, 10, 10))
    b = Quad.from_box(Box(5, 0, 15, 10))
    assert abs(quad_iou(a, b) - 1 / 3) < 1e-6
    assert quad_iou(a, Quad.from_box(Box(20, 20, 30, 30))) == 0.0
    c = match_boxes([a, b], [a], 0.5)
    assert (c.matched, c.predicted, c.truth) == (1, 2, 1)
    assert c.precision == 0.5 and c.recall == 1.0 and abs(c.hmean - 2 / 3) < 1e-9


def test_order_clockwise_from_top_left():
    pts = np.array([[10, 10], [0, 10], [0, 0], [10, 0]], float)
    assert order_clockwise(pts).tolist() == [[0, 0], [10, 0], [10, 10], [0, 10]]


def test_a_lone_narrow_character_gets_a_box_of_text_height():
    # a "/" between words: 4 px wide, 14 px tall cell; growth follows the text height, not the short side
    words = [_chars(10, 10, 1, w=4, h=14)]
    region, affinity = region_affinity_maps(words, (40, 40))
    quads = decode_word_boxes(CraftMaps(region, affinity, scale=1.0), WordBoxConfig())
    assert len(quads) == 1
    b = quads[0].bounds()
    assert 11 <= b.height <= 17 and b.width < 8
    assert quad_iou(quads[0], Quad.from_box(Box(10, 10, 14, 24))) >= 0.5


def _gaussian_glyph(shape: tuple[int, int], box: tuple[float, float, float, float], peak: float) -> np.ndarray:
    """Region map of one glyph box (x0, y0, x1, y1) as the targets draw it: sigma = side / 4."""
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[: shape[0], : shape[1]] + 0.5
    sx, sy = (x1 - x0) / 4, (y1 - y0) / 4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (peak * np.exp(-((xx - cx) ** 2) / (2 * sx**2) - (yy - cy) ** 2 / (2 * sy**2))).astype(np.float32)


def test_half_max_span_interpolates_between_pixels_and_stops_at_a_neighbour():
    from models.boxes import half_max_span

    x = np.arange(20) + 0.5
    profile = np.exp(-((x - 7.3) ** 2) / (2 * 1.5**2))
    left, right = half_max_span(profile, int(np.argmax(profile)))
    fwhm = 2 * np.sqrt(2 * np.log(2)) * 1.5
    assert (left + right) / 2 == pytest.approx(7.3, abs=0.15)
    assert right - left == pytest.approx(fwhm, abs=0.3)
    bumpy = profile + 0.9 * np.exp(-((x - 11.0) ** 2) / (2 * 0.8**2))  # a neighbour close on the right
    l2, r2 = half_max_span(bumpy, int(np.argmax(profile)))
    assert l2 == pytest.approx(left, abs=0.01) and r2 < 11.0


def test_a_thin_glyph_between_words_gets_a_box_that_fits_it():
    # A lone "/" 1.5 map px wide and 7.5 tall, as in "Surname / Nom": its thresholded core is
    # one pixel wide, so a rectangle fitted to pixels misses it; the half-maximum box fits.
    truth = (20.3, 10.0, 21.8, 17.5)
    region = _gaussian_glyph((30, 40), truth, peak=0.9)  # no pixel centre sits on the peak: all score < 0.6
    maps = CraftMaps(region, np.zeros_like(region), scale=2.0, image_size=(80, 60))
    true_quad = Quad.from_box(Box(*(2 * v for v in truth)))
    assert region.max() < 0.6
    quads = decode_word_boxes(maps, WordBoxConfig(region_peak=0.6, glyph_peak=0.4))
    assert len(quads) == 1 and quad_iou(quads[0], true_quad) >= 0.6
    off = decode_word_boxes(maps, WordBoxConfig(region_peak=0.6, glyph_ratio=0.0))
    assert not off or quad_iou(off[0], true_quad) < quad_iou(quads[0], true_quad)
