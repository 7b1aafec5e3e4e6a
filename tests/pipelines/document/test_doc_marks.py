"""Diacritic marks re-read per letter: mark/letter algebra, the zone features, the weights file, the shipped
classifier on drawn names, and the pipeline rule that keeps a name the MRZ confirmed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.document.low_marks import LOW_MARKS
from pipelines.document.marks import (
    MARKS, N_FEATURES, ZONE_SHAPE, MarkConfig, MarkModel, MarkReader, compose, letter_features, letters_of,
    resolve_model_path, split_mark,
)
from pipelines.document.pipeline import _marks
from pipelines.document.resolve import FieldResult
from pipelines.document.tesseract import Tesseract
from veid.errors import ModelError
from veid.types import Box, Field

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@pytest.mark.parametrize("c, expected", [
    ("Ó", ("O", "acute")), ("O", ("O", "none")), ("Ö", ("O", "diaeresis")), ("Ř", ("R", "caron")),
    ("å", ("a", "ring")), ("Ł", ("Ł", "none")), ("Ç", ("C", None)), ("-", ("-", None)),
])
def test_split_mark(c, expected):
    assert split_mark(c) == expected


def test_compose_makes_only_letters_of_european_names():
    assert compose("A", "acute") == "Á"
    assert compose("N", "tilde") == "Ñ"
    assert compose("u", "double_acute") == "ű"
    assert compose("R", "diaeresis") is None  # no such letter
    assert compose("E", "tilde") is None  # Ẽ is Vietnamese, outside Latin-1 / Extended-A
    assert compose("i", "dot") == "i" and compose("I", "dot") == "İ"
    assert compose("O", "none") == "O"


def test_letters_of_ignores_marks_case_and_separators():
    assert letters_of("Gómez-Pérez") == letters_of("GOMEZ PEREZ") == "GOMEZPEREZ"
    assert letters_of("Małgorzata Łęcka") == letters_of("MALGORZATA LECKA")  # marks through and below too


def _name(text: str, px: int = 40) -> np.ndarray:
    font = ImageFont.truetype(str(FONT), px)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    img = Image.new("RGB", (int(x1 - x0) + px, int(y1 - y0) + px // 2), (236, 232, 226))
    ImageDraw.Draw(img).text((px // 2 - x0, px // 4 - y0), text, font=font, fill=(20, 20, 30), anchor="ls")
    return np.asarray(img)


def test_letter_zone_holds_the_mark_above_its_letter():
    import cv2

    gray = cv2.cvtColor(_name("LÓPEZ"), cv2.COLOR_RGB2GRAY)
    feats = letter_features(gray, "LÓPEZ")
    assert len(feats) == 5 and all(f is not None and f.shape == (N_FEATURES,) for f in feats)
    # each zone is three letters wide, the letter in the middle third; its lowest rows reach into the body
    third, above = ZONE_SHAPE[1] // 3, ZONE_SHAPE[0] * 3 // 4
    ink = [float(f[:-2].reshape(ZONE_SHAPE)[:above, third:2 * third].sum()) for f in feats]
    assert ink[1] == max(ink) and ink[1] > 3 * ink[0]  # the acute lies over O, nothing over L


def test_letter_features_reject_what_has_no_line():
    assert letter_features(np.full((40, 80), 255, np.uint8), "ABC") == [None, None, None]
    assert letter_features(np.zeros((0, 0), np.uint8), "A") == [None]


def test_model_round_trips_and_gives_probabilities(tmp_path, tiny_mark_model):
    model = tiny_mark_model
    model.save(tmp_path / "m.npz")
    loaded = MarkModel.load(tmp_path / "m.npz")
    x = np.random.default_rng(1).random((5, N_FEATURES), dtype=np.float32)
    p = loaded.predict_proba(x)
    assert p.shape == (5, len(MARKS)) and np.allclose(p.sum(axis=1), 1)
    assert np.allclose(p, model.predict_proba(x))


def test_a_file_that_is_not_the_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="cannot load"):
        MarkModel.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", k1=np.zeros(3))
    with pytest.raises(ModelError):
        MarkModel.load(tmp_path / "other.npz")


@pytest.fixture(scope="module")
def reader() -> MarkReader:
    cfg = MarkConfig()
    return MarkReader(cfg, MarkModel.load(resolve_model_path(cfg.model)), Tesseract(psm=7, lang="Latin"))


@pytest.mark.parametrize("printed", ["LÓPEZ", "MÜLLER", "ÅSA", "DVOŘÁK"])
def test_shipped_model_puts_back_marks_tesseract_lost(reader, printed):
    """A sharp name drawn in a generator font, passed with its marks stripped as a blurred reading has them."""
    stripped = "".join(split_mark(c)[0] for c in printed)
    assert reader(_name(printed), stripped) == printed


@pytest.mark.parametrize("printed", ["LOPEZ", "MULLER", "ERIKSSON"])
def test_shipped_model_adds_no_mark_where_none_is_printed(reader, printed):
    assert reader(_name(printed), printed) is None


def test_a_value_whose_letters_the_crop_does_not_show_is_left_alone(reader):
    assert reader(_name("LÓPEZ"), "GARCIA") is None
    assert reader(np.zeros((2, 2, 3), np.uint8), "A") is None


class _ProbsReader(MarkReader):
    """A mark reader whose Tesseract reading and per-letter mark probabilities are given (``low``: those of
    the marks through or below letters; without it, no low-mark classifier)."""

    def __init__(self, text: str, probs: dict[int, dict[str, float]],
                 low: dict[int, dict[str, float]] | None = None) -> None:
        super().__init__(MarkConfig(), model=None, boxer=None)
        rows = [probs.get(i, {"none": 1.0}) for i in range(len(text))]
        low_rows = None if low is None else [low.get(i, {"none": 1.0}) for i in range(len(text))]
        low_probs = None if low_rows is None else np.array([[row.get(m, 0.0) for m in LOW_MARKS] for row in low_rows])
        self.found = text, np.array([[row.get(m, 0.0) for m in MARKS] for row in rows]), low_probs

    def marks(self, crop, read_crop=None):
        return self.found


def test_a_valid_mrz_that_rules_out_a_mark_lets_the_next_likeliest_shape_in():
    crop = np.zeros((20, 60, 3), np.uint8)
    unsure = _ProbsReader("LÖPEZ", {1: {"diaeresis": 0.6, "acute": 0.3, "grave": 0.1}})
    assert unsure(crop, "LÖPEZ") is None  # the image alone: the diaeresis stays
    assert unsure(crop, "LÖPEZ", mrz_name="LOEPEZ") is None  # the MRZ agrees with it
    assert unsure(crop, "LÖPEZ", mrz_name="LOPEZ") == "LÓPEZ"  # Ö is written OE: the acute, at any probability
    assert unsure(crop, "LÖPEZ", mrz_name="LAPEZ") is None  # no mark makes it the MRZ's: left as read
    # a shape Tesseract read on the crop and the MRZ allows outranks the classifier's (its ring is AA)
    read_acute = _ProbsReader("FERNÁNDEZ", {4: {"ring": 0.6, "tilde": 0.1, "acute": 0.05}})
    assert read_acute(crop, "FERNÄNDEZ", mrz_name="FERNANDEZ") == "FERNÁNDEZ"
    # a letter no reading saw a mark on gets none, whatever the MRZ
    assert _ProbsReader("LOPEZ", {1: {"diaeresis": 0.6, "none": 0.4}})(crop, "LOPEZ", mrz_name="LOEPEZ") is None
    # marks the MRZ cannot see keep the usual rule: the É stays although the classifier leans to È
    both = _ProbsReader("LÖPÉZ", {1: {"diaeresis": 0.6, "acute": 0.3}, 3: {"grave": 0.6, "acute": 0.4}})
    assert both(crop, "LÖPÉZ", mrz_name="LOPEZ") == "LÓPÉZ"


class _FixedReader:
    def __init__(self, value: str) -> None:
        self.value = value
        self.mrz_names: list = []

    def __call__(self, crop: np.ndarray, value: str, read_crop: np.ndarray | None = None,
                 mrz_name: str | None = None) -> str:
        self.mrz_names.append(mrz_name)
        return self.value


def _fields(value: str) -> dict:
    return {Field.LAST_NAME: FieldResult(value, "ocr", 0.9, Box(0, 0, 40, 10))}


def test_a_name_the_mrz_confirmed_keeps_agreeing_with_it():
    page = np.zeros((20, 60, 3), np.uint8)
    # KOHLER + diaeresis on O would transliterate to KOEHLER: the MRZ says KOHLER, so no change
    kohler = _marks(_fields("KOHLER"), {Field.LAST_NAME: "KOHLER"}, page, _FixedReader("KÖHLER"), True)
    assert kohler == _fields("KOHLER")
    # an acute transliterates to the bare letter: the MRZ still agrees
    out = _marks(_fields("LOPEZ"), {Field.LAST_NAME: "LOPEZ"}, page, _FixedReader("LÓPEZ"), True)
    assert out[Field.LAST_NAME].value == "LÓPEZ"
    # no MRZ: the image decides
    assert _marks(_fields("KOHLER"), {}, page, _FixedReader("KÖHLER"), False)[Field.LAST_NAME].value == "KÖHLER"


def test_names_from_the_mrz_are_marked_only_on_the_printed_line_they_outranked():
    page = np.zeros((20, 60, 3), np.uint8)
    mrz = {Field.LAST_NAME: "LOPEZ"}
    no_line = {Field.LAST_NAME: FieldResult("LOPEZ", "mrz", 1.0, None)}
    assert _marks(no_line, mrz, page, _FixedReader("LÓPEZ"), True) == no_line  # nowhere to read a mark
    # the printed line the MRZ's name outranked (``resolve_fields`` keeps its box): its marks are read,
    # and the name must still be the MRZ's
    own_line = {Field.LAST_NAME: replace(_fields("LOPEZ")[Field.LAST_NAME], source="mrz")}
    out = _marks(own_line, mrz, page, _FixedReader("LÓPEZ"), True)[Field.LAST_NAME]
    assert (out.value, out.source) == ("LÓPEZ", "mrz")
    own_line = {Field.LAST_NAME: replace(_fields("KOHLER")[Field.LAST_NAME], source="mrz")}
    assert _marks(own_line, {Field.LAST_NAME: "KOHLER"}, page, _FixedReader("KÖHLER"), True) == own_line


def test_only_a_valid_mrz_name_is_handed_to_the_mark_reader():
    page = np.zeros((20, 60, 3), np.uint8)
    for valid, expected in ((True, "LOPEZ"), (False, None)):
        fixed = _FixedReader("LÓPEZ")
        _marks(_fields("LOPEZ"), {Field.LAST_NAME: "LOPEZ"}, page, fixed, valid)
        assert fixed.mrz_names == [expected]


def test_a_mark_no_reading_saw_is_added_when_some_mark_is_sure_and_its_shape_the_likeliest():
    crop = np.zeros((20, 60, 3), np.uint8)
    # the acute over an I, its probability split with a double acute no I carries: added
    split = _ProbsReader("JOAQUIN", {5: {"acute": 0.55, "double_acute": 0.35, "diaeresis": 0.08, "none": 0.02}})
    assert split(crop, "JOAQUIN") == "JOAQUÍN"
    # not sure that any mark is there: left as read
    assert _ProbsReader("JOAQUIN", {5: {"acute": 0.7, "double_acute": 0.2, "none": 0.1}})(crop, "JOAQUIN") is None
    # the likeliest mark is one the letter cannot carry: no other shape is put in its place
    assert _ProbsReader("JOAQUIN", {5: {"double_acute": 0.6, "acute": 0.39, "none": 0.01}})(crop, "JOAQUIN") is None


def test_a_mark_both_readings_saw_stays_and_one_the_crop_reading_saw_needs_less_to_be_added():
    crop = np.zeros((20, 60, 3), np.uint8)
    # the value and Tesseract's reading of the crop both carry the acute: the classifier's diaeresis does not
    # replace it, however sure
    assert _ProbsReader("LUCÍA", {3: {"diaeresis": 0.94, "acute": 0.04, "none": 0.02}})(crop, "LUCÍA") is None
    # only one reading saw the acute: a sure classifier still reshapes it
    assert _ProbsReader("LUCIA", {3: {"diaeresis": 0.94, "acute": 0.04, "none": 0.02}})(crop, "LUCÍA") == "LUCÏA"
    # the reading of the crop saw an acute the value lacks, the classifier finds it likeliest: added at 0.5
    read = _ProbsReader("JOAQUÍN", {5: {"acute": 0.6, "none": 0.3, "diaeresis": 0.1}})
    assert read(crop, "JOAQUIN") == "JOAQUÍN"
    # ... not where the classifier finds another shape likelier, nor below read_probability
    assert _ProbsReader("JOAQUÍN", {5: {"diaeresis": 0.6, "acute": 0.3}})(crop, "JOAQUIN") is None
    assert _ProbsReader("JOAQUÍN", {5: {"acute": 0.4, "none": 0.6}})(crop, "JOAQUIN") is None


class _LaidReader(_ProbsReader):
    """A mark reader whose Tesseract reading of the crop is ``text``, and whose classifier gives ``laid`` for
    the value's own letters laid along the line."""

    def __init__(self, text: str, laid: dict[int, dict[str, float]]) -> None:
        super().__init__(text, {})
        self.laid = laid

    def _classified(self, crop, text):
        rows = [self.laid.get(i, {"none": 1.0}) for i in range(len(text))]
        return np.array([[row.get(m, 0.0) for m in MARKS] for row in rows]), None


def test_a_misread_crop_lays_the_value_s_letters_where_a_valid_mrz_confirms_them():
    crop = np.zeros((20, 60, 3), np.uint8)
    acute_on_a = {3: {"acute": 0.99, "none": 0.01}}
    # Tesseract read TURSE on the crop: the letters of TOMAS, confirmed by the MRZ, are laid along the line
    assert _LaidReader("TURSE", acute_on_a)(crop, "TOMAS", mrz_name="TOMAS") == "TOMÁS"
    assert _LaidReader("TURSE", acute_on_a)(crop, "TOMAS") is None  # no MRZ: no letter can be placed
    assert _LaidReader("TURSE", acute_on_a)(crop, "TOMAS", mrz_name="THOMAS") is None  # nor one disagreeing
    assert _LaidReader("", acute_on_a)(crop, "TOMAS", mrz_name="TOMAS") is None  # nothing read: too faint
