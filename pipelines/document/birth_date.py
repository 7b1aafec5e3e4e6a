"""A birth date the field models missed: the one printed date old enough to be a birth date.

A licence front prints three dates: birth, issue and expiry. When the UNET paints none of them as the
birth date and no MRZ or barcode gives it, the dates still tell themselves apart: the licence was issued
a few years ago and expires in the future, while its holder was born at least ``min_age_years`` ago.
This step reads the document's other value lines (printed at the size of the values the fields hold;
those the birth-date mask touches first, at most ``max_lines``), keeps the ones that are dates, and
reports the birth date only when exactly one date is that old and most of the readings of its line
agree on it (the date they agree on: the first reading, which found the line, may be the misread one);
two old dates (a licence issued decades ago) are ambiguous, and nothing is reported.
On the sample's train+val licence fronts the agreement rule turned three misread birth dates
(1983 for 1981, a month read wrong) into none, and kept the one read right.
"""

from __future__ import annotations

import datetime as dt

from pipelines.document.fields import FieldLayout, FieldReader, FieldText, text_lines
from pipelines.document.validation import date_order_ambiguous, parse_date
from veid.types import DocumentFamily, Field


def _date(text: str, family: DocumentFamily | None) -> dt.date | None:
    """The date a line reads as, in the family's order; without a family, only an unambiguous one."""
    if family is None:
        if date_order_ambiguous(text):
            return None
        return parse_date(text) or parse_date(text, us_order=True)
    return parse_date(text, us_order=family is DocumentFamily.DRIVER_LICENSE_AAMVA)


def _years(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def find_birth_date(layout: FieldLayout, reader: FieldReader, exclude: set[int], family: DocumentFamily | None,
                    today: dt.date, *, min_age_years: int = 16, max_age_years: int = 120, max_lines: int = 12,
                    extend: tuple[float, float] = (0.35, 0.2)) -> tuple[dt.date, FieldText] | None:
    """``(birth date, its reading)``: the only printed date at least ``min_age_years`` old, else ``None``.

    Args:
        layout: the text stages' layout (words, levelled image, mask coverage).
        reader: the field reader (the birth-date Tesseract setup: the first preparation finds candidates,
            all of them confirm one).
        exclude: indices of words other fields hold.
        family: the document family (licences print month first); ``None``: unknown.
        today: reference date.
        min_age_years, max_age_years: how old a birth date is; issue and expiry dates are younger.
        max_lines: most lines read.
        extend: ``(extend_x, extend_y)`` of a line's box, as the locator extends its field boxes.
    """
    if layout.image is None or max_lines <= 0:
        return None
    dob = Field.DATE_OF_BIRTH
    found: dict[dt.date, FieldText] = {}
    for line in text_lines(layout, exclude, (dob,), values_only=True)[:max_lines]:
        for text in reader.read_line(layout, dob, line, extend, max_readings=1):
            d = _date(text.text, family)
            if d is None or not min_age_years <= _years(d, today) <= max_age_years:
                continue
            # a candidate: read again under every preparation, and kept only when most readings agree on
            # one date (a misread digit, 1981 as 1983, would otherwise be reported as the holder's birth
            # date); the first reading may be the misread one
            readings = reader.read_line(layout, dob, line, extend)
            dates = [_date(t.text, family) for t in readings]
            best = max(set(dates) - {None}, key=dates.count, default=None)
            if best is not None and dates.count(best) * 2 > len(dates) and \
                    min_age_years <= _years(best, today) <= max_age_years:
                found.setdefault(best, readings[dates.index(best)])
    if len(found) != 1:
        return None
    return next(iter(found.items()))


def find_printed_date(layout: FieldLayout, reader: FieldReader, exclude: set[int], family: DocumentFamily | None,
                      date: dt.date, *, max_lines: int = 12, extend: tuple[float, float] = (0.35, 0.2)
                      ) -> FieldText | None:
    """The reading of the printed line that reads as ``date`` (the birth date a valid MRZ proves), else
    ``None``: where the field models painted another date as the birth date, the document's own birth-date
    line is still found and agrees with the MRZ. A tampered birth date is printed nowhere as the MRZ's.

    Args: as :func:`find_birth_date`; each line is read under every preparation (one misreads ``01`` as
        ``0``), and the first reading that is ``date`` is returned.
    """
    if layout.image is None or max_lines <= 0:
        return None
    dob = Field.DATE_OF_BIRTH
    for line in text_lines(layout, exclude, (dob,), values_only=True)[:max_lines]:
        for text in reader.read_line(layout, dob, line, extend):
            if _date(text.text, family) == date:
                return text
    return None
