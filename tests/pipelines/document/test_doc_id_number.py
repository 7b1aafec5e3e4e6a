"""An ID number the field models missed, told from dates, heights and words by its shape (rendered card, real Tesseract)."""

from __future__ import annotations

import pytest

from pipelines.document.fields import FieldReader, OcrConfig
from pipelines.document.id_number import find_id_number, id_shaped
from tests.pipelines.document.test_doc_labels import FONT, _card, _layout
from veid.types import DocumentFamily

pytestmark = pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
DL = DocumentFamily.DRIVER_LICENSE_AAMVA


def test_a_number_is_shaped_like_one_and_a_date_is_not():
    assert id_shaped("V32360148") and id_shaped("123456789")
    assert not id_shaped("08122019")  # 08/12/2019 with its slashes lost
    assert not id_shaped("05/15/2005") and not id_shaped("7176 CEDAR LN") and not id_shaped("504")
    assert not id_shaped("DRIVERLICENSE")  # too few digits


def _find(rows, family=DL, **kw):
    image, boxes, _ = _card(rows)
    return find_id_number(_layout(image, boxes, {}), FieldReader(OcrConfig()), set(), family, **kw)


def test_the_only_value_shaped_like_a_number_is_the_id_number():
    rows = [("4a ISS", "02/01/2020"), ("15 SEX", "F"), ("4d DLN", "V32360148"), ("16 HGT", "5'-04\""),
            ("3 DOB", "12/24/1981")]
    found = _find(rows)
    assert found is not None and found.text == "V32360148"
    assert _find(rows, max_lines=0) is None


def test_no_id_number_when_two_values_are_shaped_like_one():
    assert _find([("DLN", "V32360148"), ("DD", "A12345678"), ("DOB", "12/24/1981")]) is None
    assert _find([("ISS", "02/01/2020"), ("DOB", "12/24/1981")]) is None  # dates only


def test_an_issue_date_painted_as_the_id_number_reads_as_a_date():
    from pipelines.document.id_number import printed_as_date

    image, boxes, values = _card([("4a ISS", "06/03/2023"), ("4d DLN", "S82679442")])
    reader = FieldReader(OcrConfig())
    date_box, number_box = (boxes[values[k]].expand(6, 4) for k in (0, 1))
    assert printed_as_date(reader, image, date_box)  # the ID setup would read it 067032023
    assert not printed_as_date(reader, image, number_box)
