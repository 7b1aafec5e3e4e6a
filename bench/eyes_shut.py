"""Synthetic closed eyes for measuring the ``face.quality.eyes_open`` gate (no closed-eye photos are in the data).

Each real photo gets its eyes painted shut: the eye (dlib's 68-point eye contour, slightly grown) is
inpainted from the skin around it and a dark lid line is drawn through the corners. This is a stand-in
for a closed eye, not one: real closed eyes have lashes and creases this leaves out, so the rates it
gives say how the gate behaves on that stand-in and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from pipelines.face.quality import LEFT_EYE, RIGHT_EYE
from veid.errors import InputError

_EYES = (list(LEFT_EYE), list(RIGHT_EYE))


def paint_eyes_shut(rgb: np.ndarray, points68: np.ndarray) -> np.ndarray:
    """A copy of ``rgb`` with both eyes inpainted and a lid line drawn along the lower lid."""
    out = rgb.copy()
    mask = np.zeros(rgb.shape[:2], np.uint8)
    for idx in _EYES:
        width = float(np.linalg.norm(points68[idx[3]] - points68[idx[0]]))
        eye = np.zeros_like(mask)
        cv2.fillPoly(eye, [points68[idx].astype(np.int32)], 255)
        mask |= cv2.dilate(eye, np.ones((3, 3), np.uint8), iterations=max(1, int(width * 0.12)))
    out = cv2.inpaint(out, mask, 5, cv2.INPAINT_TELEA)
    for idx in _EYES:
        width = float(np.linalg.norm(points68[idx[3]] - points68[idx[0]]))
        lid = points68[[idx[0], idx[5], idx[4], idx[3]]].copy()
        lid[1:3, 1] -= 0.1 * width  # a closed lid sits a little above the open eye's lower lid
        cv2.polylines(out, [lid.astype(np.int32).reshape(-1, 1, 2)], False, (40, 30, 30),
                      max(1, int(round(width * 0.08))), cv2.LINE_AA)
    return out


@dataclass(frozen=True)
class EyesGateResult:
    """How many photos the gate flagged, open and painted shut (photos where no face was found are left out)."""

    photos: int
    open_flagged: int
    shut_flagged: int
    shut_no_face: int
    open_ear_median: float
    shut_ear_median: float


def measure_eyes_gate(verifier, images: Iterable[np.ndarray]) -> EyesGateResult:
    """Run the verifier's own quality gates on each photo and on its painted-shut copy."""
    opened, shut, no_face, ear_open, ear_shut = 0, 0, 0, [], []
    n = 0
    for rgb in images:
        try:
            obs = verifier.observe(rgb)
        except InputError:  # no face: not counted
            continue
        n += 1
        ear_open.append(obs.quality.measures.eye_aspect_ratio)
        opened += not _eyes_open(obs)
        painted = paint_eyes_shut(rgb, verifier.assess.landmarks68(rgb, obs.aligned.face))
        try:
            obs = verifier.observe(painted)
        except InputError:
            no_face += 1
            continue
        ear_shut.append(obs.quality.measures.eye_aspect_ratio)
        shut += not _eyes_open(obs)
    return EyesGateResult(n, opened, shut, no_face, float(np.median(ear_open)) if ear_open else float("nan"),
                          float(np.median(ear_shut)) if ear_shut else float("nan"))


def _eyes_open(obs) -> bool:
    return next(c.passed for c in obs.quality.checks if c.name == "face.quality.eyes_open")
