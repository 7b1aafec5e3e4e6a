"""The caption classifier: the strip it sees, its NumPy network, and the shipped weights on drawn captions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.document.captions import (
    ABOVE, CLASSES, INPUT_SHAPE, CaptionConfig, CaptionModel, CaptionReader, caption_box, strip_input,
)
from models.registry import file_version
from pipelines.document.marks import resolve_model_path
from veid.errors import ModelError
from veid.types import Box


def test_the_strip_is_above_the_text_and_keeps_the_input_aspect():
    line = Box(100, 190, 260, 240)  # a detector's box, grown around text in rows 10..40 (30 px high)
    s = caption_box(line, (10, 40))
    assert s.y0 == pytest.approx(200 - ABOVE * 30) and s.y1 < 200  # ends above the text: no letter of the value
    assert s.x0 < line.x0 and s.width / s.height == pytest.approx(INPUT_SHAPE[1] / INPUT_SHAPE[0])
    assert caption_box(line, None).y1 < line.y0  # no ink found: the box itself stands for the text


def test_strip_input_shows_the_caption_not_the_value_and_survives_the_page_edge():
    page = np.full((120, 400, 3), 255, np.uint8)
    page[50:70, 20:200] = 0  # the value line's ink
    line = Box(15, 45, 205, 75)
    blank = strip_input(page, line)
    assert blank.shape == INPUT_SHAPE and blank.dtype == np.float32 and blank.max() < 0.2  # nothing above the value
    page[32:42, 20:80] = 60  # a caption above it
    x = strip_input(page, line)
    assert x[:, :60].max() > 0.8 and x[:, 100:].max() < 0.2  # the caption, at the left
    edge = strip_input(page, Box(0, 0, 60, 20))  # strip above the page's top: border replicated, no error
    assert edge.shape == INPUT_SHAPE


def test_model_round_trip_and_refusal(tmp_path, tiny_caption_model):
    path = tmp_path / "captions.npz"
    tiny_caption_model.save(path)
    again = CaptionModel.load(path)
    x = np.random.default_rng(0).random((3, *INPUT_SHAPE)).astype(np.float32)
    p = again.predict_proba(x)
    assert p.shape == (3, len(CLASSES)) and np.allclose(p.sum(axis=1), 1.0)
    assert np.allclose(p, tiny_caption_model.predict_proba(x))
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(ModelError):
        CaptionModel.load(tmp_path / "bad.npz")
    with pytest.raises(ModelError):
        CaptionModel.load(tmp_path / "missing.npz")


def test_reader_decides_only_above_its_threshold(tiny_caption_model):
    page = np.full((120, 400, 3), 255, np.uint8)
    line = Box(20, 40, 200, 70)
    name, p = CaptionReader(tiny_caption_model, CaptionConfig(min_probability=0.0, decide_other=True))(page, line)
    assert name in CLASSES and 0.0 < p <= 1.0
    assert CaptionReader(tiny_caption_model, CaptionConfig(min_probability=1.01, decide_other=True))(page, line) == (None, p)


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _licence_row(caption: str, value: str) -> tuple[np.ndarray, Box]:
    """A light-grey caption over a dark value, drawn small (captions 9 px, values 20 px) and blurred as the
    licence fronts of a phone photo are; the value line's box."""
    import cv2

    img = Image.new("RGB", (520, 90), (236, 238, 232))
    draw = ImageDraw.Draw(img)
    small, big = ImageFont.truetype(str(FONT), 11), ImageFont.truetype(str(FONT), 22)
    draw.text((30, 22), caption, font=small, fill=(110, 140, 170))
    box = draw.textbbox((30, 38), value, font=big)
    draw.text((30, 38), value, font=big, fill=(30, 30, 30))
    page = cv2.GaussianBlur(np.asarray(img), (0, 0), 0.7)
    h = box[3] - box[1]
    return page, Box(box[0] - 0.2 * h, box[1] - 0.25 * h, box[2] + 0.2 * h, box[3] + 0.25 * h)


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_shipped_model_names_captions_not_the_value_under_them():
    """One value under captions of both names in the three licence styles, a birth date's and an eye colour's:
    the shipped weights must name most of them right. They never saw this drawing (the generator's licences
    use other fonts and layouts). A first model that also saw the value named all eight a last name: MORGAN
    is one of the generator's surnames. The lone digits 1 and 2 are the hardest (measured: 7 of the 8 named
    right by the shipped weights, only "2" wrong, "1" barely right)."""
    path = resolve_model_path(CaptionConfig().model)
    file_version("captions", path)  # the shipped file matches its record
    reader = CaptionReader(CaptionModel.load(path), CaptionConfig(min_probability=0.0, decide_other=True))
    cases = [("LAST NAME", "last_name"), ("FIRST NAME", "first_name"), ("LN", "last_name"), ("FN", "first_name"),
             ("1", "last_name"), ("2", "first_name"), ("DOB", "date_of_birth"), ("EYES", "other")]
    named = [reader(*_licence_row(caption, "MORGAN"))[0] for caption, _ in cases]
    right = sum(got == want for got, (_, want) in zip(named, cases))
    assert right >= 6, list(zip([c for c, _ in cases], named))


def test_other_decides_only_when_allowed(tiny_caption_model):
    from dataclasses import replace

    bias = np.zeros(len(CLASSES), np.float32)
    bias[0] = 50.0  # a model sure every line holds no key field
    sure_other = replace(tiny_caption_model, b2=bias)
    page, line = np.full((120, 400, 3), 255, np.uint8), Box(20, 40, 200, 70)
    assert CaptionReader(sure_other, CaptionConfig(decide_other=True))(page, line)[0] == "other"
    name, p = CaptionReader(sure_other, CaptionConfig())(page, line)  # off by default
    assert name is None and p > 0.99


def test_no_field_for_one_letter_lines_or_strips_off_the_page(tiny_caption_model):
    from dataclasses import replace

    bias = np.zeros(len(CLASSES), np.float32)
    bias[CLASSES.index("first_name")] = 50.0  # a model sure every line is a given name
    sure_name = replace(tiny_caption_model, b2=bias)
    reader = CaptionReader(sure_name, CaptionConfig())
    page = np.full((120, 400, 3), 255, np.uint8)
    assert reader(page, Box(20, 60, 200, 90))[0] == "first_name"
    assert reader(page, Box(20, 60, 35, 90))[0] is None  # one letter wide: a type "P", a sex "F"
    assert reader(page, Box(300, 60, 395, 90)) == (None, 0.0)  # its strip runs off the page's right edge
