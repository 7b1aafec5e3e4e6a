"""Which reading of each key field to report: printed (OCR), MRZ or barcode.

The cross-checks say whether the readings agree; this module only decides which value the
result carries. The rules follow what each source can prove:

* A barcode is digital data: where it disagrees with the OCR, it wins.
* A valid MRZ proves the ID number and birth date through their check digits: where they
  disagree with the OCR, the MRZ wins; except that a check digit cannot tell characters
  whose ICAO values are equal modulo 10 apart (``G``/``6``, ``S``/``8``, ``Q``/``6``...),
  so a printed ID number that differs from the MRZ's only in such characters breaks that tie.
* An MRZ that is not valid as a whole (the composite or another field's digit failed: a misread
  elsewhere, or tampering) still proves its birth date when that date's own check digit verifies
  and its dates are calendar dates: a printed date that disagrees is mostly another date's line
  read (the expiry date's ``06 JUL 32`` taken for the birth date). Not its ID number: a row read
  one cell off yields a number whose digit verifies one time in ten (``4JW689067``), and the
  printed number is seldom another line.
* MRZ names carry no check digit, and MRZ OCR drops letters and invents fillers
  (``SCHNEIDER`` read as ``CHEIDE``). Where the printed name disagrees with them, the printed
  name wins unless it is itself doubtful: Tesseract's confidence below
  ``min_name_confidence``, or it has as many letters as the MRZ name and differs by a few
  substitutions (unless read at ``sure_name_confidence``: the MRZ's OCR misreads too, PLOTR for
  PIOTR), or it is the MRZ name with two adjacent letters read as one other letter (``TOUS`` for
  ``TOMAS``): errors printed-font OCR makes and the MRZ's OCR-B font resists.
* A printed name that is the MRZ's *other* name (the field models mixed up given names and
  surname) is never reported for this field: the MRZ's value is. Nor is the other printed name
  where it disagrees with the MRZ: the models that put one name on the wrong line read the
  other off a wrong line too (``MGO``, the given name HUGO misread, for the surname KRUEGER).
* Otherwise the OCR value is reported, else the MRZ's (confidence 0.5 when it is not valid),
  else the barcode's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.document.icao import char_value
from pipelines.document.mrz import MrzReading
from pipelines.document.validation import OTHER_NAME, mrz_form, name_swapped, similarity
from veid.errors import InputError
from veid.types import Box, Field


@dataclass(frozen=True)
class FieldResult:
    """A key field's final value, where it came from, confidence 0..1 and box on the warped document.

    The printed (OCR) value is reported unless a verified source disagrees with it (see the
    module docstring); the disagreement then stays a failed cross-check.
    """

    value: str
    source: str  # "ocr", "mrz" or "barcode"
    confidence: float
    box: Box | None = None


def check_digit_blind(printed: str, mrz_value: str) -> bool:
    """Whether two different ID numbers differ only where a check digit cannot see it.

    True when they have equal length and every differing character pair has the same ICAO
    value modulo 10 (``G``/``6``, ``S``/``8``): each difference alone leaves every check digit
    unchanged. Two unrelated errors that happen to cancel out do not count.
    """
    if len(printed) != len(mrz_value) or printed == mrz_value:
        return False
    try:
        return all(char_value(a) % 10 == char_value(b) % 10 for a, b in zip(printed, mrz_value) if a != b)
    except InputError:  # a character the MRZ alphabet lacks: not a tie
        return False


def _doubtful_name(printed: str, confidence: float, mrz_name: str, min_confidence: float,
                   sure_confidence: float) -> bool:
    """Whether a printed name that disagrees with the MRZ's should give way to it."""
    if confidence < min_confidence:
        return True
    mine = mrz_form(printed)
    letters, mrz_letters = mine.replace(" ", ""), mrz_name.replace(" ", "")
    if similarity(mine, mrz_name) < 0.5:
        return False
    # As many letters, mostly alike: a substitution, and the MRZ's OCR-B glyphs read better than
    # the printed fonts, unless Tesseract was sure of the printed reading (``sure_confidence``): the
    # MRZ's reads misread too (PLOTR for PIOTR, EKAA for KAYA). A different letter count is mostly the
    # MRZ reader's error (lost letters, or fillers read as letters), where the printed name is the
    # better reading; except a printed reading that is the MRZ name with two adjacent letters merged
    # into one ("TOUS" for TOMAS, "UAM" for LIAM, "JUUA" for JULIA): the printed font's thin "LI" and
    # "MA" pairs misread.
    if len(letters) == len(mrz_letters):
        return confidence < sure_confidence
    return _merged_pair(letters, mrz_letters)


def _merged_pair(short: str, long: str) -> bool:
    """Whether ``short`` is ``long`` with two adjacent letters read as one other letter.

    ``TOUS`` is ``TOMAS`` with ``MA`` read as ``U``; ``ANNA`` is not ``ANNAK`` merged: keeping one
    of the pair's own letters is a letter lost or a filler invented, not a misread.
    """
    return len(long) == len(short) + 1 and any(
        short[:i] == long[:i] and short[i + 1:] == long[i + 2:] and short[i] not in long[i:i + 2]
        for i in range(len(short)))


def _printed_wins(f: Field, printed: str, confidence: float, mrz_proves: bool, mrz_vals: dict, bar_vals: dict,
                  differs: bool, min_name_confidence: float, sure_name_confidence: float, swapped: set) -> bool:
    """Whether the printed value is reported (see the module docstring); ``mrz_proves``: the MRZ is valid, or
    guards this field with a digit that verifies; ``swapped``: the name fields whose printed value is the
    valid MRZ's other name."""
    if f in swapped:
        return False  # the field models read the other name field here
    if f in OTHER_NAME and differs and OTHER_NAME[f] in swapped and f in mrz_vals:
        return False  # ... and read this one off some other line, the other name's maybe: the MRZ knows better
    if not differs:
        return True
    if f in bar_vals:
        return False
    if f not in mrz_vals or not mrz_proves:
        return True
    if f in OTHER_NAME:
        return not _doubtful_name(printed, confidence, mrz_vals[f], min_name_confidence, sure_name_confidence)
    return f is Field.ID_NUMBER and check_digit_blind(printed, mrz_vals[f])


def resolve_fields(ocr: dict, ocr_values: dict, mrz: MrzReading | None, mrz_vals: dict, bar_vals: dict,
                   disagree: set[str], *, min_name_confidence: float, sure_name_confidence: float,
                   name_similarity: float) -> dict:
    """``{Field: FieldResult}`` from every source's normalized values.

    Args:
        ocr: ``{Field: FieldText}`` raw OCR (for confidences and boxes).
        ocr_values, mrz_vals, bar_vals: ``{Field: normalized value}`` per source (MRZ names in MRZ form).
        mrz: the MRZ reading (its validity decides whether its values are verified).
        disagree: field names (``"last_name"``...) whose MRZ or barcode cross-check failed.
        min_name_confidence: least OCR confidence for a printed name to outrank the MRZ's.
        sure_name_confidence: least OCR confidence for a printed name to outrank an MRZ name of as many
            letters that differs by a few substitutions.
        name_similarity: least similarity for two readings of a name to agree (see ``names_agree``).
    """
    mrz_valid = mrz is not None and mrz.valid
    # an MRZ that failed elsewhere still proves a birth date whose own digit verifies (module docstring)
    dob_proven = mrz is not None and mrz.plausible and mrz.fields.check("birth_date").valid
    swapped = {f for f in OTHER_NAME if mrz_valid and f in ocr_values
               and name_swapped(f, ocr_values[f], mrz_vals, name_similarity, mrz_names=True)}
    out: dict = {}
    for f in Field:
        printed = ocr_values.get(f)
        proven = mrz_valid or (f is Field.DATE_OF_BIRTH and dob_proven)
        if printed is not None and _printed_wins(f, printed, ocr[f].confidence, proven, mrz_vals, bar_vals,
                                                 f.value in disagree, min_name_confidence, sure_name_confidence,
                                                 swapped):
            out[f] = FieldResult(printed, "ocr", ocr[f].confidence, ocr[f].box)
        elif f in mrz_vals and mrz is not None and (mrz_valid or f not in bar_vals):
            # a printed name the MRZ's outranked was misread on this field's own line: its box stays, where
            # the marks the MRZ cannot carry (TOMÁS for TOMAS) may still be read
            own_line = printed is not None and f in OTHER_NAME and f not in swapped and OTHER_NAME[f] not in swapped
            out[f] = FieldResult(mrz_vals[f], "mrz", 1.0 if mrz_valid else 0.5, ocr[f].box if own_line else None)
        elif f in bar_vals:
            out[f] = FieldResult(bar_vals[f], "barcode", 1.0)
    return out
