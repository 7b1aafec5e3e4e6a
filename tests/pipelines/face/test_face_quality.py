"""Quality gates: each bad condition fails its own check with a reason; good dev photos pass."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipelines.face.image_io import load_rgb
from pipelines.face.quality import eye_aspect_ratio, head_yaw_deg
from pipelines.face.verify import FaceCalibration, FaceConfig, FaceVerifier
from veid.config import load_section


@pytest.fixture(scope="module")
def verifier(repo_root):
    from pipelines.face.models import FaceModels

    cfg = load_section(repo_root / "params.yaml", "face", FaceConfig)
    cal = FaceCalibration(threshold=0.5, target_far=0.001, logistic_slope=10.0, logistic_offset=0.0)
    return FaceVerifier(cfg, FaceModels.load(hash_files=False), cal)


@pytest.fixture(scope="module")
def photo(shared_data):
    return load_rgb(shared_data / "faces" / "B001260_2.jpg")


def _failed(obs):
    return {c.name: c.reason for c in obs.quality.checks if not c.passed}


def test_good_photo_passes_every_gate(verifier, photo):
    obs = verifier.observe(photo)
    assert obs.quality.passed, _failed(obs)


def test_blurred_face_fails_sharpness(verifier, photo):
    failed = _failed(verifier.observe(cv2.GaussianBlur(photo, (0, 0), 4)))
    assert "face.quality.sharpness" in failed and "blurred" in failed["face.quality.sharpness"]


def test_small_face_fails_size(verifier, photo):
    small = cv2.resize(photo, None, fx=0.18, fy=0.18, interpolation=cv2.INTER_AREA)
    canvas = np.full((200, 200, 3), 200, np.uint8)
    canvas[:small.shape[0], :small.shape[1]] = small
    failed = _failed(verifier.observe(canvas))
    assert "face.quality.size" in failed and "too small" in failed["face.quality.size"]


def test_two_faces_fail_single_face(verifier, photo, shared_data):
    other = load_rgb(shared_data / "faces" / "B001260_1.jpg")
    other = cv2.resize(other, (photo.shape[1], photo.shape[0]))
    failed = _failed(verifier.observe(np.hstack([photo, other])))
    assert "face.quality.single_face" in failed and "2 faces" in failed["face.quality.single_face"]


def test_eye_aspect_ratio_open_and_closed():
    open_eye = np.array([[0, 0], [3, -1.5], [7, -1.5], [10, 0], [7, 1.5], [3, 1.5]], float)
    closed = np.array([[0, 0], [3, -0.3], [7, -0.3], [10, 0], [7, 0.3], [3, 0.3]], float)
    assert eye_aspect_ratio(open_eye) == pytest.approx(0.3)
    assert eye_aspect_ratio(closed) == pytest.approx(0.06)


def test_head_yaw_from_landmarks():
    pts = np.zeros((68, 2))
    pts[0], pts[16] = (0.0, 50.0), (100.0, 50.0)
    pts[30] = (50.0, 60.0)
    assert head_yaw_deg(pts) == pytest.approx(0.0, abs=1e-6)
    pts[30] = (90.0, 60.0)  # nose near the right jaw end: head turned about 50 degrees
    assert head_yaw_deg(pts) > 35.0
