"""Tests for the CRAFT model: shapes, config round trip, save/load, the detector wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from models.craft import TINY_CRAFT, CraftConfig, CraftDetector, build_craft, pad_to_multiple, resize_long_side
from veid.errors import InputError


def test_tiny_craft_outputs_two_half_resolution_maps_in_unit_range():
    model = build_craft(TINY_CRAFT)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 96, 3)).astype(np.float32)
    y = np.asarray(model(x))
    assert y.shape == (2, 32, 48, 2)
    assert 0.0 <= y.min() and y.max() <= 1.0


def test_get_config_round_trips_and_save_load_keeps_outputs(tmp_path):
    import keras

    model = build_craft(TINY_CRAFT)
    clone = keras.Model.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = tmp_path / "craft.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    x = np.random.default_rng(1).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def test_config_validates_decoder_length():
    with pytest.raises(ValueError):
        CraftConfig(widths=(8, 8, 8), decoder_widths=(8,))
    assert CraftConfig().stride == 32 and TINY_CRAFT.stride == 8


def test_detector_resizes_pads_and_reports_scale():
    det = CraftDetector(build_craft(TINY_CRAFT), long_side=96)
    image = np.full((50, 150, 3), 200, np.uint8)
    maps = det.predict(image)
    assert maps.region.shape == (16, 48) and maps.affinity.shape == (16, 48)  # 150->96 wide, 50->32 high
    assert maps.region.dtype == np.float32
    assert maps.scale == pytest.approx(150 / 48)
    assert maps.image_size == (150, 50)


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((4, 40, 3), np.uint8)])
def test_detector_rejects_bad_images(bad):
    det = CraftDetector(build_craft(TINY_CRAFT), long_side=64)
    with pytest.raises(InputError):
        det.predict(bad)


def test_resize_and_pad_helpers():
    img = np.zeros((100, 200, 3), np.uint8)
    small, f = resize_long_side(img, 50)
    assert small.shape == (25, 50, 3) and f == 0.25
    assert pad_to_multiple(small, 16).shape == (32, 64, 3)
