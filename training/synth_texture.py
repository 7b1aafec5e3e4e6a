"""Security-print look for synthetic documents: tinted grounds, guilloche rosettes, microline textures, holograms."""

from __future__ import annotations

import cv2
import numpy as np


def pastel(rng: np.random.Generator, lightness: float = 0.9) -> np.ndarray:
    """A random light RGB colour (float32 in 0..255)."""
    hue = rng.random()
    rgb = np.array([np.cos(2 * np.pi * (hue - k / 3.0)) for k in range(3)]) * 0.5 + 0.5
    return (255.0 * (lightness + (1 - lightness) * rgb)).astype(np.float32)


def ink(rng: np.random.Generator, dark: float = 0.35) -> tuple[int, int, int]:
    """A random saturated, fairly dark RGB colour for patterns and headers."""
    hue = rng.random()
    rgb = np.array([np.cos(2 * np.pi * (hue - k / 3.0)) for k in range(3)]) * 0.5 + 0.5
    return tuple(int(255 * dark * v + 30) for v in rgb)  # type: ignore[return-value]


def ground(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A two-colour diagonal gradient ground, ``(height, width, 3)`` uint8 RGB."""
    a, b = pastel(rng, 0.82), pastel(rng, 0.88)
    angle = rng.uniform(0, np.pi)
    sw, sh = max(width // 16, 2), max(height // 16, 2)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = xs * np.cos(angle) * width / sw + ys * np.sin(angle) * height / sh
    t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
    small = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.uint8)


def guilloche(img: np.ndarray, rng: np.random.Generator, count: int = 3) -> None:
    """Draw ``count`` guilloche rosettes (hypotrochoid families) in place, anti-aliased and light."""
    h, w = img.shape[:2]
    t = np.linspace(0, 2 * np.pi * 7, 1400, dtype=np.float64)
    for _ in range(count):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        radius = rng.uniform(0.25, 0.7) * min(w, h)
        k = int(rng.integers(5, 13))
        ratio = rng.uniform(0.15, 0.45)
        colour = tuple(int(v) for v in (pastel(rng, 0.55)))
        curves = []
        for j in range(int(rng.integers(8, 18))):
            phase = j * 2 * np.pi / 18
            r = radius * (1 - ratio * np.cos(k * t / 7 + phase))
            x = cx + r * np.cos(t / 7 + phase * 0.1) * (1 + 0.1 * np.sin(3 * t / 7))
            y = cy + r * np.sin(t / 7 + phase * 0.1)
            curves.append(np.stack([x, y], axis=1).round().astype(np.int32))
        cv2.polylines(img, curves, False, colour, 1, cv2.LINE_AA)


def microlines(img: np.ndarray, rng: np.random.Generator, strength: float = 10.0) -> None:
    """Overlay fine wavy lines (security print), in place."""
    h, w = img.shape[:2]
    period = rng.uniform(4.0, 9.0)
    xs = np.arange(0, w + 8, 4, dtype=np.float64)
    wave = rng.uniform(4.0, 20.0) * np.sin(xs / rng.uniform(20.0, 80.0) + rng.uniform(0, 6.3))
    colour = tuple(float(v) for v in np.clip(img[h // 2, w // 2].astype(np.float64) - strength * 2, 0, 255))
    lines = [np.stack([xs, y + wave], axis=1).round().astype(np.int32)
             for y in np.arange(-25.0, h + 25.0, period)]
    cv2.polylines(img, lines, False, colour, 1, cv2.LINE_8)


def hologram(img: np.ndarray, rng: np.random.Generator, box: tuple[int, int, int, int], alpha: float = 0.35) -> None:
    """Blend an iridescent elliptical hologram patch into ``box`` (x0, y0, x1, y1), in place."""
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, img.shape[1]), min(y1, img.shape[0])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    ys, xs = np.mgrid[0:y1 - y0, 0:x1 - x0].astype(np.float32)
    u = (xs / (x1 - x0) - 0.5) * 2
    v = (ys / (y1 - y0) - 0.5) * 2
    r = np.sqrt(u * u + v * v)
    inside = np.clip((1.0 - r) * 6.0, 0.0, 1.0)
    phase = rng.uniform(0, 2 * np.pi)
    rings = 0.5 + 0.5 * np.sin(r * rng.uniform(15, 40) + np.arctan2(v, u) * int(rng.integers(2, 7)) + phase)
    hue = (u * 0.7 + v * 0.3 + phase) * 2.0
    rainbow = np.stack([np.sin(hue + k * 2.094) * 0.5 + 0.5 for k in range(3)], axis=-1) * 255.0
    a = (alpha * inside * (0.4 + 0.6 * rings))[..., None]
    patch = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = np.clip(patch * (1 - a) + rainbow * a, 0, 255).astype(np.uint8)


def halftone(img: np.ndarray, rng: np.random.Generator, cell: int = 4) -> np.ndarray:
    """A printed-and-rephotographed look: desaturated, contrast-reduced, with a halftone dot screen."""
    f = img.astype(np.float32)
    grey = f.mean(axis=2, keepdims=True)
    f = grey + (f - grey) * rng.uniform(0.4, 0.8)
    f = 40 + f * rng.uniform(0.7, 0.85)
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.deg2rad(rng.uniform(10, 50))
    u = xs * np.cos(angle) + ys * np.sin(angle)
    v = -xs * np.sin(angle) + ys * np.cos(angle)
    dots = np.cos(2 * np.pi * u / cell) * np.cos(2 * np.pi * v / cell)
    f = f + rng.uniform(8, 18) * dots[..., None]
    return np.clip(f, 0, 255).astype(np.uint8)


def moire(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A screen-replay look: sub-pixel RGB stripes, interference bands, a slight blue cast and gamma."""
    f = img.astype(np.float32)
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.deg2rad(rng.uniform(-20, 20))
    u = xs * np.cos(angle) + ys * np.sin(angle)
    bands = np.sin(2 * np.pi * u / rng.uniform(6.0, 14.0)) * np.sin(2 * np.pi * ys / rng.uniform(5.0, 11.0))
    f = f * (1.0 + rng.uniform(0.08, 0.18) * bands[..., None])
    stripes = np.zeros((h, w, 3), np.float32)
    for k in range(3):
        stripes[..., k] = (xs.astype(np.int32) % 3 == k) * 1.0
    f = f * (0.85 + 0.15 * stripes)
    f = f * np.array([0.92, 0.98, 1.08], np.float32) + 10.0
    return np.clip(255.0 * (np.clip(f, 0, 255) / 255.0) ** 0.9, 0, 255).astype(np.uint8)
