"""Marks through or below a letter (Ł, Ø, Ç, Ę): letter algebra, the body zone, the reader's rules, and the
shipped classifier on drawn names."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.document.low_marks import (
    BODY_SHAPE, LOW_MARKS, LowMarkModel, bare, body_features, compose_low, split_low,
)
from pipelines.document.marks import MarkConfig, MarkModel, MarkReader, prepare, resolve_model_path
from pipelines.document.tesseract import Tesseract
from tests.pipelines.document.test_doc_marks import _ProbsReader
from veid.errors import ModelError

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@pytest.mark.parametrize("c, expected", [
    ("Ł", ("L", "stroke")), ("ø", ("o", "stroke")), ("Ç", ("C", "cedilla")), ("Ę", ("E", "ogonek")),
    ("ą", ("a", "ogonek")), ("É", ("É", "none")), ("L", ("L", "none")), ("-", ("-", None)),
])
def test_split_low(c, expected):
    assert split_low(c) == expected


def test_compose_low_makes_only_letters_of_european_names():
    assert compose_low("L", "stroke") == "Ł" and compose_low("o", "stroke") == "ø"
    assert compose_low("C", "cedilla") == "Ç" and compose_low("E", "ogonek") == "Ę"
    assert compose_low("B", "stroke") is None and compose_low("B", "ogonek") is None
    assert compose_low("Q", "none") == "Q"
    assert [bare(c) for c in "ŁØÇĘÉÖA"] == list("LOCEEOA")


def _name(text: str, px: int = 40) -> np.ndarray:
    font = ImageFont.truetype(str(FONT), px)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    img = Image.new("RGB", (int(x1 - x0) + px, int(y1 - y0) + px // 2 + px // 3), (236, 232, 226))
    ImageDraw.Draw(img).text((px // 2 - x0, px // 4 - y0), text, font=font, fill=(20, 20, 30), anchor="ls")
    return np.asarray(img)


def test_body_zone_holds_what_hangs_below_the_letter():
    gray = {t: cv2.cvtColor(_name(t), cv2.COLOR_RGB2GRAY) for t in ("ÇA", "CA")}
    below = {t: float(body_features(g, t)[0][:-2].reshape(BODY_SHAPE)[-BODY_SHAPE[0] // 4:].sum())
             for t, g in gray.items()}
    assert below["ÇA"] > 3 * below["CA"] + 1  # the cedilla lies in the band below the baseline
    assert body_features(np.full((40, 80), 255, np.uint8), "ABC") == [None, None, None]
    assert all(f is not None and f.shape == (LowMarkModel.n_features(),) for f in body_features(gray["CA"], "CA"))


def test_a_low_mark_is_added_where_sure_or_read_and_never_removed():
    crop = np.zeros((20, 60, 3), np.uint8)
    stroke = {2: {"stroke": 0.99, "none": 0.01}}
    assert _ProbsReader("MALGORZATA", {}, stroke)(crop, "MALGORZATA") == "MAŁGORZATA"
    # no reading saw it and the classifier is not sure: left as read
    assert _ProbsReader("MALGORZATA", {}, {2: {"stroke": 0.9, "none": 0.1}})(crop, "MALGORZATA") is None
    # Tesseract read it on the crop: the classifier's min_probability is enough
    assert _ProbsReader("MAŁGORZATA", {}, {2: {"stroke": 0.85, "none": 0.15}})(crop, "MALGORZATA") == "MAŁGORZATA"
    # the likeliest low mark is one the letter cannot carry: nothing else is put there
    assert _ProbsReader("LECKI", {}, {1: {"cedilla": 0.99, "none": 0.01}})(crop, "LECKI") is None
    assert _ProbsReader("LECKI", {}, {1: {"ogonek": 0.98, "none": 0.02}})(crop, "LECKI") == "LĘCKI"
    # a mark is never removed, and a letter with a stroke takes no mark above it (its stroke is no acute)
    assert _ProbsReader("ŁECKI", {0: {"acute": 0.99, "none": 0.01}}, {0: {"none": 1.0}})(crop, "ŁECKI") is None
    # lower case stays lower case
    assert _ProbsReader("Malgorzata", {}, stroke)(crop, "Malgorzata") == "Małgorzata"
    # without the low-mark classifier only the marks above are read
    assert _ProbsReader("MALGORZATA", {})(crop, "MALGORZATA") is None


def test_a_low_mark_the_name_already_carries_is_added_again_only_where_tesseract_read_it():
    crop = np.zeros((20, 60, 3), np.uint8)
    luca = {11: {"cedilla": 1.0}}  # the C of LUCA (index 11) looks like the Ç beside it on a blurred capture
    assert _ProbsReader("FRANÇOIS LUCA", {}, luca)(crop, "FRANÇOIS LUCA") is None
    assert _ProbsReader("FRANÇOIS LUÇA", {}, {11: {"cedilla": 0.9, "none": 0.1}})(
        crop, "FRANÇOIS LUCA") == "FRANÇOIS LUÇA"  # read there too: two witnesses
    # another kind is added as usual: the ogonek of ŁĘCKI beside its stroke
    assert _ProbsReader("ŁECKI", {}, {1: {"ogonek": 0.99, "none": 0.01}})(crop, "ŁECKI") == "ŁĘCKI"
    # and one added in this name counts as carried: a second sure cedilla no reading saw stays off
    two = _ProbsReader("FRANCOIS LUCA", {}, {4: {"cedilla": 0.99, "none": 0.01}, 11: {"cedilla": 0.99, "none": 0.01}})
    assert two(crop, "FRANCOIS LUCA") == "FRANÇOIS LUCA"


def test_a_valid_mrz_that_needs_a_stroke_lets_the_likelier_one_in():
    crop = np.zeros((20, 60, 3), np.uint8)
    unsure = _ProbsReader("SOREN", {}, {1: {"stroke": 0.6, "none": 0.4}})
    assert unsure(crop, "SOREN") is None  # the image alone is not sure
    assert unsure(crop, "SOREN", mrz_name="SOEREN") == "SØREN"  # Ø is written OE: the MRZ decides
    assert unsure(crop, "SOREN", mrz_name="SOREN") is None
    assert _ProbsReader("SOREN", {}, {1: {"stroke": 0.3, "none": 0.7}})(crop, "SOREN", mrz_name="SOEREN") is None


@pytest.fixture(scope="module")
def reader() -> MarkReader:
    cfg = MarkConfig()
    return MarkReader(cfg, MarkModel.load(resolve_model_path(cfg.model)), Tesseract(psm=7, lang="Latin"),
                      LowMarkModel.load(resolve_model_path(cfg.low_model)))


@pytest.mark.parametrize("printed", ["MAŁGORZATA", "FRANÇOIS", "ŁĘCKI"])
def test_shipped_model_puts_back_low_marks_tesseract_lost(reader, printed):
    """A sharp name drawn in a generator font, passed with its marks stripped as a blurred reading has them."""
    assert reader(_name(printed), "".join(bare(c) for c in printed)) == printed


@pytest.mark.parametrize("printed", ["MALGORZATA", "FRANCOIS", "LECKI", "OLSEN"])
def test_shipped_model_adds_no_low_mark_where_none_is_printed(reader, printed):
    assert reader(_name(printed), printed) is None


def test_model_file_round_trips(tmp_path, tiny_low_mark_model):
    model = tiny_low_mark_model
    model.save(tmp_path / "low.npz")
    x = np.random.default_rng(0).random((3, LowMarkModel.n_features()), dtype=np.float32)
    assert np.allclose(LowMarkModel.load(tmp_path / "low.npz").predict_proba(x), model.predict_proba(x))
    with pytest.raises(ModelError, match="low mark model"):
        LowMarkModel.load(tmp_path / "missing.npz")


def test_a_crop_cut_through_the_letters_feet_is_bordered_with_paper():
    """A field box that ends on the letters must not draw them on below (what an ogonek would look like)."""
    crop = np.full((30, 60), 230, np.uint8)
    crop[10:, 20:26] = 20  # a stem running off the crop's bottom edge
    replicated, papered = prepare(crop, 30), prepare(crop, 30, paper_border=True)
    assert replicated[-8:, 28:34].max() < 100  # the stem goes on into the border
    assert papered[-8:].min() > 200 and papered[8:-8, 28:34].min() < 100
