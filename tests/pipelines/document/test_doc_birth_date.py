"""A birth date the field models missed, told from the issue and expiry dates by its age (rendered card, real Tesseract)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.document.birth_date import find_birth_date
from pipelines.document.fields import FieldReader, OcrConfig
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
