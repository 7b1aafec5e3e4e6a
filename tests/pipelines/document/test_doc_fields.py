"""Field stages on known inputs: mask-to-box matching, merging in reading order, extension, OCR preprocessing.

CRAFT and UNET are replaced by test doubles that return hand-made maps, so the matching logic is
checked against exact answers independently of how well the models are trained.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.craft import CraftMaps
from pipelines.document.fields import FieldLocator, FieldReader, OcrConfig, Preprocess, TextConfig, preprocess
from veid.types import FIELD_CLASS, Field, Quad


class _Craft:
    def predict(self, rgb):
        h, w = rgb.shape[:2]
        return CraftMaps(np.zeros((h // 2, w // 2), np.float32), np.zeros((h // 2, w // 2), np.float32), 2.0, (w, h))


class _Unet:
    """Last name over two words on one line; ID number on another line; nothing else."""

    def __init__(self, tilt: float = 0.0) -> None:
        self.tilt = tilt

    def predict(self, maps, image_rgb=None):
        h, w = maps.shape
        p = np.zeros((h, w, 5), np.float32)
        p[..., 0] = 1.0
        p[20:30, 10:90, FIELD_CLASS[Field.LAST_NAME]] = 1.0
        p[50:60, 10:60, FIELD_CLASS[Field.ID_NUMBER]] = 1.0
        return p


def _decode(maps):
    # word boxes in image pixels (maps are half resolution): "VAN" "DER BERG" on the name line, one ID word
    return [Quad.from_array([[100, 40], [170, 40], [170, 60], [100, 60]]),
            Quad.from_array([[24, 40], [90, 40], [90, 60], [24, 60]]),
            Quad.from_array([[24, 100], [110, 100], [110, 120], [24, 120]]),
            Quad.from_array([[300, 200], [340, 200], [340, 220], [300, 220]])]


def test_boxes_matched_to_masks_merged_in_reading_order_and_extended():
    locator = FieldLocator(TextConfig(extend_x=0.5, extend_y=0.25), _Craft(), _Unet(), _decode)
    layout = locator(np.full((240, 400, 3), 255, np.uint8))
    assert set(layout.fields) == {Field.LAST_NAME, Field.ID_NUMBER}
    name = layout.fields[Field.LAST_NAME]
    assert [p.quad.bounds().x0 for p in name.parts] == [24, 100]  # reading order, left to right
    # union 24..170 x 40..60, extended by 0.5*20 = 10 px sideways and 0.25*20 = 5 px up/down
    assert name.box.to_list() == [14.0, 35.0, 180.0, 65.0]
    assert layout.fields[Field.ID_NUMBER].box.to_list() == [14.0, 95.0, 120.0, 125.0]
    assert len(layout.words) == 4 and layout.level_angle == 0.0
    cx, cy = layout.words[3].centre_ratio
    assert (round(cx, 3), round(cy, 3)) == (0.8, 0.875)  # centre as a fraction of width and height


def test_preprocess_scales_and_binarizes():
    crop = np.full((20, 100, 3), 200, np.uint8)
    crop[5:15, 10:90] = 30
    out = preprocess(crop, Preprocess(target_height=40, binarize="otsu", denoise="none"))
    assert out.shape == (40 + 16, 200 + 16)
    assert set(np.unique(out)) <= {0, 255}


def test_preprocess_scales_the_text_line_not_the_box():
    # a faint line 10 px high in a 60 px box (the box extended around its text, paper tinted): the line
    # comes out text_height high whatever the box's margins, with line_margin of it above and below
    crop = np.full((60, 120, 3), 215, np.uint8)
    crop[30:40, 10:110] = 150
    out = preprocess(crop, Preprocess(text_height=40, line_margin=0.25, binarize="none", denoise="none"))
    inner = out[8:-8, 8:-8]
    ink_rows = np.flatnonzero((inner < 128).mean(axis=1) > 0.5)
    assert 60 <= inner.shape[0] <= 64  # the line and a quarter of its height each side (rounded outwards)
    assert 38 <= ink_rows.size <= 42
    assert inner.min() < 20 and inner.max() > 235  # contrast stretched: ink near black, paper near white


def test_preprocess_text_line_falls_back_to_the_whole_box_without_ink():
    blank = np.full((30, 60, 3), 200, np.uint8)
    out = preprocess(blank, Preprocess(target_height=50, text_height=40, binarize="none", denoise="none"))
    assert out.shape == (50 + 16, 100 + 16)


def test_field_reader_reads_a_rendered_word():
    import cv2

    from pipelines.document.fields import FieldBox, FieldLayout
    from veid.types import Box

    img = np.full((80, 400, 3), 255, np.uint8)
    cv2.putText(img, "L898902C3", (10, 55), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
    layout = FieldLayout((), {Field.ID_NUMBER: FieldBox(Field.ID_NUMBER, Box(0, 10, 260, 70), (), 1.0)})
    out = FieldReader(OcrConfig())(img, layout)
    assert out[Field.ID_NUMBER].text == "L898902C3"


def test_real_model_classes_plug_in(shared_data):
    """Tiny untrained CRAFT and UNET (the shipped classes) run through the locator and the pipeline.

    The locator pads every document to one aspect, so the detector sees one input shape: with two shapes
    ``CraftDetector.predict`` (models/craft.py) fails on the second (its compiled graph retraces with a
    ``None`` dimension); this test failed that way before the padding.
    """
    from models.boxes import decode_word_boxes
    from models.craft import TINY_CRAFT, CraftDetector, build_craft
    from models.unet import TINY_UNET, FieldSegmenter, build_unet
    from pipelines.document.pipeline import DocumentConfig, DocumentStages, verify_document

    craft = CraftDetector(build_craft(TINY_CRAFT), long_side=96)
    unet = FieldSegmenter(build_unet(TINY_UNET), use_image=True)
    layout = FieldLocator(TextConfig(), craft, unet, decode_word_boxes)(np.full((200, 320, 3), 250, np.uint8))
    assert isinstance(layout.fields, dict) and layout.image is not None

    class _Models:  # what models.registry.load_document_models returns
        def __init__(self):
            self.craft, self.unet = craft, unet

        @property
        def versions(self):
            return [craft.version, unet.version]

    cfg = DocumentConfig()
    stages = DocumentStages.build(cfg, _Models())
    res = verify_document(shared_data / "mrz-passporteye" / "tests_data" / "passport-td3.png", cfg, stages)
    assert res.mrz is not None and res.mrz.valid
    assert [m.name for m in res.models] == ["craft-untrained", "unet-untrained", "veid-field-captions",
                                            "veid-diacritic-marks", "veid-low-marks"]
    assert "text_detection" in res.timings_ms
    assert not any(c.name == "document.field_models" for c in res.checks)  # the models ran


def test_model_failure_degrades_to_mrz_fields_with_a_failed_check(shared_data):
    from pipelines.document.pipeline import DocumentConfig, DocumentStages, verify_document
    from veid.types import ModelVersion

    class _Broken:
        version = ModelVersion("broken", "")

        def predict(self, *args, **kwargs):
            raise TypeError("graph error")

    class _Models:
        craft, unet = _Broken(), _Broken()
        versions = [ModelVersion("broken", "")]

    cfg = DocumentConfig()
    res = verify_document(shared_data / "mrz-passporteye" / "tests_data" / "passport-td3.png", cfg,
                          DocumentStages.build(cfg, _Models()))
    failed = {c.name: c for c in res.checks if not c.passed}
    assert "document.field_models" in failed and "TypeError" in failed["document.field_models"].reason
    assert res.fields[Field.ID_NUMBER].source == "mrz" and res.fields[Field.ID_NUMBER].value == "L898902C3"


@pytest.mark.parametrize("name", ["ÖZTÜRK", "ŁĘCKI", "KOVÁCS"])
def test_names_are_read_with_their_diacritics(repo_root, name):
    """params.yaml reads names with Tesseract's Latin-script model; English drops or garbles these letters."""
    from PIL import Image, ImageDraw, ImageFont

    from pipelines.document.fields import FieldBox, FieldLayout
    from veid.config import load_section
    from veid.types import Box

    cfg = load_section(repo_root / "params.yaml", "document_ocr", OcrConfig)
    assert cfg.last_name.lang == "Latin"
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)
    img = Image.new("RGB", (420, 80), "white")
    ImageDraw.Draw(img).text((12, 20), name, fill="black", font=font)
    rgb = np.asarray(img)
    ys, xs = np.nonzero(rgb[..., 0] < 128)
    pad = 0.2 * (ys.max() - ys.min())  # a field box as the pipeline extends it (document_text.extend_y)
    box = Box(xs.min() - 2 * pad, ys.min() - pad, xs.max() + 2 * pad, ys.max() + pad)
    layout = FieldLayout((), {Field.LAST_NAME: FieldBox(Field.LAST_NAME, box, (), 1.0)})
    assert FieldReader(cfg)(rgb, layout)[Field.LAST_NAME].text == name


def _boxes(*xyxy):
    return [Quad.from_array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) for x0, y0, x1, y1 in xyxy]


def test_a_mask_spilling_onto_a_second_line_keeps_the_line_it_covers_most():
    from models.field_words import match_field_words

    # map grid 40x100 at scale 2: the DOB mask covers the whole first date line and half of the one below
    probs = np.zeros((40, 100, 5), np.float32)
    probs[..., 0] = 1.0
    c = FIELD_CLASS[Field.DATE_OF_BIRTH]
    probs[4:10, 5:60, c] = 1.0
    probs[20:26, 5:25, c] = 1.0
    words = _boxes((10, 8, 60, 20), (66, 8, 110, 20), (10, 40, 90, 52))  # "12 MAR", "1961" | "15.01.2031"
    out = match_field_words(probs, words, 2.0)
    assert list(out) == [Field.DATE_OF_BIRTH]
    assert out[Field.DATE_OF_BIRTH].words == (0, 1)  # one line, left to right; the expiry date is left out
    assert out[Field.DATE_OF_BIRTH].box.to_list() == [10.0, 8.0, 110.0, 20.0]


def test_a_word_under_two_masks_joins_only_the_one_covering_it_most():
    from models.field_words import match_field_words

    probs = np.zeros((20, 100, 5), np.float32)
    probs[..., 0] = 1.0
    probs[4:10, 5:35, FIELD_CLASS[Field.FIRST_NAME]] = 1.0
    probs[4:10, 15:60, FIELD_CLASS[Field.LAST_NAME]] = 1.0  # covers half of word 0 too
    words = _boxes((10, 8, 50, 20), (56, 8, 116, 20))
    out = match_field_words(probs, words, 2.0)
    assert out[Field.LAST_NAME].words == (1,)
    assert out[Field.FIRST_NAME].words == (0,)
    assert match_field_words(probs, [], 2.0) == {}


def test_a_name_field_takes_the_rest_of_its_line_that_no_other_field_holds():
    from models.field_words import FieldMatch, whole_lines

    # "EMMA" (painted) "AOIFE" (not painted) | a far column's "M" | the next line's date (the DOB's)
    words = _boxes((10, 8, 50, 20), (56, 8, 110, 20), (200, 8, 212, 20), (10, 40, 90, 52))
    matches = {Field.FIRST_NAME: FieldMatch(words[0].bounds(), (0,), 0.9),
               Field.DATE_OF_BIRTH: FieldMatch(words[3].bounds(), (3,), 0.9)}
    out = whole_lines(matches, words, (Field.FIRST_NAME, Field.LAST_NAME))
    assert out[Field.FIRST_NAME].words == (0, 1)  # the grid column 90 px away stays out
    assert out[Field.FIRST_NAME].box.to_list() == [10.0, 8.0, 110.0, 20.0]
    assert out[Field.DATE_OF_BIRTH] is matches[Field.DATE_OF_BIRTH]
    # a word beside the name that another field holds is not taken
    held = {**matches, Field.LAST_NAME: FieldMatch(words[1].bounds(), (1,), 0.9)}
    assert whole_lines(held, words, (Field.FIRST_NAME, Field.LAST_NAME))[Field.FIRST_NAME].words == (0,)


def test_level_angle_comes_from_the_fields_words_not_the_masks():
    import cv2

    from pipelines.document.fields import level_angle

    def word(cx, cy, w, h, deg):
        return Quad.from_array(cv2.boxPoints(((cx, cy), (w, h), deg)))

    level = [word(100, 40, 120, 20, 0.0), word(100, 90, 80, 20, 0.0)]
    assert level_angle(level) == pytest.approx(0.0, abs=0.01)
    tilted = [word(100, 40, 120, 20, 6.0), word(100, 90, 90, 20, 6.0), word(100, 140, 60, 18, 5.0)]
    assert level_angle(tilted) == pytest.approx(6.0, abs=0.01)
    # a character-sized square or a vertical sliver says nothing about the line: ignored
    assert level_angle([word(10, 10, 20, 18, 30.0)]) == 0.0 and level_angle([]) == 0.0
    assert level_angle(tilted + [word(10, 10, 20, 18, 30.0)]) == pytest.approx(6.0, abs=0.01)


def test_level_document_with_fragmented_masks_is_not_rotated():
    """UNET masks broken into per-character blobs (as the trained model paints them) on level words."""

    class _FragmentedUnet:
        def predict(self, maps, image_rgb=None):
            h, w = maps.shape
            p = np.zeros((h, w, 5), np.float32)
            p[..., 0] = 1.0
            for x0 in range(12, 84, 8):  # character blobs, taller than wide, with gaps
                p[20:30, x0:x0 + 4, FIELD_CLASS[Field.LAST_NAME]] = 1.0
            p[40:46, 120:170, FIELD_CLASS[Field.LAST_NAME]] = 1.0  # a spill below and to the right: as one
            # rectangle with the name (the old measure) this mask read 8.4 degrees, and the card was rotated
            p[50:60, 12:55, FIELD_CLASS[Field.ID_NUMBER]] = 1.0
            return p

    layout = FieldLocator(TextConfig(), _Craft(), _FragmentedUnet(), _decode)(np.full((240, 400, 3), 255, np.uint8))
    assert layout.level_angle == 0.0
    assert set(layout.fields) == {Field.LAST_NAME, Field.ID_NUMBER}

