"""Passive liveness signals: screen texture, print look, and a selfie that is the document portrait."""

from __future__ import annotations

import cv2
import numpy as np

from pipelines.face.image_io import load_rgb
from pipelines.face.liveness import LivenessConfig, PresentationAttackSignals, identical_portrait_check, texture_measures
from pipelines.face.verify import FaceConfig
from veid.config import load_section


def _cfg(repo_root) -> LivenessConfig:
    return load_section(repo_root / "params.yaml", "face", FaceConfig).liveness


def test_real_photo_is_not_flagged(repo_root, shared_data):
    img = load_rgb(shared_data / "faces" / "B001260_2.jpg")
    img = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    screen, printed = PresentationAttackSignals(_cfg(repo_root))(img)
    assert screen.passed and printed.passed


def test_moire_screen_texture_is_flagged(repo_root, shared_data):
    from training.synth_texture import moire

    img = load_rgb(shared_data / "faces" / "B001260_2.jpg")
    img = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    cfg = _cfg(repo_root)
    attacked = moire(img, np.random.default_rng(3))
    assert texture_measures(attacked, cfg).periodic_peak > texture_measures(img, cfg).periodic_peak
    screen, _ = PresentationAttackSignals(cfg)(attacked)
    assert not screen.passed and "periodic" in screen.reason


def test_washed_out_print_is_flagged(repo_root):
    cfg = _cfg(repo_root)
    flat = np.full((300, 400, 3), (120, 118, 116), np.uint8)  # grey paper, no deep black, no colour
    _, printed = PresentationAttackSignals(cfg)(flat)
    assert not printed.passed and "print-like" in printed.reason
    vivid = flat.copy()
    vivid[100:200, 100:300] = (10, 10, 10)  # deep black ink
    vivid[:50] = (200, 30, 30)
    _, printed = PresentationAttackSignals(cfg)(vivid)
    assert printed.passed


def test_identical_portrait_signal(repo_root, shared_data):
    from pipelines.face.models import FaceModels
    from pipelines.face.verify import FaceCalibration, FaceVerifier

    cfg = load_section(repo_root / "params.yaml", "face", FaceConfig)
    v = FaceVerifier(cfg, FaceModels.load(hash_files=False), FaceCalibration(0.5, 0.001, 10.0, 0.0))
    first = load_rgb(shared_data / "faces" / "B001260_1.jpg")
    second = load_rgb(shared_data / "faces" / "B001260_2.jpg")
    # the same portrait, re-photographed: blurred, darker, JPEG-compressed, slightly rotated
    m = cv2.getRotationMatrix2D((first.shape[1] / 2, first.shape[0] / 2), 4, 1.1)
    rephoto = cv2.warpAffine(cv2.GaussianBlur(first, (0, 0), 1.2), m, (first.shape[1], first.shape[0]),
                             borderMode=cv2.BORDER_REPLICATE)
    rephoto = cv2.imdecode(cv2.imencode(".jpg", (rephoto * 0.8).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 60])[1],
                           cv2.IMREAD_UNCHANGED)
    a, b, c = (v.observe(x).aligned.chip for x in (first, second, rephoto))
    assert identical_portrait_check(a, b, cfg.liveness).passed  # two sittings of one person
    flagged = identical_portrait_check(a, c, cfg.liveness)
    assert not flagged.passed and "document portrait itself" in flagged.reason
