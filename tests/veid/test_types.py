"""Box and Quad geometry, CheckResult validation."""

from __future__ import annotations

import numpy as np
import pytest

from veid.types import Box, CheckResult, Quad


def test_box_geometry() -> None:
    a, b = Box(0, 0, 10, 10), Box(5, 5, 15, 15)
    assert a.iou(b) == pytest.approx(25 / 175)
    assert a.union(b) == Box(0, 0, 15, 15)
    assert a.expand(2, 1).clip(11, 100) == Box(0, 0, 11, 11)
    with pytest.raises(ValueError):
        Box(5, 0, 1, 1)


def test_quad_transform_and_bounds() -> None:
    quad = Quad.from_box(Box(0, 0, 4, 2))
    shifted = quad.transform(np.array([[1, 0, 10], [0, 1, 20]], dtype=float))
    assert shifted.bounds() == Box(10, 20, 14, 22)
    homography = np.array([[2, 0, 0], [0, 2, 0], [0, 0, 1]], dtype=float)
    assert quad.transform(homography).bounds() == Box(0, 0, 8, 4)


def test_check_result_score_range() -> None:
    assert not CheckResult("mrz.check_digits", False, 0.0, "composite digit wrong").passed
    with pytest.raises(ValueError):
        CheckResult("x", True, 1.5)
