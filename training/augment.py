"""Augmentation of flat document images: photometric changes (geometry untouched, so targets
stay valid) and small random similarity transforms applied to an image and its targets alike."""

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


@dataclass(frozen=True)
class GeometricConfig:
    """Ranges of a random similarity transform (drawn per document), mimicking the pipeline's
    imperfect perspective crops: the document slightly shifted, scaled or turned on its canvas.

    Attributes:
        prob: share of documents transformed (0 turns it off).
        scale: ``(low, high)`` zoom about the document's centre.
        rotate_deg: maximum rotation, degrees (+-).
        shift: maximum shift, fraction of the document's width and height (+-).
    """

    prob: float = 0.0
    scale: tuple[float, float] = (0.9, 1.1)
    rotate_deg: float = 2.0
    shift: float = 0.04


def similarity_matrix(rng: np.random.Generator, cfg: GeometricConfig, size: tuple[int, int]) -> np.ndarray:
    """A random 2x3 affine matrix (pixel-centre coordinates) for a document of ``size = (w, h)``
    pixels: rotation and zoom about its centre, then a shift."""
    import cv2

    w, h = size
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), rng.uniform(-cfg.rotate_deg, cfg.rotate_deg), rng.uniform(*cfg.scale))
    m[:, 2] += rng.uniform(-cfg.shift, cfg.shift, size=2) * np.array([w, h])
    return m


def rescale_matrix(m: np.ndarray, factor: float) -> np.ndarray:
    """The affine ``m`` (pixel centres of one grid) expressed on a grid ``factor`` times finer
    (``x_fine = factor * (x + 0.5) - 0.5``)."""
    a, t = m[:, :2], m[:, 2]
    off = (factor - 1) / 2 * np.ones(2)
    return np.concatenate([a, (factor * t + off - a @ off)[:, None]], axis=1)


def warp(array: np.ndarray, m: np.ndarray, nearest: bool = False, border: float = 0.0) -> np.ndarray:
    """``array`` (``HxW`` or ``HxWxC``) warped by the affine ``m`` onto the same grid."""
    import cv2

    h, w = array.shape[:2]
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    out = cv2.warpAffine(array, m, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    return out.reshape(array.shape)
