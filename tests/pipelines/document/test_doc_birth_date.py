"""A birth date the field models missed, told from the issue and expiry dates by its age (rendered card, real Tesseract)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.document.birth_date import find_birth_date, find_printed_date
from pipelines.document.fields import FieldReader, FieldText, OcrConfig
from tests.pipelines.document.test_doc_labels import FONT, _card, _layout
from veid.types import DocumentFamily

pytestmark = pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
TODAY = dt.date(2026, 12, 4)
DL = DocumentFamily.DRIVER_LICENSE_AAMVA


def _find(rows, family, **kw):
    image, boxes, values = _card(rows)
    return find_birth_date(_layout(image, boxes, {}), FieldReader(OcrConfig()), set(), family, TODAY, **kw)


def test_the_only_date_old_enough_is_the_birth_date():
    rows = [("4a ISS", "02/01/2020"), ("3 DOB", "12/24/1981"), ("4b EXP", "02/01/2030")]
    born, text = _find(rows, DL)
    assert born == dt.date(1981, 12, 24) and "1981" in text.text
    assert _find(rows, None)[0] == dt.date(1981, 12, 24)  # no family: 12/24 reads one way only
    assert _find(rows, DL, max_lines=0) is None


def test_no_birth_date_when_two_dates_are_old_or_the_order_is_unknown():
    # a licence issued 20 years ago: two dates old enough to be a birth date
    assert _find([("ISS", "02/01/2006"), ("DOB", "12/24/1981"), ("EXP", "02/01/2030")], DL) is None
    # day and month both <= 12 and no document family: the order is not guessed
    assert _find([("DOB", "05/03/1981"), ("EXP", "02/01/2030")], None) is None
    assert _find([("DOB", "05/03/1981"), ("EXP", "02/01/2030")], DL)[0] == dt.date(1981, 5, 3)


class _ScriptedReader:
    """A reader whose readings of each line (by its first word) are given: Tesseract's misreads on demand."""

    def __init__(self, readings: dict[int, list[str]]) -> None:
        self.readings = readings

    def read_line(self, layout, f, line, extend, max_readings=None):
        texts = self.readings.get(line[0], [])[:max_readings]
        return [FieldText(f, t, 0.9, layout.words[line[0]].quad.bounds()) for t in texts]


def test_the_date_most_readings_agree_on_wins_when_the_first_reading_misread_it():
    image, boxes, values = _card([("4a ISS", "02/01/2020"), ("3 DOB", "05/03/1981")])
    layout = _layout(image, boxes, {})
    iss, dob = values
    reader = _ScriptedReader({iss: ["02/01/2020"] * 3, dob: ["05/03/1983", "05/03/1981", "05/03/1981"]})
    born, _ = find_birth_date(layout, reader, set(), DL, TODAY)
    assert born == dt.date(1981, 5, 3)
    reader = _ScriptedReader({iss: ["02/01/2020"] * 3, dob: ["05/03/1983", "05/03/1981", "05/08/1981"]})
    assert find_birth_date(layout, reader, set(), DL, TODAY) is None  # no date most readings agree on


def test_the_line_printing_the_mrz_birth_date_is_found_under_any_preparation():
    image, boxes, values = _card([("4a ISS", "02/01/2020"), ("3 DOB", "05/03/1981")])
    layout = _layout(image, boxes, {})
    iss, dob = values
    reader = _ScriptedReader({iss: ["02/01/2020"] * 3, dob: ["05/0/1981", "05/03/1981", "05/03/1981"]})
    found = find_printed_date(layout, reader, set(), DL, dt.date(1981, 5, 3))
    assert found is not None and found.text == "05/03/1981"  # the first preparation misread it
    # a date printed nowhere (a tampered birth date, the MRZ's is not on the page), or the line held
    assert find_printed_date(layout, reader, set(), DL, dt.date(1981, 5, 4)) is None
    assert find_printed_date(layout, reader, {dob}, DL, dt.date(1981, 5, 3)) is None
    # on a real rendering
    image, boxes, _ = _card([("4a ISS", "02/01/2020"), ("3 DOB", "12/24/1981")])
    found = find_printed_date(_layout(image, boxes, {}), FieldReader(OcrConfig()), set(), DL, dt.date(1981, 12, 24))
    assert found is not None and "1981" in found.text
