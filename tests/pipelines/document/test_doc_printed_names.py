"""The printed spelling of a name the MRZ gave: rendered lines read by the real Tesseract (synthetic identities)."""

from __future__ import annotations

import pytest

from pipelines.document.fields import FieldReader, OcrConfig
from pipelines.document.pipeline import DocumentConfig, _printed_names
from pipelines.document.printed_names import find_printed_name, respace
from pipelines.document.resolve import FieldResult
from tests.pipelines.document.test_doc_labels import FONT, _card, _layout
from veid.types import Field

pytestmark = pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")


@pytest.fixture(scope="module")
def reader():
    return FieldReader(OcrConfig())


def test_the_line_that_transliterates_to_the_mrz_name_gives_its_diacritics(reader):
    image, boxes, values = _card([("Sex", "M"), ("Vornamen", "BJÖRN"), ("Name", "ÖZTÜRK")])
    layout = _layout(image, boxes, {})  # the field models found no name at all
    found = find_printed_name(Field.FIRST_NAME, "BJOERN", layout, reader, exclude=set())
    assert found is not None and found.text == "BJÖRN"
    assert found.box.x0 <= boxes[values[1]].x0 and found.box.x1 >= boxes[values[1]].x1
    assert find_printed_name(Field.LAST_NAME, "OEZTUERK", layout, reader, exclude=set()).text == "ÖZTÜRK"


def test_an_mrz_name_with_lost_letters_or_word_breaks_finds_its_printed_line(reader):
    image, boxes, values = _card([("Vornamen", "OLIVER"), ("Name", "KAYA")])
    layout = _layout(image, boxes, {})
    assert find_printed_name(Field.FIRST_NAME, "O LIVER", layout, reader, exclude=set()).text == "OLIVER"
    assert find_printed_name(Field.LAST_NAME, "KYA", layout, reader, exclude=set()).text == "KAYA"


def test_an_mrz_name_with_its_first_filler_read_as_k_finds_its_printed_line(reader):
    image, boxes, values = _card([("Vornamen", "JAN"), ("Name", "ZOE")])
    layout = _layout(image, boxes, {})
    assert find_printed_name(Field.FIRST_NAME, "JANK", layout, reader, exclude=set()).text == "JAN"
    # a final E is a letter the printed reading may have lost as likely: not taken for a filler
    image, boxes, values = _card([("Vornamen", "ZO")])
    assert find_printed_name(Field.FIRST_NAME, "ZOE", _layout(image, boxes, {}), reader, exclude=set()) is None


def test_no_line_reads_as_the_mrz_name_letter_for_letter(reader):
    image, boxes, values = _card([("Vornamen", "BJÖRN")])
    layout = _layout(image, boxes, {})
    assert find_printed_name(Field.FIRST_NAME, "BJOARN", layout, reader, exclude=set()) is None  # a letter swapped
    assert find_printed_name(Field.FIRST_NAME, "BRN", layout, reader, exclude=set()) is None  # most letters lost
    image, boxes, values = _card([("Name", "GOMEZ PERE Z")])  # a printed reading with a break the MRZ lacks
    layout = _layout(image, boxes, {})
    assert find_printed_name(Field.LAST_NAME, "GOMEZ PEREZ", layout, reader, exclude=set()) is None
    assert find_printed_name(Field.FIRST_NAME, "BJOERN", layout, reader, exclude={values[0]}) is None  # held
    assert find_printed_name(Field.FIRST_NAME, "BJOERN", layout, reader, exclude=set(), max_lines=0) is None


def test_a_line_that_lost_its_umlaut_gives_the_mrz_name_with_it_put_back(reader):
    image, boxes, values = _card([("Name", "KOHLER")])  # as Tesseract reads a worn "KÖHLER"
    layout = _layout(image, boxes, {})
    assert find_printed_name(Field.LAST_NAME, "KOEHLER", layout, reader, exclude=set()).text == "KÖHLER"


@pytest.mark.parametrize(("printed", "mrz_name", "expected"), [
    ("KELL Y", "KELLY", "KELLY"),                    # a break at a wide letter gap
    ("BÄC KSTRÖM", "BAECKSTROEM", "BÄCKSTRÖM"),      # diacritics stay
    ("SOFIA JÁ NA", "SOFIA JANA", "SOFIA JÁNA"),     # the MRZ's own break stays
    ("SOFIAJÁNA", "SOFIA JANA", None),               # fewer breaks than the MRZ: not this rule's
    ("KEL Y", "KELLY", None),                        # other letters
    ("ANNA", "ANNA", None),
])
def test_word_breaks_the_mrz_name_lacks_are_taken_out(printed, mrz_name, expected):
    assert respace(printed, mrz_name) == expected


def test_the_hyphens_a_misread_printed_name_shows_at_the_mrz_word_breaks_are_kept():
    from pipelines.document.printed_names import hyphenate

    assert hyphenate("GÓMEZ-PÍRFZ.", "GOMEZ PEREZ") == "GOMEZ-PEREZ"  # letters misread, the hyphen is not
    assert hyphenate("MÜLLER-LÜDENSCHEIDT", "MUELLER LUEDENSCHEIDT") == "MUELLER-LUEDENSCHEIDT"  # Ü is UE
    assert hyphenate("JEAN-PIERRE MARC", "JEAN PIERRE MARC") == "JEAN-PIERRE MARC"
    assert hyphenate("GÓMEZ PÉREZ", "GOMEZ PEREZ") is None  # no hyphen printed
    assert hyphenate("GOM-EZPEREZ", "GOMEZ PEREZ") is None  # a hyphen away from the MRZ's word break
    assert hyphenate("ANNA", "ANNA") is None


def _printed(value: str, box) -> FieldResult:
    return FieldResult(value, "ocr", 0.95, box)


def test_a_printed_name_the_valid_mrz_contradicts_gives_way_to_the_line_that_reads_as_the_mrz_name(reader):
    image, boxes, values = _card([("Nationality", "PRT"), ("Given names", "OLIVER"), ("Surname", "KAYA")])
    prt, oliver, kaya = (boxes[v] for v in values)
    layout = _layout(image, boxes, {Field.FIRST_NAME: [values[0]], Field.LAST_NAME: [values[2]]})
    cfg = DocumentConfig()
    fields = {Field.FIRST_NAME: _printed("PRT", prt), Field.LAST_NAME: _printed("KAYA", kaya)}
    mrz = {Field.FIRST_NAME: "OLIVER", Field.LAST_NAME: "KAYA"}
    # the field models read the nationality's line as the given name: the MRZ's name is printed elsewhere
    out = _printed_names(fields, mrz, layout, reader, {}, {"first_name"}, cfg)
    assert out[Field.FIRST_NAME].value == "OLIVER" and out[Field.FIRST_NAME].source == "ocr"
    assert out[Field.FIRST_NAME].box.iou(oliver) > 0.5
    assert out[Field.LAST_NAME] == fields[Field.LAST_NAME]
    # a tampered given name: the MRZ's is printed nowhere, the printed one stays (its check stays failed)
    tampered = _printed_names(fields, {**mrz, Field.FIRST_NAME: "JAN"}, layout, reader, {}, {"first_name"}, cfg)
    assert tampered == fields
    # only where the cross-check failed is a line looked for
    assert _printed_names(fields, mrz, layout, reader, {}, set(), cfg) == fields


def test_an_mrz_names_row_read_with_one_name_is_not_trusted_to_replace_a_printed_name(reader):
    image, boxes, values = _card([("Given names", "EVA"), ("Surname", "MOREAU")])
    eva, moreau = (boxes[v] for v in values)
    layout = _layout(image, boxes, {Field.FIRST_NAME: [values[0]], Field.LAST_NAME: [values[1]]})
    fields = {Field.FIRST_NAME: _printed("EVA", eva), Field.LAST_NAME: _printed("MOREAU", moreau)}
    # MOREAU<<EVA read as EVA<<<: its surname is the given name, and EVA is printed (on the given name's line)
    out = _printed_names(fields, {Field.LAST_NAME: "EVA", Field.FIRST_NAME: ""}, layout, reader, {}, {"last_name"},
                         DocumentConfig())
    assert out == fields
