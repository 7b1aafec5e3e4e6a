"""Marks through or below a letter (Ł, Ø, Ç, Ę), read letter by letter where Tesseract reads only the letter.

``marks.py`` reads the marks above a letter. Polish, Nordic, French, Turkish and Baltic names also carry
marks that cross a letter's body or hang below its baseline: a stroke (Ł, Ø, Đ), a cedilla (Ç, Ş, Ņ) or an
ogonek (Ą, Ę). On captured name lines Tesseract reads ``MAŁGORZATA`` as ``MALGORZATA`` and ``ŁĘCKI`` as
``ŁECKI``, and the MRZ cannot help: ICAO writes Ł, Ç and Ę as their bare letters. Here a second small CNN
(``training/train_low_marks.py``, DVC stage ``train_low_marks``) looks at each letter's body and the band
below its baseline, placed as ``marks.py`` places letters (:func:`pipelines.document.letters.line_layout`),
and names the mark there: none, stroke, cedilla or ogonek. :class:`pipelines.document.marks.MarkReader`
decides with it, under the same conservative rules as for marks above.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from pipelines.document.letters import line_layout
from pipelines.document.numpy_cnn import ZoneClassifier

#: Classes of the low-mark classifier, in its output order.
LOW_MARKS = ("none", "stroke", "cedilla", "ogonek")
#: Letters with a stroke, which Unicode does not decompose, and their bare letters (Ħ and Ŧ, Maltese and
#: Sámi, are left out for the reason given under :data:`RARE`; a Ł read as T had become Ŧ).
STROKED = {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d"}
#: Letters with a cedilla or an ogonek that hardly any name carries: Ŗ (old Latvian), Į and Ų (Lithuanian
#: words, not names). Never composed: a mark wrongly added costs a right name, and these would almost never
#: be right.
RARE = frozenset("ŖŗĮįŲų")
_STROKE_OF = {v: k for k, v in STROKED.items()}
#: Unicode combining character of each mark below a letter.
COMBINING_LOW = {"cedilla": "\u0327", "ogonek": "\u0328"}
_LOW_OF = {v: k for k, v in COMBINING_LOW.items()}
#: Rows of a letter's low zone (its body and the band below it) and columns (two letter widths).
BODY_SHAPE = (24, 24)


def split_low(c: str) -> tuple[str, str | None]:
    """``(letter without its low mark, low mark)``: ``"Ł"`` -> ``("L", "stroke")``, ``"Ę"`` -> ``("E",
    "ogonek")``, ``"É"`` -> ``("É", "none")``. The mark is ``None`` for what is not a letter."""
    if not c.isalpha():
        return c, None
    if c in STROKED:
        return STROKED[c], "stroke"
    parts = unicodedata.normalize("NFD", c)
    lows = [m for m in parts[1:] if m in _LOW_OF]
    if not lows:
        return c, "none"
    if len(lows) > 1:
        return c, None
    rest = unicodedata.normalize("NFC", "".join(ch for ch in parts if ch not in _LOW_OF))
    return rest, _LOW_OF[lows[0]]


def compose_low(base: str, mark: str) -> str | None:
    """The single character ``base`` with low ``mark`` (``("L", "stroke")`` -> ``"Ł"``), or ``None`` when
    no such letter exists in Latin-1 or Latin Extended-A or it is one of :data:`RARE`."""
    if mark == "none":
        return base
    if mark == "stroke":
        return _STROKE_OF.get(base)
    c = unicodedata.normalize("NFC", base + COMBINING_LOW[mark])
    return c if len(c) == 1 and 0xC0 <= ord(c) <= 0x17F and c not in RARE else None


def bare(c: str) -> str:
    """The letter without any mark, above, through or below: ``"Ł"`` -> ``"L"``, ``"Ę"`` -> ``"E"``."""
    rest = split_low(c)[0]
    return unicodedata.normalize("NFD", rest)[0] if rest else rest


def body_features(gray: np.ndarray, text: str) -> list[np.ndarray | None]:
    """Per character of ``text`` (the word as read, with its case), the low-mark classifier's features, or
    ``None`` where none can be read (not a letter, no text line found in ``gray``).

    A letter's zone spans its body, from 0.15 body heights above its top to 0.5 below the baseline (where a
    cedilla or an ogonek hangs), and two letters wide, the letter in the middle (a stroke may reach past the
    letter's own box); grey levels scaled so that paper is 0 and ink 1, resized to :data:`BODY_SHAPE`. Two
    more features: the letter's width over its body height, and whether it is lower case.
    """
    layout = line_layout(gray, text)
    if layout is None:
        return [None] * len(text)
    out: list[np.ndarray | None] = []
    for k, c in enumerate(text):
        base, mark = split_low(c)
        if mark is None:
            out.append(None)
            continue
        ref = layout.letter_top(k, bare(c))
        body = max(layout.baseline - ref, 1.0)
        out.append(layout.row(k, ref - 0.15 * body, layout.baseline + 0.5 * body, 2, body, BODY_SHAPE,
                              base.islower()))
    return out


class LowMarkModel(ZoneClassifier):
    """The low-mark classifier over a letter's body and the band below it (:func:`body_features` rows;
    ``train_low_marks``)."""

    CLASSES = LOW_MARKS
    SHAPE = BODY_SHAPE
    WHAT = "low mark model"
    PAPER_BORDER = True  # a field box ending on the baseline must not draw the letters' feet on (marks.prepare)
