"""The prepare stage's capture view: a camera capture seen through its homography lies pixel for
pixel over the flat render (and so over the field masks and maps drawn from it)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from training.prepare import DocDataConfig, DocSample, capture_on_canvas, load_split, prepare_doc, write_split
from veid.errors import InputError


def _flat(w: int = 400, h: int = 250) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), 230, np.uint8)
    for _ in range(25):  # blocks of "text" at random places, so a misplaced view cannot match
        x, y = int(rng.integers(10, w - 60)), int(rng.integers(10, h - 20))
        img[y : y + 10, x : x + int(rng.integers(15, 50))] = rng.integers(0, 90, 3)
    return img


def _sample(tmp_path: Path, flat: np.ndarray, hom: np.ndarray | None, photo_size=(640, 480)) -> DocSample:
    h, w = flat.shape[:2]
    cv2.imwrite(str(tmp_path / "flat.png"), flat)
    cv2.imwrite(str(tmp_path / "mask.png"), np.zeros((h, w), np.uint8))
    capture = None
    if hom is not None:
        photo = cv2.warpPerspective(flat, hom, photo_size, borderValue=(40, 90, 160))
        cv2.imwrite(str(tmp_path / "photo.png"), photo)
        capture = tmp_path / "photo.png"
    return DocSample("000001", "train", "id_card_td1", "front", tmp_path / "flat.png", tmp_path / "mask.png",
                     (w, h), (), (), capture, hom)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.astype(np.float64).ravel(), b.astype(np.float64).ravel())[0, 1])


def test_capture_view_lies_over_the_flat_render(tmp_path):
    hom = np.array([[1.1, 0.12, 60.0], [-0.08, 1.05, 40.0], [0.0002, 0.0001, 1.0]])
    cfg = DocDataConfig(long_side=384, canvas=(384, 256))
    doc = prepare_doc(_sample(tmp_path, _flat(), hom), cfg)
    nw, nh = doc.size
    assert doc.capture is not None and doc.capture.shape == doc.image.shape
    flat, seen = doc.image[:nh, :nw], doc.capture[:nh, :nw]
    assert _corr(flat, seen) > 0.9
    assert _corr(flat[6:], seen[:-6]) < 0.5  # a few pixels off no longer matches
    assert not doc.capture[nh:].any() and not doc.capture[:, nw:].any()  # padding stays black


def test_no_capture_gives_no_view_and_the_split_falls_back_to_the_render(tmp_path):
    cfg = DocDataConfig(long_side=384, canvas=(384, 256))
    sample = _sample(tmp_path, _flat(), None)
    assert capture_on_canvas(sample, 0.96, (384, 240), cfg.canvas) is None
    out = tmp_path / "prepared"
    out.mkdir()
    write_split([sample], out, "train", cfg)
    split = load_split(out, "train")
    assert split.captures is not None and np.array_equal(split.captures[0], split.images[0])


def test_unreadable_capture_is_an_input_error(tmp_path):
    sample = _sample(tmp_path, _flat(), np.eye(3))
    (tmp_path / "photo.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match="cannot read"):
        prepare_doc(sample, DocDataConfig(long_side=384, canvas=(384, 256)))


def test_splits_prepared_before_captures_still_load(tmp_path):
    cfg = DocDataConfig(long_side=384, canvas=(384, 256))
    out = tmp_path / "prepared"
    out.mkdir()
    write_split([_sample(tmp_path, _flat(), None)], out, "val", cfg)
    (out / "val_capture.npy").unlink()
    assert load_split(out, "val").captures is None


def test_capture_view_of_a_split_without_captures_is_an_input_error(tmp_path):
    cfg = DocDataConfig(long_side=384, canvas=(384, 256))
    out = tmp_path / "prepared"
    out.mkdir()
    write_split([_sample(tmp_path, _flat(), None)], out, "val", cfg)
    (out / "val_capture.npy").unlink()
    split = load_split(out, "val")
    assert split.view("image") is split.images
    with pytest.raises(InputError, match="no capture views"):
        split.view("capture")
