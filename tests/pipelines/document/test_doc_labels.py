"""Name fields by their printed labels: the lexicon, the label geometry, and the re-assignment on a rendered card.

The rendered card is drawn here with DejaVu Sans (installed by ``make install``) and read by the real
Tesseract; the UNET is replaced by a coverage matrix that swaps the two names, as the trained one often does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.document.fields import FieldBox, FieldLayout, TextBox, text_lines
from pipelines.document.labels import (
    OTHER, LabelConfig, NameLabels, classify_label, label_box, label_strip, read_label,
)
from veid.types import FIELD_CLASS, Box, Field, Quad

LAST, FIRST = Field.LAST_NAME, Field.FIRST_NAME


@pytest.mark.parametrize("text, expected", [
    ("Surname", LAST), ("SURNAME / NOM", LAST), ("1. Nazwisko / Surname", LAST), ("Name", LAST),
    ("Apellidos", LAST), ("Cognome", LAST), ("LN", LAST), ("LAST NAME", LAST), ("1", LAST),
    ("Given names", FIRST), ("Prénoms / Given names", FIRST), ("2. Vornamen", FIRST), ("Nome", FIRST),
    ("Nombre", FIRST), ("Förnamn", FIRST), ("FN", FIRST), ("FIRST NAME", FIRST), ("2", FIRST),
    # what Tesseract makes of small label print: a slash read as } | I or Í, letters confused
    ("Prénoms} Given names", FIRST), ("Nom Í Surname", LAST), ("Etornamn 1Sumame", LAST), ("VOONNÄMEN", FIRST),
    ("NOME / GIVEN NAMES", FIRST), ("RANE I SURNAME", LAST), ("NOM? EFTERNAMN", LAST), ("2Vornamen", FIRST),
])
def test_labels_of_both_names_in_every_supported_language(text, expected):
    assert classify_label(text) is expected


@pytest.mark.parametrize("text", [
    "Date of birth", "Nationality", "Pass-Nr.", "3 DOB", "4d DLN", "29-10-1971", "REPUBLIK ÖSTERREICH", "POL",
    "", "Surname / Given names",  # both names at once: ambiguous, the UNET's choice stands
    "Nomx", "NAM",  # short captions must match exactly ("NOM" is the surname, "NOME" the given names)
    "FAST NAME", "/ARST NAME",  # FIRST NAME misread: LAST NAME is nearly as close
])
def test_other_labels_and_ambiguous_ones_name_no_field(text):
    assert classify_label(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("4d DLN", Field.ID_NUMBER), ("LICENSE NO", Field.ID_NUMBER), ("N° du document", Field.ID_NUMBER),
    ("Pass-Nr.", Field.ID_NUMBER), ("3 DOB", Field.DATE_OF_BIRTH), ("Date of birth / Date de naissance",
                                                                    Field.DATE_OF_BIRTH),
    ("Geburtsdatum", Field.DATE_OF_BIRTH), ("Surname / Nom", LAST),
    ("18 EYES", OTHER), ("Nationalité", OTHER), ("Staatsangehörigkeit", OTHER), ("Płeć", OTHER), ("SEXE", OTHER),
    ("Date of expiry", OTHER), ("DATE OF ISSUE", OTHER),
    ("LAST", LAST), ("FIRST", FIRST),  # the caption's second word unread
    ("JANSEN", None), ("29-10-1971", None), ("", None), ("EYE", None), ("8", None),
    ("Date of birth / Place of birth", None),  # two fields at once
])
def test_labels_of_every_field(text, expected):
    assert read_label(text) == expected


def test_label_box_is_the_left_aligned_line_just_above():
    value = Box(100, 200, 300, 230)  # 30 px high
    words = [Box(100, 180, 160, 195), Box(166, 180, 200, 195),  # "Given names" right above, left-aligned
             Box(400, 180, 470, 195),  # the next column's label: not this value's
             Box(100, 120, 180, 135),  # a line further up (beyond max_gap)
             Box(100, 240, 200, 270)]  # the line below
    assert label_box(words, value).to_list() == [100.0, 180.0, 200.0, 195.0]
    assert label_box(words[2:], value) is None
    # CRAFT found "NAME" of "FIRST NAME" only: the box still reaches the value's left edge, where "FIRST" is
    assert label_box([Box(140, 180, 200, 195)], value).to_list() == [97.0, 180.0, 200.0, 195.0]
    strip = label_strip(value, 0.75)
    assert strip.y1 == value.y0 and strip.y0 == pytest.approx(200 - 22.5) and strip.x1 >= value.x0 + 8 * 30


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _card(rows: list[tuple[str, str]]) -> tuple[np.ndarray, list[Box], list[int]]:
    """A white card with ``(label, value)`` rows; word boxes of labels and values, and which boxes are values."""
    img = Image.new("RGB", (900, 110 * len(rows) + 40), "white")
    draw = ImageDraw.Draw(img)
    small, big = ImageFont.truetype(str(FONT), 22), ImageFont.truetype(str(FONT), 40)
    boxes, values, y = [], [], 20
    for label, value in rows:
        for text, font, dy in ((label, small, 0), (value, big, 30)):
            x = 40
            for word in text.split():
                x0, y0, x1, y1 = draw.textbbox((x, y + dy), word, font=font)
                draw.text((x, y + dy), word, font=font, fill="black")
                if font is big:
                    values.append(len(boxes))
                boxes.append(Box(x0, y0, x1, y1))
                x = x1 + font.size // 3
        y += 110
    return np.asarray(img), boxes, values


def _layout(image: np.ndarray, boxes: list[Box], painted: dict[Field, list[int]]) -> FieldLayout:
    """A layout whose coverage matrix paints the words ``painted[field]`` with that field's mask."""
    h, w = image.shape[:2]
    words = tuple(TextBox(Quad.from_array([[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]]),
                          (b.center[0] / w, b.center[1] / h)) for b in boxes)
    cover = np.zeros((len(boxes), 4))
    fields = {}
    for f, idx in painted.items():
        cover[idx, FIELD_CLASS[f] - 1] = 0.9
        box = boxes[idx[0]]
        for k in idx[1:]:
            box = box.union(boxes[k])
        fields[f] = FieldBox(f, box, tuple(words[k] for k in idx), 0.9)
    return FieldLayout(words, fields, 0.0, image, cover, (h, w))


def _text_of(layout: FieldLayout, f: Field, boxes: list[Box]) -> list[int]:
    return sorted(boxes.index(p.quad.bounds()) for p in layout.fields[f].parts)


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_swapped_names_are_put_right_by_their_labels():
    image, boxes, values = _card([("Surname / Nom", "DUPONT"), ("Prénoms / Given names", "ANNE MARIE"),
                                  ("Date of birth", "12.03.1985")])
    surname, given, dob = [values[0]], values[1:3], [values[3]]
    # the UNET swapped the names, and missed "ANNE" (only "MARIE" painted)
    layout = _layout(image, boxes, {FIRST: surname, LAST: [given[1]], Field.DATE_OF_BIRTH: dob})
    out = NameLabels(LabelConfig())(layout)
    assert _text_of(out, LAST, boxes) == surname
    assert _text_of(out, FIRST, boxes) == given  # the whole line: "ANNE" joined its neighbour
    assert _text_of(out, Field.DATE_OF_BIRTH, boxes) == dob  # other fields untouched
    assert out.fields[FIRST].box.x0 < boxes[given[0]].x0  # extended like the locator's boxes


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_a_name_line_carrying_the_other_names_label_is_dropped_not_kept():
    image, boxes, values = _card([("Surname", "DUPONT"), ("Place of birth", "LYON")])
    # the UNET took the surname line for the given names and painted no surname
    layout = _layout(image, boxes, {FIRST: [values[0]]})
    out = NameLabels(LabelConfig())(layout)
    assert _text_of(out, LAST, boxes) == [values[0]]
    assert FIRST not in out.fields


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_unlabelled_or_disabled_leaves_the_layout_as_the_unet_made_it():
    image, boxes, values = _card([("", "DUPONT"), ("Remarks", "ANNE")])
    layout = _layout(image, boxes, {LAST: [values[0]], FIRST: [values[1]]})
    assert NameLabels(LabelConfig())(layout) is layout  # no label in the lexicon read: nothing changes
    image, boxes, values = _card([("Given names", "DUPONT")])
    layout = _layout(image, boxes, {LAST: [values[0]]})
    assert NameLabels(LabelConfig(enabled=False))(layout) is layout


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_name_lines_the_unet_missed_are_found_by_their_labels():
    image, boxes, values = _card([("DLN", "D1234567"), ("EYES", "BRO"), ("LN", "MURPHY"), ("FN", "KARL")])
    layout = _layout(image, boxes, {Field.ID_NUMBER: [values[0]]})  # the UNET painted no name
    out = NameLabels(LabelConfig())(layout)
    assert _text_of(out, LAST, boxes) == [values[2]]
    assert _text_of(out, FIRST, boxes) == [values[3]]
    assert _text_of(out, Field.ID_NUMBER, boxes) == [values[0]]
    assert NameLabels(LabelConfig(scan_lines=0))(layout) is layout  # off: nothing is looked for


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_a_name_line_under_another_fields_label_is_no_name_and_the_name_is_looked_for():
    image, boxes, values = _card([("EYES", "BRO"), ("FN", "KARL")])
    layout = _layout(image, boxes, {FIRST: [values[0]]})  # the UNET took the eye colour for the given name
    out = NameLabels(LabelConfig())(layout)
    assert _text_of(out, FIRST, boxes) == [values[1]]
    out = NameLabels(LabelConfig(scan_lines=0))(layout)
    assert FIRST not in out.fields  # not scanned for: no given name rather than the eye colour


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_an_id_number_and_birth_date_the_unet_missed_are_found_by_their_labels():
    image, boxes, values = _card([("EXP", "05/20/2031"), ("DOB", "05/20/1948"), ("LN", "MURPHY"),
                                  ("LICENSE NO", "D1234567")])
    layout = _layout(image, boxes, {LAST: [values[2]]})
    out = NameLabels(LabelConfig())(layout)
    assert _text_of(out, Field.DATE_OF_BIRTH, boxes) == [values[1]]  # not the expiry date above it
    assert _text_of(out, Field.ID_NUMBER, boxes) == [values[3]]
    assert FIRST not in out.fields  # no line carries its label
    assert NameLabels(LabelConfig())(_layout(image, boxes, {})).fields == {}  # nothing painted: no front


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_the_scan_reads_value_lines_not_captions():
    image, boxes, values = _card([("DLN", "D1234567"), ("EYES", "BRO"), ("SEX", "M"), ("CLASS", "D"), ("FN", "KARL")])
    layout = _layout(image, boxes, {Field.ID_NUMBER: [values[0]]})
    # four lines are read: the four values, not the captions between them (half their height)
    out = NameLabels(LabelConfig(scan_lines=4))(layout)
    assert _text_of(out, FIRST, boxes) == [values[4]]


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_value_lines_are_those_printed_at_the_size_of_the_held_values():
    image, boxes, values = _card([("DLN", "D1234567"), ("SEX", "M"), ("DOB", "05/20/1948")])
    layout = _layout(image, boxes, {Field.ID_NUMBER: [values[0]]})
    held = layout.word_indices(layout.fields)
    assert len(text_lines(layout, held, (Field.DATE_OF_BIRTH,))) == 5  # three captions and two values
    assert text_lines(layout, held, (Field.DATE_OF_BIRTH,), values_only=True) == [(values[1],), (values[2],)]


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_a_tall_stamp_beside_a_value_does_not_hide_its_line():
    image, boxes, values = _card([("DLN", "D1234567"), ("LN", "KOHLER")])
    name = boxes[values[1]]
    pad = 0.35 * name.height  # a word 1.7 times as high: "SPECIMEN" across the portrait beside the name
    stamp = Box(name.x1 + 20, name.y0 - pad, name.x1 + 400, name.y1 + pad)
    layout = _layout(image, [*boxes, stamp], {Field.ID_NUMBER: [values[0]]})
    held = layout.word_indices(layout.fields)
    assert text_lines(layout, held, (LAST,), values_only=True) == [(values[1],)]


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_a_caption_craft_missed_is_read_in_the_strip_under_the_value_above():
    img = Image.new("RGB", (900, 200), "white")
    draw = ImageDraw.Draw(img)
    small, big = ImageFont.truetype(str(FONT), 20), ImageFont.truetype(str(FONT), 40)
    boxes = []
    for text, font, y, seen in (("DLN", small, 10, True), ("D1234567", big, 34, True),
                                ("LAST NAME", small, 76, False), ("MURPHY", big, 96, True)):
        draw.text((40, y), text, font=font, fill="black")
        if seen:  # CRAFT found no word of the "LAST NAME" caption
            boxes.append(Box(*draw.textbbox((40, y), text, font=font)))
    layout = _layout(np.asarray(img), boxes, {Field.ID_NUMBER: [1]})
    # the line above MURPHY is the DLN's value, no caption: without the strip nothing is found
    assert LAST not in NameLabels(LabelConfig())(layout).fields
    out = NameLabels(LabelConfig(caption_height=0.85))(layout)
    assert _text_of(out, LAST, boxes) == [2]


class _ShapeReader:
    """A caption classifier stand-in: names the value lines at the given tops (image pixels) and records
    every line it was asked about."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names, self.asked = names, []

    def __call__(self, image: np.ndarray, line: Box) -> tuple[str | None, float]:
        self.asked.append(line)
        for top, name in self.names.items():
            if abs(line.y0 - top) < 15:
                return name, 0.99
        return None, 0.5


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_captions_tesseract_cannot_read_are_named_by_the_caption_classifier():
    # no caption Tesseract can read over the names, as on blurred licences
    image, boxes, values = _card([("DLN", "D1234567"), ("", "KARL"), ("", "MURPHY")])
    layout = _layout(image, boxes, {Field.ID_NUMBER: [values[0]], LAST: [values[1]], FIRST: [values[2]]})
    assert NameLabels(LabelConfig())(layout) is layout  # without the classifier the UNET's swap stands
    top = {boxes[values[k]].y0: k for k in (1, 2)}
    reader = _ShapeReader({int(y): ("first_name" if k == 1 else "last_name") for y, k in top.items()})
    out = NameLabels(LabelConfig(), captions=reader)(layout)
    assert _text_of(out, FIRST, boxes) == [values[1]]
    assert _text_of(out, LAST, boxes) == [values[2]]
    assert _text_of(out, Field.ID_NUMBER, boxes) == [values[0]]


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_the_caption_classifier_is_not_asked_where_tesseract_read_the_caption():
    image, boxes, values = _card([("Surname", "DUPONT"), ("Given names", "ANNE")])
    layout = _layout(image, boxes, {FIRST: [values[0]], LAST: [values[1]]})
    reader = _ShapeReader({int(boxes[values[0]].y0): "first_name"})  # would keep the swap
    out = NameLabels(LabelConfig(), captions=reader)(layout)
    assert _text_of(out, LAST, boxes) == [values[0]] and _text_of(out, FIRST, boxes) == [values[1]]
    assert reader.asked == []


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_a_swap_is_completed_when_only_one_names_label_is_read():
    image, boxes, values = _card([("Surname", "DUPONT"), ("", "ANNE")])
    layout = _layout(image, boxes, {FIRST: [values[0]], LAST: [values[1]]})  # the UNET swapped the names
    out = NameLabels(LabelConfig())(layout)
    assert _text_of(out, LAST, boxes) == [values[0]] and FIRST not in out.fields  # off: no given name
    out = NameLabels(LabelConfig(complete_swaps=True))(layout)
    assert _text_of(out, LAST, boxes) == [values[0]]
    assert _text_of(out, FIRST, boxes) == [values[1]]  # the line it painted as the surname
    agree = _layout(image, boxes, {LAST: [values[0]], FIRST: [values[1]]})
    out = NameLabels(LabelConfig(complete_swaps=True))(agree)  # no swap: each name stays on its line
    assert _text_of(out, LAST, boxes) == [values[0]] and _text_of(out, FIRST, boxes) == [values[1]]
