"""The printed spelling of a name the MRZ gave: find the line that reads as the MRZ name, keep its diacritics.

When the field models miss a name line, or the printed reading loses to the MRZ, the result carries
the MRZ's transliteration (``BJOERN``, ``LOPEZ``) instead of the printed name (``BJÖRN``, ``LÓPEZ``).
The MRZ name says what to look for: this step reads the document's other text lines (those a name
mask touches first, at most ``max_lines``) and takes the one whose reading, transliterated the ICAO
way, *is* the MRZ name letter for letter. A reading that differs in any letter is not used: it
would be no better than the MRZ's.
"""

from __future__ import annotations

import numpy as np

from models.field_words import line_groups
from pipelines.document.fields import FieldBox, FieldLayout, FieldReader, FieldText
from pipelines.document.validation import mrz_form, normalize_name
from veid.types import FIELD_CLASS, Field

NAME_FIELDS = (Field.FIRST_NAME, Field.LAST_NAME)


def _lines(layout: FieldLayout, exclude: set[int]) -> list[tuple[int, ...]]:
    """Text lines of words not in ``exclude``, those a name mask covers most first, then top to bottom."""
    bounds = [w.quad.bounds() for w in layout.words]
    free = [k for k in range(len(bounds)) if k not in exclude]
    cover = layout.coverage
    name_cover = (cover[:, [FIELD_CLASS[f] - 1 for f in NAME_FIELDS]].max(axis=1) if cover is not None
                  else np.zeros(len(bounds)))
    lines = [tuple(sorted(g, key=lambda k: bounds[k].x0)) for g in line_groups(bounds, free)]
    return sorted(lines, key=lambda ln: (-float(name_cover[list(ln)].max()), bounds[ln[0]].y0))


def find_printed_name(f: Field, mrz_name: str, layout: FieldLayout, reader: FieldReader, exclude: set[int],
                      max_lines: int = 8, extend: tuple[float, float] = (0.35, 0.2)) -> FieldText | None:
    """The printed line whose reading is ``mrz_name`` (MRZ form) once transliterated, or ``None``.

    Args:
        f: the name field (its Tesseract setup reads the lines).
        mrz_name: the valid MRZ's name, in MRZ form (``"BJOERN"``).
        layout: the text stages' layout (words, levelled image, mask coverage).
        reader: the field reader (its preparations and engines).
        exclude: indices of words other fields hold (the ID number, the date of birth).
        max_lines: most lines read.
        extend: ``(extend_x, extend_y)`` of a line's box, as the locator extends its field boxes.
    """
    if layout.image is None or not mrz_name:
        return None
    for line in _lines(layout, exclude)[:max_lines]:
        sub = FieldLayout(layout.words, {f: _box_of(layout, f, line, extend)}, layout.level_angle, layout.image,
                          layout.coverage, layout.size)
        for text in reader.all_readings(layout.image, sub).get(f, []):
            name = normalize_name(text.text)
            if name and mrz_form(name) == mrz_name:  # same letters and the same word breaks
                return FieldText(f, name, text.confidence, text.box)
    return None


def _box_of(layout: FieldLayout, f: Field, line: tuple[int, ...], extend: tuple[float, float]) -> FieldBox:
    parts = tuple(layout.words[k] for k in line)
    box = parts[0].quad.bounds()
    for p in parts[1:]:
        box = box.union(p.quad.bounds())
    h, w = layout.size
    box = box.expand(extend[0] * box.height, extend[1] * box.height)
    box = box.clip(w, h) if h and w else box
    return FieldBox(f, box, parts, 0.0)
