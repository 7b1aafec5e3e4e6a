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


class _EditedLandmarks:
    """A 68-point predictor that returns the real predictor's landmarks after ``edit`` (known geometry)."""

    def __init__(self, real, edit):
        self._real, self._edit = real, edit

    def __call__(self, image, rect):
        import types

        pts = np.asarray([(p.x, p.y) for p in self._real(image, rect).parts()], float)
        pts = self._edit(pts)
        return types.SimpleNamespace(parts=lambda: [types.SimpleNamespace(x=float(x), y=float(y)) for x, y in pts])


def _close_eyes(pts):
    """Put both eyelids of each eye on the segment between its corners: eye aspect ratio exactly 0."""
    pts = pts.copy()
    for start in (36, 42):
        c0, c3 = pts[start], pts[start + 3]
        pts[start + 1] = pts[start + 5] = c0 + (c3 - c0) / 3.0
        pts[start + 2] = pts[start + 4] = c0 + 2.0 * (c3 - c0) / 3.0
    return pts


def _turn_head(pts):
    """Move the nose tip to 90% of the way to the right jaw end: sin(yaw) = 0.8, yaw about 53 degrees."""
    pts = pts.copy()
    pts[30] = pts[0] + 0.9 * (pts[16] - pts[0])
    return pts


def _assess_with(verifier, photo, edit):
    from pipelines.face.quality import QualityAssessor

    assessor = QualityAssessor(verifier.cfg.quality, _EditedLandmarks(verifier.models.shape68, edit))
    faces = verifier.detect(photo)
    return assessor(photo, faces, verifier.align(photo, faces[0]))


def test_closed_eyes_fail_eyes_open_gate_only(verifier, photo):
    report = _assess_with(verifier, photo, _close_eyes)
    failed = {c.name: c.reason for c in report.checks if not c.passed}
    assert report.measures.eye_aspect_ratio == pytest.approx(0.0, abs=1e-9)
    assert set(failed) == {"face.quality.eyes_open"} and "eyes closed" in failed["face.quality.eyes_open"]


def test_turned_head_fails_yaw_gate_only(verifier, photo):
    report = _assess_with(verifier, photo, _turn_head)
    failed = {c.name: c.reason for c in report.checks if not c.passed}
    # nose 90% of the way from jaw end 0 to jaw end 16: (0.9 - 0.1) / (0.9 + 0.1) = sin(yaw) = 0.8
    assert report.measures.yaw_deg == pytest.approx(np.degrees(np.arcsin(0.8)), abs=0.01)
    assert set(failed) == {"face.quality.head_yaw"} and "turned" in failed["face.quality.head_yaw"]


def test_unedited_landmarks_pass_the_same_gates(verifier, photo):
    report = _assess_with(verifier, photo, lambda pts: pts)
    assert report.passed, {c.name: c.reason for c in report.checks if not c.passed}


def test_mirrored_photo_flips_the_yaw_sign(verifier, photo):
    """Known answer on a real photo: mirroring the image negates the head yaw (within landmark noise)."""
    yaw = verifier.observe(photo).quality.measures.yaw_deg
    yaw_mirrored = verifier.observe(np.ascontiguousarray(photo[:, ::-1])).quality.measures.yaw_deg
    assert abs(yaw) > 1.0
    assert yaw_mirrored == pytest.approx(-yaw, abs=3.0)
