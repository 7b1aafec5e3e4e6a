"""CRAFT's training crops: drawn from the capture views when asked, moved with their maps."""

from __future__ import annotations

import numpy as np

from training.augment import GeometricConfig, PhotometricConfig
from training.prepare import PreparedSplit
from training.train_craft import CraftTrainConfig, make_crop_dataset

_QUIET = PhotometricConfig(brightness=0.0, contrast=(1.0, 1.0), channel_gain=0.0, gamma=(1.0, 1.0), blur_prob=0.0,
                           noise_sigma=0.0, jpeg_prob=0.0)


def _split(n: int = 2, h: int = 64, w: int = 96) -> PreparedSplit:
    """Documents filling their canvas: one white block (image) that is also the region map;
    their captures are uniformly grey."""
    images = np.zeros((n, h, w, 3), np.uint8)
    maps = np.zeros((n, h // 2, w // 2, 2), np.uint8)
    for k in range(n):
        y, x = 10 + 4 * k, 12 + 6 * k
        images[k, 2 * y : 2 * (y + 8), 2 * x : 2 * (x + 12)] = 255
        maps[k, y : y + 8, x : x + 12, 0] = 255
    docs = [{"size": [w, h], "words": []} for _ in range(n)]
    return PreparedSplit(images, maps, np.zeros(maps.shape[:3], np.uint8), docs, captures=np.full_like(images, 90))


def _cfg() -> CraftTrainConfig:
    return CraftTrainConfig(batch_size=6, steps_per_epoch=2, crop=32, scale_jitter=(1.0, 1.0), augment=_QUIET)


def test_capture_share_one_draws_every_crop_from_the_captures():
    x, _ = make_crop_dataset(_split(), _cfg(), seed=3, capture_share=1.0)[0]
    assert np.all(x == 90)
    x, _ = make_crop_dataset(_split(), _cfg(), seed=3, capture_share=0.0)[0]
    assert not np.any(x == 90)


def test_without_captures_or_moves_the_first_phase_stream_is_unchanged():
    a = make_crop_dataset(_split(), _cfg(), seed=3)[1]
    b = make_crop_dataset(_split(), _cfg(), seed=3, capture_share=0.0, geometric=GeometricConfig(prob=0.0))[1]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


def test_moved_crops_keep_image_and_maps_aligned():
    moved = GeometricConfig(prob=1.0, scale=(0.8, 1.2), rotate_deg=10.0, shift=0.1)
    cfg = CraftTrainConfig(batch_size=8, steps_per_epoch=1, crop=64, scale_jitter=(1.0, 1.0), augment=_QUIET)
    split = _split(h=64, w=64)
    still_x, _ = make_crop_dataset(split, cfg, seed=1)[0]
    x, y = make_crop_dataset(split, cfg, seed=1, geometric=moved)[0]
    assert not np.array_equal(x, still_x)  # the crops were moved
    for img, maps in zip(x, y):
        bright = img.mean(-1) > 127
        region = maps[..., 0] > 0.5
        if region.sum() < 4:
            continue
        half = bright.reshape(32, 2, 32, 2).mean(axis=(1, 3)) > 0.5  # the image on the map grid
        agree = (half & region).sum() / max((half | region).sum(), 1)
        assert agree > 0.7, f"image and maps moved apart (IoU {agree:.2f})"


def test_half_share_mixes_both_views():
    x, _ = make_crop_dataset(_split(), _cfg(), seed=11, capture_share=0.5)[0]
    grey = [bool(np.all(c == 90)) for c in x]
    assert any(grey) and not all(grey)
