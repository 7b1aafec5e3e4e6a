"""The painted-shut eyes of the eyes-closed gate benchmark change the eyes and nothing else."""

from __future__ import annotations

import numpy as np

from bench.eyes_shut import paint_eyes_shut
from pipelines.face.quality import LEFT_EYE, RIGHT_EYE


def _face_points() -> np.ndarray:
    pts = np.zeros((68, 2))
    for idx, cx in ((LEFT_EYE, 60.0), (RIGHT_EYE, 140.0)):  # six-point contours, 40 px wide, 12 px open
        pts[list(idx)] = [(cx - 20, 100), (cx - 8, 94), (cx + 8, 94), (cx + 20, 100), (cx + 8, 106), (cx - 8, 106)]
    return pts


def test_painting_replaces_the_dark_eyes_and_leaves_the_rest():
    rgb = np.full((200, 200, 3), 200, np.uint8)
    pts = _face_points()
    for cx in (60, 140):  # dark irises
        rgb[95:106, cx - 6:cx + 6] = 30
    out = paint_eyes_shut(rgb, pts)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert (rgb != out).any(axis=2)[:70].sum() == 0 and (rgb != out).any(axis=2)[130:].sum() == 0  # far from the eyes
    for cx in (60, 140):  # the iris is gone: its centre is skin again, brighter than the lid line
        assert out[97:99, cx - 2:cx + 2].mean() > 150
    assert out[99:106].min() < 120  # the lid line is drawn where the eye was
