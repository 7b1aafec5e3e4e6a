"""An ID number the field models missed: the one printed value shaped like a document number.

A licence front prints its number among a dozen other values (dates, height, class, eye colour,
address), in an order each design chooses; when the UNET paints none of them as the ID number (or
paints the number as another field) and no MRZ or barcode gives it, the value lines still tell
themselves apart by shape. This step reads the document's other value lines (printed at the size of
the values the fields hold; those the ID mask touches first, at most ``max_lines``). A line that
reads as a date under any preparation of the birth-date setup, which keeps date separators, is left
out (the ID setup reads ``08/12/2019`` as ``08122019``); a line that reads, with the ID-number setup,
as one alphanumeric token of ``min_length`` to ``max_length`` characters with at least ``min_digits``
digits, in the family's number format, is a candidate when two preparations read the same number
(the most confident of those readings). The number is reported only when exactly one line is a candidate.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from pipelines.document.fields import FieldLayout, FieldReader, FieldText, text_lines
from pipelines.document.validation import ID_FORMATS, normalize_id, parse_date
from veid.types import Box, DocumentFamily, Field

_TOKEN = re.compile(r"^[A-Z0-9]+$")
_DATE_MARK = re.compile(r"\d[/.-]\d")


def id_shaped(text: str, *, min_length: int = 6, max_length: int = 13, min_digits: int = 5) -> bool:
    """Whether one line's reading is a document number by shape: one alphanumeric token, long enough,
    mostly digits, and no date (``05/15/2005`` and ``05152005`` are dates, ``N37703530`` is not)."""
    t = text.strip().upper()
    if not _TOKEN.match(t) or not min_length <= len(t) <= max_length:
        return False
    if sum(c.isdigit() for c in t) < min_digits:
        return False
    return not _dated(t)


def _dated(text: str) -> bool:
    """Whether a reading is a date: digits with a date separator between them, or up to eight digits
    that parse as one in either order (a date whose separators OCR lost)."""
    t = text.strip().upper()
    return bool(_DATE_MARK.search(t)) or (t.isdigit() and len(t) <= 8
                                          and (parse_date(t) or parse_date(t, us_order=True)) is not None)


def find_id_number(layout: FieldLayout, reader: FieldReader, exclude: set[int], family: DocumentFamily | None,
                   *, max_lines: int = 12, extend: tuple[float, float] = (0.35, 0.2),
                   min_length: int = 6, max_length: int = 13, min_digits: int = 5) -> FieldText | None:
    """The reading of the only value line shaped like a document number, or ``None``.

    Args:
        layout: the text stages' layout (words, levelled image, mask coverage).
        reader: the field reader (the birth-date setup tells dates from numbers, the ID-number setup
            reads the value).
        exclude: indices of words other fields hold.
        family: the document family (its number format must match); ``None``: any.
        max_lines: most lines read.
        extend: ``(extend_x, extend_y)`` of a line's box, as the locator extends its field boxes.
        min_length, max_length, min_digits: the shape of a number (see :func:`id_shaped`).
    """
    if layout.image is None or max_lines <= 0:
        return None
    fmt = ID_FORMATS.get(family) if family is not None else None
    shape = {"min_length": min_length, "max_length": max_length, "min_digits": min_digits}
    found: list[FieldText] = []
    for line in text_lines(layout, exclude, (Field.ID_NUMBER,), values_only=True)[:max_lines]:
        dated = reader.read_line(layout, Field.DATE_OF_BIRTH, line, extend)
        if not dated or any(_dated(t.text) for t in dated):
            continue  # no text, or a date under some preparation (the ID setup drops separators)
        shaped = [t for t in reader.read_line(layout, Field.ID_NUMBER, line, extend)
                  if id_shaped(t.text, **shape) and (fmt is None or fmt.match(normalize_id(t.text)))]
        values = Counter(normalize_id(t.text) for t in shaped)
        if values and values.most_common(1)[0][1] >= 2:  # two preparations read the same number
            value = values.most_common(1)[0][0]
            found.append(max((t for t in shaped if normalize_id(t.text) == value), key=lambda t: t.confidence))
    if len(found) != 1:
        return None
    t = found[0]
    return FieldText(Field.ID_NUMBER, normalize_id(t.text), t.confidence, t.box)


def printed_as_date(reader: FieldReader, image: np.ndarray, box: Box) -> bool:
    """Whether the text in ``box`` reads as a date under the birth-date setup, separators and all
    (``06/03/2023``): an issue date the UNET painted as the ID number, whose setup drops the slashes
    and reads ``067032023``. A number read without a separator is not doubted (some licence numbers
    are eight digits)."""
    return any(_DATE_MARK.search(t.text) for t in reader.read_box(image, Field.DATE_OF_BIRTH, box, max_readings=1))
