"""The printed spelling of a name the MRZ gave: find the line that reads as the MRZ name, keep its diacritics.

When the field models miss a name line, or the printed reading loses to the MRZ, the result carries
the MRZ's transliteration (``BJOERN``, ``LOPEZ``) instead of the printed name (``BJÖRN``, ``LÓPEZ``).
The MRZ name says what to look for: this step reads the document's other value lines (those a name
mask touches first, at most ``max_lines``; captions and titles are skipped by their height) and takes the one whose reading, transliterated the ICAO
way, *is* the MRZ name letter for letter, or would be but for diacritics Tesseract lost on the
letters the MRZ writes as pairs (``KOHLER`` for ``KÖHLER``: ``diacritics.py`` puts them back).
Failing that, a line that holds the MRZ name's letters with fewer word breaks (``O LIVER``) or with
a few letters more (``KYA`` for ``KAYA``: MRZ names carry no check digit and their OCR loses
letters far more often than it invents them) is taken.
A reading that differs in any other way is not used: it would be no better than the MRZ's.
"""

from __future__ import annotations

from pipelines.document.diacritics import restore
from pipelines.document.fields import FieldLayout, FieldReader, FieldText, text_lines
from pipelines.document.labels import NAME_FIELDS
from pipelines.document.validation import dropped_letters_only, mrz_form, normalize_name
from veid.types import Field

#: Letters Tesseract reads an MRZ filler chevron as (``pipelines.document.chevrons``; also E, but a printed
#: reading that lost a final E, ZO for ZOË, is the likelier error there).
FILLER_MISREADS = frozenset("KC")


def find_printed_name(f: Field, mrz_name: str, layout: FieldLayout, reader: FieldReader, exclude: set[int],
                      max_lines: int = 8, extend: tuple[float, float] = (0.35, 0.2)) -> FieldText | None:
    """The printed line whose reading is ``mrz_name`` (MRZ form) once transliterated, else the first one that
    holds its letters with fewer word breaks or a few letters more, or all of them but a last ``K`` or ``C``
    (a filler misread); ``None`` when no line does.

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
    close = None
    for line in text_lines(layout, exclude, NAME_FIELDS, values_only=True)[:max_lines]:
        for text in reader.read_line(layout, f, line, extend):
            name = normalize_name(text.text)
            if not name:
                continue
            form = mrz_form(name)
            if form == mrz_name:  # same letters and the same word breaks
                return FieldText(f, name, text.confidence, text.box)
            if (spelled := restore(mrz_name, name)) is not None:  # the same, but for lost diacritics
                return FieldText(f, spelled, text.confidence, text.box)
            # the MRZ's first filler after the name read as a letter (a chevron read K or C: JANK for JAN)
            if close is None and len(form) >= 2 and mrz_name[-1] in FILLER_MISREADS and form == mrz_name[:-1]:
                close = FieldText(f, name, text.confidence, text.box)
            # the MRZ's OCR breaks words ("O LIVER"), a printed reading with more breaks is the misread one
            if close is None and len(form.split()) <= len(mrz_name.split()) and (
                    form.replace(" ", "") == mrz_name.replace(" ", "") or dropped_letters_only(mrz_name, form)):
                close = FieldText(f, name, text.confidence, text.box)
    return close


def _breaks(mrz_name: str) -> dict[int, int]:
    """``{letters before a word break: index of the word it ends}`` of an MRZ-form name."""
    out, n = {}, 0
    for i, w in enumerate(mrz_name.split()[:-1]):
        n += len(w)
        out[n] = i
    return out


def respace(printed: str, mrz_name: str) -> str | None:
    """``printed`` with the word breaks the valid MRZ name does not have taken out (``KELL Y`` -> ``KELLY``
    for ``KELLY``), or ``None`` when its letters are not the MRZ name's or it has no extra break.

    Printed-font OCR splits words at wide letter gaps; the MRZ's fillers are fixed-pitch glyphs,
    so a break it lacks is the printed reading's. Diacritics stay (``BÄC KSTRÖM`` -> ``BÄCKSTRÖM``).
    """
    words = printed.split()
    if len(words) <= len(mrz_name.split()) or mrz_form("".join(words)) != mrz_name.replace(" ", ""):
        return None
    breaks = _breaks(mrz_name)
    out = words[0]
    for w in words[1:]:
        out += (" " if len(mrz_form(out.replace(" ", ""))) in breaks else "") + w
    return out


def hyphenate(printed: str, mrz_name: str) -> str | None:
    """``mrz_name`` (a name the MRZ gave) with the hyphens its printed reading shows at its word breaks
    (``GOMEZ PEREZ`` + ``GÓMEZ-PÍRFZ.`` -> ``GOMEZ-PEREZ``), or ``None`` when the printed reading has no
    hyphen at one.

    ICAO 9303 writes a hyphen in a name as a filler, like a space: the MRZ cannot tell ``GÓMEZ-PÉREZ``
    from ``GÓMEZ PÉREZ``. A hyphen in the printed reading after as many letters as the MRZ name has
    before one of its breaks is the printed spelling, even where the printed letters were misread.
    """
    words = mrz_name.split()
    if len(words) < 2:
        return None
    breaks = _breaks(mrz_name)
    hyphen_after, n = set(), 0
    for c in normalize_name(printed):
        if c == "-" and n in breaks:
            hyphen_after.add(breaks[n])
        elif c.isalpha():
            n += len(mrz_form(c).replace(" ", ""))  # Ö counts as the MRZ's two letters OE
    if not hyphen_after:
        return None
    return "".join(w + ("" if i == len(words) - 1 else "-" if i in hyphen_after else " ") for i, w in enumerate(words))
