"""A tiny CRAFT and UNET training run on hand-made documents: the loss must go down."""

from __future__ import annotations

import numpy as np
import pytest

from models.craft import TINY_CRAFT, build_craft
from models.unet import N_CLASSES, TINY_UNET, build_unet
from training.targets import region_affinity_maps
from training.train_craft import weighted_mse
from training.train_unet import ce_dice_loss


def _toy_batch(n: int = 4, size: int = 64, seed: int = 0):
    """White images with dark 'characters' (rectangles) in words, plus their targets and a field mask."""
    rng = np.random.default_rng(seed)
    images = np.full((n, size, size, 3), 235, np.uint8)
    maps = np.zeros((n, size // 2, size // 2, 2), np.float32)
    masks = np.zeros((n, size // 2, size // 2), np.int64)
    for k in range(n):
        words = []
        y = int(rng.integers(4, 20))
        x = int(rng.integers(2, 10))
        chars = []
        for i in range(int(rng.integers(3, 6))):
            x0 = x + i * 8
            images[k, y : y + 10, x0 + 1 : x0 + 6] = 20
            chars.append(np.array([[x0, y], [x0 + 7, y], [x0 + 7, y + 10], [x0, y + 10]], np.float32) / 2)
        words.append(chars)
        r, a = region_affinity_maps(words, (size // 2, size // 2))
        maps[k] = np.stack([r, a], -1)
        masks[k][r > 0.2] = 2
    return images.astype(np.float32), maps, masks


def test_tiny_craft_training_reduces_the_loss():
    import keras

    keras.utils.set_random_seed(0)
    x, y, _ = _toy_batch()
    model = build_craft(TINY_CRAFT)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=weighted_mse(4.0))
    first = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=40, batch_size=4, verbose=0)
    last = float(model.evaluate(x, y, verbose=0))
    assert last < 0.5 * first, (first, last)


def test_gap_weighted_loss_weighs_the_gap_channel_and_ignores_it_as_a_target():
    import keras

    target = np.zeros((1, 4, 4, 3), np.float32)
    target[0, 1, 2, 2] = 1.0  # one gap pixel
    pred = np.zeros((1, 4, 4, 2), np.float32)
    pred[0, 1, 2, 1] = 0.5  # affinity predicted across the gap
    plain = float(keras.ops.convert_to_numpy(weighted_mse(0.0)(target[..., :2], pred)))
    weighted = float(keras.ops.convert_to_numpy(weighted_mse(0.0, gap_weight=9.0)(target, pred)))
    assert weighted == np.float32(10 * plain) and plain > 0
    pred[0, 1, 2, 1] = 0.0
    assert float(keras.ops.convert_to_numpy(weighted_mse(0.0, gap_weight=9.0)(target, pred))) == 0.0


def test_tiny_unet_training_reduces_the_loss():
    import keras

    keras.utils.set_random_seed(0)
    images, maps, masks = _toy_batch(seed=1)
    small = images[:, ::2, ::2]
    x = np.concatenate([maps, small], -1).astype(np.float32)
    y = np.eye(N_CLASSES, dtype=np.float32)[masks]
    model = build_unet(TINY_UNET)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=ce_dice_loss(1.0))
    first = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=30, batch_size=4, verbose=0)
    last = float(model.evaluate(x, y, verbose=0))
    assert last < 0.7 * first, (first, last)


def test_weight_channel_reproduces_class_weights_and_weights_other_text():
    from training.unet_data import pixel_weights, targets

    rng = np.random.default_rng(3)
    masks = rng.integers(0, N_CLASSES, (2, 8, 8))
    masks[:, :4] = 0
    text = np.zeros((2, 8, 8), np.uint8)
    text[:, 1, :] = 1  # a word that is no field
    probs = rng.dirichlet(np.ones(N_CLASSES), (2, 8, 8)).astype(np.float32)
    loss = ce_dice_loss(1.0, field_weight=10.0)
    plain = float(loss(np.eye(N_CLASSES, dtype=np.float32)[masks], probs))
    same = pixel_weights(masks, np.zeros_like(text), 10.0, 10.0)
    assert float(loss(targets(masks, same), probs)) == pytest.approx(plain, rel=1e-5)
    weights = pixel_weights(masks, text, 10.0, 10.0)
    assert weights[0, 1, 0] == 10.0 and weights[0, 2, 0] == 1.0
    assert float(loss(targets(masks, weights), probs)) > plain  # the other word's pixels now count ten times


def test_label_classes_are_background_unless_the_model_segments_them():
    from models.unet import UnetConfig
    from training.unet_data import class_masks, pixel_weights

    masks = np.array([[0, 1, 4, 5, 8]], np.uint8)
    assert class_masks(masks, UnetConfig()).tolist() == [[0, 1, 4, 0, 0]]
    assert class_masks(masks, UnetConfig(label_classes=True)).tolist() == [[0, 1, 4, 5, 8]]
    text = np.array([[0, 1, 1, 1, 1]], np.uint8)
    assert pixel_weights(masks, text, 10.0, 3.0).tolist() == [[1.0, 10.0, 10.0, 3.0, 3.0]]  # labels weigh as text
