"""Geometric augmentation moves a document's image, maps, masks and pixel weights together."""

from __future__ import annotations

import dataclasses

import numpy as np

from models.unet import TINY_UNET
from training.augment import GeometricConfig, PhotometricConfig, rescale_matrix, similarity_matrix, warp
from training.train_unet import UnetTrainConfig
from training.unet_data import make_doc_dataset

_QUIET = PhotometricConfig(brightness=0.0, contrast=(1.0, 1.0), channel_gain=0.0, gamma=(1.0, 1.0), blur_prob=0.0, noise_sigma=0.0, jpeg_prob=0.0)


def _documents(n: int = 3, h: int = 48, w: int = 64):
    """Black documents whose one white bar (image) is also the field mask and the region map."""
    images = np.zeros((n, 2 * h, 2 * w, 3), np.uint8)
    maps = np.zeros((n, h, w, 2), np.uint8)
    masks = np.zeros((n, h, w), np.uint8)
    for k in range(n):
        y, x = 12 + 6 * k, 10 + 4 * k
        images[k, 2 * y : 2 * (y + 6), 2 * x : 2 * (x + 30)] = 255
        maps[k, y : y + 6, x : x + 30, 0] = 255
        masks[k, y : y + 6, x : x + 30] = 2
    weights = np.where(masks > 0, np.float32(10.0), np.float32(1.0))
    return images, maps, masks, weights


def test_rescale_matrix_maps_the_same_point_on_the_finer_grid():
    m = np.array([[1.02, 0.05, 3.0], [-0.05, 1.02, -2.0]])
    coarse = np.array([10.0, 7.0])
    fine = rescale_matrix(m, 2.0)
    np.testing.assert_allclose(fine[:, :2] @ (2 * (coarse + 0.5) - 0.5) + fine[:, 2], 2 * (m[:, :2] @ coarse + m[:, 2] + 0.5) - 0.5)


def test_similarity_matrix_stays_within_its_ranges():
    cfg = GeometricConfig(prob=1.0, scale=(0.9, 1.1), rotate_deg=3.0, shift=0.05)
    rng = np.random.default_rng(0)
    for _ in range(50):
        m = similarity_matrix(rng, cfg, (100, 60))
        scale = np.sqrt(abs(np.linalg.det(m[:, :2])))
        assert 0.9 - 1e-9 <= scale <= 1.1 + 1e-9
        assert abs(np.degrees(np.arctan2(m[1, 0], m[0, 0]))) <= 3.0 + 1e-9
        centre = m[:, :2] @ np.array([49.5, 29.5]) + m[:, 2]
        assert np.all(np.abs(centre - [49.5, 29.5]) <= [5.0 + 1e-9, 3.0 + 1e-9])


def test_warp_keeps_integer_classes_and_shape():
    masks = np.zeros((20, 30), np.uint8)
    masks[5:10, 5:20] = 3
    out = warp(masks, np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]]), nearest=True)
    assert out.shape == masks.shape and set(np.unique(out)) == {0, 3}
    assert out[6:11, 7:22].min() == 3


def test_augmented_batches_keep_image_maps_and_masks_aligned():
    images, maps, masks, weights = _documents()
    model = dataclasses.replace(TINY_UNET, image_detail=True, use_image=True)
    cfg = UnetTrainConfig(model=model, batch_size=3, steps_per_epoch=2, augment=_QUIET, map_blur=0.0, map_noise=0.0)
    moved = GeometricConfig(prob=1.0, scale=(0.85, 1.15), rotate_deg=4.0, shift=0.08)
    batch_x, batch_y = make_doc_dataset(maps, images, masks, weights, cfg, seed=3, geometric=moved)[0]
    field = batch_y[..., 2] > 0.5
    assert field.any()
    region = batch_x[..., 0]
    bright = batch_x[..., 2:].reshape(*batch_x.shape[:3], 4, 3).mean(axis=(-1, -2))  # folded 2x2 RGB blocks
    inside = field & (region > 0.9)
    assert inside.sum() > 0.8 * field.sum()  # maps follow the masks
    assert bright[field].mean() > 200 and bright[~field & (region < 0.1)].mean() < 30  # so does the image
    assert np.all(batch_y[..., -1][field] == 10.0)  # and the pixel weights


def test_geometric_augmentation_moves_the_documents():
    images, maps, masks, weights = _documents()
    base = UnetTrainConfig(model=dataclasses.replace(TINY_UNET, use_image=False), batch_size=3, steps_per_epoch=1, map_blur=0.0, map_noise=0.0)
    still = make_doc_dataset(maps, images, masks, weights, base, seed=3)[0][1]
    moved = make_doc_dataset(maps, images, masks, weights, base, seed=3, geometric=GeometricConfig(prob=1.0, shift=0.1))[0][1]
    assert not np.array_equal(still[..., :-1], moved[..., :-1])


def test_capture_share_draws_the_capture_views():
    images, maps, masks, weights = _documents()
    cap_images, cap_maps = np.full_like(images, 100), (maps // 2).astype(np.uint8)
    model = dataclasses.replace(TINY_UNET, image_detail=True, use_image=True)
    base = UnetTrainConfig(model=model, batch_size=3, steps_per_epoch=1, augment=_QUIET, map_blur=0.0, map_noise=0.0)

    def first_batch(share: float):
        return make_doc_dataset(maps, images, masks, weights, base, seed=5, captures=(cap_maps, cap_images),
                                capture_share=share)[0][0]

    shown = first_batch(1.0)
    assert np.all(shown[..., 2:] == 100) and shown[..., 0].max() <= 128 / 255 + 1e-6
    flat = first_batch(0.0)
    assert flat[..., 2:].max() == 255 and flat[..., 0].max() == 1.0
