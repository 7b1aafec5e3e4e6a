"""Camera capture simulation: a flat document placed on a background by a homography, then degraded."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training import synth_texture as tex


@dataclass(frozen=True)
class CaptureConfig:
    """Capture simulation ranges (pixels, degrees, JPEG quality)."""

    long_side: int = 1280
    short_side: int = 960
    fill_min: float = 0.55  # document size as a fraction of the frame
    fill_max: float = 0.85
    skew_max_deg: float = 6.0
    perspective_max: float = 0.05  # corner jitter as a fraction of the document size
    blur_max: float = 1.6  # Gaussian sigma, pixels
    noise_max: float = 6.0  # Gaussian sigma, grey levels
    glare_prob: float = 0.35
    jpeg_min: int = 55
    jpeg_max: int = 95
    rotation_weights: tuple[float, float, float, float] = (0.55, 0.15, 0.15, 0.15)  # 0, 90, 180, 270


@dataclass(frozen=True)
class Captured:
    """The captured photo and how it relates to the flat document."""

    image: np.ndarray  # RGB uint8
    homography: np.ndarray  # 3x3, flat pixel coords -> image pixel coords
    rotation: int
    skew_deg: float
    blur_sigma: float
    noise_sigma: float
    glare: bool
    jpeg_quality: int


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A random surface: blurred blobs on a tinted gradient, or wood-like stripes."""
    sw, sh = max(w // 8, 8), max(h // 8, 8)
    base = tex.pastel(rng, float(rng.uniform(0.15, 0.85)))
    small = np.empty((sh, sw, 3), np.float32)
    small[:] = base
    if rng.random() < 0.4:
        ys = np.arange(sh, dtype=np.float32)[:, None]
        xs = np.arange(sw, dtype=np.float32)[None, :]
        grain = np.sin(ys * rng.uniform(0.3, 1.2) + 3 * np.sin(xs * rng.uniform(0.02, 0.1)))
        small *= (0.85 + 0.15 * grain)[..., None]
    else:
        for _ in range(int(rng.integers(2, 7))):
            c = tex.pastel(rng, float(rng.uniform(0.1, 0.9)))
            cx, cy = int(rng.integers(0, sw)), int(rng.integers(0, sh))
            cv2.circle(small, (cx, cy), int(rng.integers(3, max(sw // 2, 4))), c.tolist(), -1)
    small = np.clip(cv2.GaussianBlur(small, (0, 0), 2.0), 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _homography(rng: np.random.Generator, cfg: CaptureConfig, doc_w: int, doc_h: int
                ) -> tuple[np.ndarray, int, float, int, int]:
    rotation = int(rng.choice([0, 90, 180, 270], p=np.asarray(cfg.rotation_weights) / sum(cfg.rotation_weights)))
    portrait_frame = rng.random() < (0.7 if rotation in (90, 270) else 0.2)
    fw, fh = (cfg.short_side, cfg.long_side) if portrait_frame else (cfg.long_side, cfg.short_side)
    skew = float(rng.uniform(-cfg.skew_max_deg, cfg.skew_max_deg))
    rw, rh = (doc_h, doc_w) if rotation in (90, 270) else (doc_w, doc_h)
    scale = float(rng.uniform(cfg.fill_min, cfg.fill_max)) * min(fw / rw, fh / rh)
    a = np.deg2rad(rotation + skew)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    src = np.array([[0, 0], [doc_w, 0], [doc_w, doc_h], [0, doc_h]], np.float64)
    dst = (src - [doc_w / 2, doc_h / 2]) @ rot.T * scale
    dst += rng.uniform(-cfg.perspective_max, cfg.perspective_max, (4, 2)) * max(rw, rh) * scale
    lo, hi = dst.min(axis=0), dst.max(axis=0)
    span = hi - lo
    margin = 8.0
    shrink = min(1.0, (fw - 2 * margin) / span[0], (fh - 2 * margin) / span[1])
    dst *= shrink
    lo, hi = dst.min(axis=0), dst.max(axis=0)
    ox = rng.uniform(margin - lo[0], fw - margin - hi[0])
    oy = rng.uniform(margin - lo[1], fh - margin - hi[1])
    dst += [ox, oy]
    hom = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)).astype(np.float64)
    return hom, rotation, skew, fw, fh


def capture(flat: np.ndarray, rng: np.random.Generator, cfg: CaptureConfig, attack: str | None = None) -> Captured:
    """Photograph ``flat`` (RGB) on a random background.

    Args:
        flat: the flat document, RGB uint8.
        rng: the sample's generator.
        cfg: capture ranges.
        attack: ``"print_attack"`` (halftoned print on paper) or ``"screen_replay"`` (moiré), or ``None``.
    """
    doc_h, doc_w = flat.shape[:2]
    hom, rotation, skew, fw, fh = _homography(rng, cfg, doc_w, doc_h)
    frame = _background(rng, fw, fh)
    source = flat
    if attack == "print_attack":
        source = tex.halftone(flat, rng, int(rng.integers(3, 6)))
        pad = 0.05 * max(doc_w, doc_h)
        paper = np.array([[-pad, -pad], [doc_w + pad, -pad], [doc_w + pad, doc_h + pad], [-pad, doc_h + pad]])
        pts = cv2.perspectiveTransform(paper[None].astype(np.float64), hom)[0]
        cv2.fillConvexPoly(frame, np.round(pts).astype(np.int32), (236, 236, 230), cv2.LINE_AA)
    cv2.warpPerspective(source, hom, (fw, fh), dst=frame, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    if attack == "screen_replay":
        frame = tex.moire(frame, rng)
    blur = float(rng.uniform(0, cfg.blur_max))
    if blur > 0.3:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    # lighting gradient and glare, computed at 1/8 resolution and upsampled
    sw, sh = fw // 8, fh // 8
    ys = np.linspace(0, 1, sh, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, sw, dtype=np.float32)[None, :]
    ang = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(ang) * xs + np.sin(ang) * ys
    lo, hi = float(rng.uniform(0.65, 0.95)), float(rng.uniform(1.0, 1.15))
    gain = lo + (hi - lo) * (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    glare = bool(rng.random() < cfg.glare_prob)
    offset = np.zeros_like(gain)
    if glare:
        corners = cv2.perspectiveTransform(np.array([[[0, 0], [doc_w, doc_h]]], np.float64), hom)[0]
        cx, cy = rng.uniform(corners.min(axis=0), corners.max(axis=0))
        sigma = rng.uniform(0.04, 0.12) * max(fw, fh)
        offset = (rng.uniform(90, 220) * np.exp(-(((xs * fw - cx) ** 2) + ((ys * fh - cy) ** 2))
                                                / (2 * sigma * sigma))).astype(np.float32)
    noise = float(rng.uniform(0, cfg.noise_max))
    gain = cv2.resize(gain.astype(np.float32), (fw, fh), interpolation=cv2.INTER_LINEAR)
    offset = cv2.resize(offset, (fw, fh), interpolation=cv2.INTER_LINEAR)
    if noise > 0.5:
        offset += rng.standard_normal((fh, fw), dtype=np.float32) * noise
    img = cv2.multiply(frame, cv2.merge([gain, gain, gain]), dtype=cv2.CV_32F)
    out = cv2.add(img, cv2.merge([offset, offset, offset]), dtype=cv2.CV_8U)
    quality = int(rng.integers(cfg.jpeg_min, cfg.jpeg_max + 1))
    return Captured(out, hom, rotation, round(skew, 3), round(blur, 3), round(noise, 3), glare, quality)
