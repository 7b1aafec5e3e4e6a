"""Tests for the field UNET: shapes, softmax, config round trip, save/load, the segmenter wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from models.craft import CraftMaps
from models.unet import N_CLASSES, TINY_UNET, FieldSegmenter, UnetConfig, build_unet
from veid.errors import InputError


def test_tiny_unet_outputs_class_probabilities_on_the_input_grid():
    model = build_unet(TINY_UNET)
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 48, TINY_UNET.in_channels)).astype(np.float32)
    y = np.asarray(model(x))
    assert y.shape == (2, 32, 48, N_CLASSES) == (2, 32, 48, 5)
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)


def test_unet_get_config_round_trips_and_save_load_keeps_outputs(tmp_path):
    import keras

    import models.layers  # noqa: F401

    model = build_unet(TINY_UNET)
    clone = keras.Model.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = tmp_path / "unet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    x = np.random.default_rng(1).uniform(0, 1, (1, 16, 24, TINY_UNET.in_channels)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def test_coordinates_are_absolute_so_padding_does_not_move_content():
    from models.layers import CoordChannels

    layer = CoordChannels(scale=10.0)
    a = np.asarray(layer(np.zeros((1, 4, 6, 1), np.float32)))
    b = np.asarray(layer(np.zeros((1, 8, 8, 1), np.float32)))
    np.testing.assert_allclose(a[0, :, :, 1:], b[0, :4, :6, 1:])
    assert a[0, 2, 3, 1] == pytest.approx(0.3) and a[0, 2, 3, 2] == pytest.approx(0.2)


def test_segmenter_returns_probabilities_on_the_map_grid():
    seg = FieldSegmenter(build_unet(TINY_UNET), use_image=True)
    z = np.zeros((30, 45), np.float32)
    probs = seg.predict(CraftMaps(z, z), np.zeros((60, 90, 3), np.uint8))
    assert probs.shape == (30, 45, 5) and probs.dtype == np.float32
    with pytest.raises(InputError):
        seg.predict(CraftMaps(z, z), None)


def test_segmenter_without_image():
    cfg = UnetConfig(widths=(4, 8), use_image=False, coord_scale=16.0)
    seg = FieldSegmenter(build_unet(cfg), use_image=False)
    z = np.zeros((9, 13), np.float32)
    assert seg.predict(CraftMaps(z, z)).shape == (9, 13, 5)


def test_pooled_unet_predicts_on_the_full_map_grid_and_round_trips(tmp_path):
    import keras

    import models.layers  # noqa: F401

    cfg = UnetConfig(widths=(4, 8, 8), use_image=True, coord_scale=32.0, input_pool=2)
    assert cfg.stride == 8
    model = build_unet(cfg)
    seg = FieldSegmenter(model, use_image=True)
    assert seg.stride == 8
    z = np.random.default_rng(2).uniform(0, 1, (30, 45)).astype(np.float32)
    probs = seg.predict(CraftMaps(z, z), np.zeros((60, 90, 3), np.uint8))
    assert probs.shape == (30, 45, 5)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    path = tmp_path / "unet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    x = np.random.default_rng(3).uniform(0, 1, (1, 16, 24, cfg.in_channels)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def test_fold_pixels_puts_each_2x2_block_into_one_pixels_channels():
    from models.unet import fold_pixels

    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    folded = fold_pixels(image)
    assert folded.shape == (2, 3, 12)
    # output pixel (1, 2) holds input rows 2..3, columns 4..5, row-major, RGB innermost
    block = image[2:4, 4:6].reshape(-1)
    np.testing.assert_array_equal(folded[1, 2], block)
    assert fold_pixels(image[None]).shape == (1, 2, 3, 12)  # batches too


def test_detail_unet_reads_the_full_resolution_image_on_the_map_grid(tmp_path):
    import keras

    import models.layers  # noqa: F401

    cfg = UnetConfig(widths=(4, 8, 8), coord_scale=32.0, input_pool=2, image_detail=True, stem_width=4)
    assert cfg.in_channels == 14 and cfg.stride == 8
    model = build_unet(cfg)
    seg = FieldSegmenter(model, use_image=True)
    assert seg.image_detail and seg.stride == 8
    z = np.random.default_rng(4).uniform(0, 1, (30, 45)).astype(np.float32)
    image = np.random.default_rng(5).integers(0, 256, (59, 90, 3), dtype=np.uint8)  # odd height, as CRAFT pads
    probs = seg.predict(CraftMaps(z, z), image)
    assert probs.shape == (30, 45, 5)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    # a different image changes the output: the detail channels are really used
    other = seg.predict(CraftMaps(z, z), 255 - image)
    assert np.abs(other - probs).max() > 1e-4
    path = tmp_path / "unet.keras"
    model.save(path)
    loaded = FieldSegmenter(keras.saving.load_model(path, compile=False, safe_mode=True), use_image=True)
    assert loaded.image_detail
    np.testing.assert_allclose(loaded.predict(CraftMaps(z, z), image), probs, atol=1e-5)


def test_image_detail_needs_the_image():
    with pytest.raises(ValueError, match="use_image"):
        UnetConfig(use_image=False, image_detail=True)


def test_label_class_model_folds_its_label_channels_into_background():
    from models.unet import N_CLASSES, N_LABEL_CLASSES, fold_label_classes

    cfg = UnetConfig(widths=(4, 8, 8), use_image=True, coord_scale=32.0, label_classes=True)
    model = build_unet(cfg)
    assert model.outputs[0].shape[-1] == N_CLASSES + N_LABEL_CLASSES == cfg.out_channels
    z = np.random.default_rng(5).uniform(0, 1, (30, 45)).astype(np.float32)
    probs = FieldSegmenter(model, use_image=True).predict(CraftMaps(z, z), np.zeros((60, 90, 3), np.uint8))
    assert probs.shape == (30, 45, N_CLASSES)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    raw = np.array([0.1, 0.2, 0.0, 0.1, 0.0, 0.3, 0.1, 0.1, 0.1], np.float32)
    np.testing.assert_allclose(fold_label_classes(raw), [0.7, 0.2, 0.0, 0.1, 0.0])
