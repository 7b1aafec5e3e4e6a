"""Photometric augmentation of flat document images (geometry untouched, so targets stay valid)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PhotometricConfig:
    """Ranges of the random photometric changes (each drawn uniformly per image).

    Attributes:
        brightness: additive shift range, in grey levels (+-).
        contrast: multiplicative contrast range ``(low, high)`` around the image mean.
        channel_gain: per-channel gain range (+-), a crude white-balance change.
        gamma: gamma range ``(low, high)``.
        blur_prob: probability of a Gaussian blur with sigma in ``blur_sigma``.
        blur_sigma: ``(low, high)`` blur sigma in pixels.
        noise_sigma: maximum std of additive Gaussian noise, grey levels.
        jpeg_prob: probability of a JPEG round trip with quality in ``jpeg_quality``.
        jpeg_quality: ``(low, high)`` JPEG quality.
    """

    brightness: float = 30.0
    contrast: tuple[float, float] = (0.7, 1.2)
    channel_gain: float = 0.1
    gamma: tuple[float, float] = (0.8, 1.25)
    blur_prob: float = 0.3
    blur_sigma: tuple[float, float] = (0.3, 1.0)
    noise_sigma: float = 6.0
    jpeg_prob: float = 0.3
    jpeg_quality: tuple[int, int] = (50, 95)


def photometric(image: np.ndarray, rng: np.random.Generator, cfg: PhotometricConfig) -> np.ndarray:
    """Randomly changed copy of an ``HxWx3`` uint8 RGB image (same shape and dtype)."""
    import cv2

    x = image.astype(np.float32)
    mean = x.mean()
    x = (x - mean) * rng.uniform(*cfg.contrast) + mean + rng.uniform(-cfg.brightness, cfg.brightness)
    x *= 1.0 + rng.uniform(-cfg.channel_gain, cfg.channel_gain, size=3).astype(np.float32)
    x = np.clip(x, 0, 255)
    x = 255.0 * (x / 255.0) ** rng.uniform(*cfg.gamma)
    if rng.random() < cfg.blur_prob:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(*cfg.blur_sigma))
    if cfg.noise_sigma > 0:
        x += rng.normal(0.0, rng.uniform(0, cfg.noise_sigma), size=x.shape).astype(np.float32)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < cfg.jpeg_prob:
        q = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out
