"""The field UNET's training data: the prepared documents' views, input maps, pixel weights and
targets, and the augmented batches (photometric and geometric; flat renders or capture views)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.unet import N_CLASSES, UnetConfig, fold_pixels
from training.augment import GeometricConfig, photometric, rescale_matrix, similarity_matrix, warp
from training.batches import seeded_batches
from training.prepare import PreparedSplit, View

if TYPE_CHECKING:
    from training.train_unet import UnetTrainConfig


def half_images(split: PreparedSplit, ids: Sequence[int], view: View = "image") -> np.ndarray:
    """Canvas images resized to the map grid, uint8 ``(n, h/2, w/2, 3)``."""
    import cv2

    h, w = split.maps.shape[1:3]
    images = split.view(view)
    return np.stack([cv2.resize(np.asarray(images[i]), (w, h), interpolation=cv2.INTER_AREA) for i in ids])


def train_images(split: PreparedSplit, ids: Sequence[int], model: UnetConfig, view: View = "image") -> np.ndarray:
    """The images the UNET trains on, before augmentation: canvas images at full
    resolution with ``image_detail`` (folded after augmentation), else on the map grid."""
    return np.asarray(split.view(view)[list(ids)]) if model.image_detail else half_images(split, ids, view)


def as_input_image(images: np.ndarray, model: UnetConfig) -> np.ndarray:
    """Augmented training images -> the UNET's image channels (see :func:`models.unet.fold_pixels`)."""
    return fold_pixels(images) if model.image_detail else images


def input_maps(split: PreparedSplit, ids: Sequence[int], source: str, craft_path: Path | None,
               view: View = "image") -> np.ndarray:
    """Region/affinity inputs for the UNET, uint8 ``(n, h/2, w/2, 2)`` (x 255).

    With ``source == "craft"`` the CRAFT model at ``craft_path`` predicts them (once, with a
    progress bar) on the ``view``; padding outside each document is zeroed as the pipeline would.
    """
    if source == "target":
        return np.asarray(split.maps[list(ids)])
    import keras
    from tqdm import tqdm

    import models.layers  # noqa: F401  (registers custom layers)

    craft = keras.saving.load_model(craft_path, compile=False)
    images = split.view(view)
    out = np.zeros((len(ids), *split.maps.shape[1:]), np.uint8)
    for k, i in enumerate(tqdm(ids, desc=f"craft maps ({view})", unit="doc")):
        pred = np.asarray(craft.predict_on_batch(images[i : i + 1].astype(np.float32)))[0]
        w, h = split.size(i)
        mh, mw = (h + 1) // 2, (w + 1) // 2
        out[k, :mh, :mw] = np.clip(np.rint(pred[:mh, :mw] * 255), 0, 255).astype(np.uint8)
    return out


def text_masks(split: PreparedSplit, ids: Sequence[int]) -> np.ndarray:
    """uint8 ``(n, h/2, w/2)``: 1 inside any printed word's box (the prepared word quads), on the map grid."""
    import cv2

    h, w = split.masks.shape[1:3]
    out = np.zeros((len(ids), h, w), np.uint8)
    for k, i in enumerate(ids):
        for quad in split.word_quads(i):
            cv2.fillPoly(out[k], [np.round(quad * 0.5).astype(np.int32)], 1)
    return out


def pixel_weights(masks: np.ndarray, text: np.ndarray, field_weight: float, text_weight: float) -> np.ndarray:
    """Cross-entropy weight per pixel: ``field_weight`` on fields (classes 1..4), ``text_weight``
    on other words (labels included), 1 elsewhere."""
    weights = np.where(text > 0, np.float32(text_weight), np.float32(1.0))
    weights[(masks > 0) & (masks < N_CLASSES)] = field_weight
    return weights


def class_masks(masks: np.ndarray, model: UnetConfig) -> np.ndarray:
    """The prepared masks as the model's classes: label classes (5..8) kept only when the
    model segments them (``label_classes``), else background."""
    return masks if model.label_classes else np.where(masks < N_CLASSES, masks, 0).astype(masks.dtype)


def targets(masks: np.ndarray, weights: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Keras targets ``(..., n_classes + 1)``: the one-hot classes and, last, each pixel's weight."""
    return np.concatenate([np.eye(n_classes, dtype=np.float32)[masks], weights[..., None].astype(np.float32)], axis=-1)


def stack_input(maps_u8: np.ndarray, image_u8: np.ndarray | None) -> np.ndarray:
    """UNET input batch: maps in [0, 1] and, if given, RGB in [0, 255]."""
    x = maps_u8.astype(np.float32) / 255.0
    return x if image_u8 is None else np.concatenate([x, image_u8.astype(np.float32)], axis=-1)


def make_doc_dataset(maps, images, masks, weights, cfg: UnetTrainConfig, seed: int, sizes: np.ndarray | None = None,
                     captures: tuple[np.ndarray, np.ndarray] | None = None, capture_share: float = 0.0,
                     geometric: GeometricConfig = GeometricConfig()):
    """A Keras ``PyDataset`` of augmented whole-document batches, seeded per batch (two threads
    prepare batches while TensorFlow trains; each batch's randomness depends only on its index).

    ``captures``: ``(maps, images)`` of the same documents' capture views, drawn instead with
    probability ``capture_share``; ``geometric``: random similarity transforms, in each document's
    frame ``sizes`` (``(w, h)`` on the map grid; default: the whole grid)."""

    def batch(epoch: int, idx: int):
        rng = np.random.default_rng([seed, 1000 + epoch, idx])
        ids = rng.integers(len(maps), size=cfg.batch_size)
        shown = [(maps, images)] * len(ids)
        if captures is not None and capture_share > 0:
            shown = [captures if c else (maps, images) for c in rng.random(len(ids)) < capture_share]
        m = np.stack([v[0][i] for v, i in zip(shown, ids)]).astype(np.float32) / 255.0
        imgs = [v[1][i] for v, i in zip(shown, ids)] if cfg.model.use_image else []
        mk, wt = masks[ids], weights[ids]
        if geometric.prob > 0:
            mk, wt = mk.copy(), wt.copy()
            full = images.shape[1] / maps.shape[1]  # image pixels per map pixel
            for k, i in enumerate(ids):
                if rng.random() >= geometric.prob:
                    continue
                frame = tuple(sizes[i]) if sizes is not None else (maps.shape[2], maps.shape[1])
                mat = similarity_matrix(rng, geometric, frame)
                m[k], mk[k] = warp(m[k], mat), warp(mk[k], mat, nearest=True)
                wt[k] = warp(wt[k], mat, nearest=True, border=1.0)
                if imgs:
                    imgs[k] = warp(np.asarray(imgs[k]), rescale_matrix(mat, full) if full != 1 else mat)
        if cfg.map_blur > 0:  # mimic CRAFT's softer predictions when training on targets
            import cv2

            for k in range(len(m)):
                sigma = rng.uniform(0.0, cfg.map_blur)
                if sigma > 0.3:
                    m[k] = cv2.GaussianBlur(m[k], (0, 0), sigma)
                m[k] *= rng.uniform(0.8, 1.1)
        m = np.clip(m + rng.normal(0, cfg.map_noise, m.shape).astype(np.float32), 0, 1)
        parts = [m]
        if cfg.model.use_image:
            augmented = np.stack([photometric(img, rng, cfg.augment) for img in imgs])
            parts.append(as_input_image(augmented, cfg.model).astype(np.float32))
        y = targets(mk, wt, cfg.model.out_channels)
        return np.concatenate(parts, axis=-1), y

    return seeded_batches(cfg.steps_per_epoch, batch, workers=2)
