"""Which reading of a field is reported when the printed text, the MRZ and the barcode disagree (synthetic identities)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipelines.document.fields import FieldText
from pipelines.document.resolve import check_digit_blind, resolve_fields
from veid.types import Box, Field

def _mrz(valid: bool, verified: tuple[str, ...] = (), plausible: bool = True) -> SimpleNamespace:
    """A stand-in for an MrzReading: valid as a whole or not, and the check digits that verify."""
    check = lambda name: SimpleNamespace(valid=valid or name in verified)  # noqa: E731
    return SimpleNamespace(valid=valid, plausible=plausible, fields=SimpleNamespace(check=check))


VALID, INVALID = _mrz(True), _mrz(False)
L, F, ID, DOB = Field.LAST_NAME, Field.FIRST_NAME, Field.ID_NUMBER, Field.DATE_OF_BIRTH


def _resolve(printed: dict, confidence: float = 0.9, mrz=VALID, mrz_vals=None, bar_vals=None, disagree=()):
    ocr = {f: FieldText(f, v, confidence, Box(0, 0, 10, 10)) for f, v in printed.items()}
    out = resolve_fields(ocr, dict(printed), mrz, mrz_vals or {}, bar_vals or {}, set(disagree),
                         min_name_confidence=0.5, sure_name_confidence=0.88, name_similarity=0.85)
    return {f: (r.value, r.source) for f, r in out.items()}


def test_a_printed_name_beats_an_mrz_name_that_lost_letters():
    got = _resolve({L: "SCHNEIDER"}, mrz_vals={L: "CHEIDE", F: "CHLOE"}, disagree={"last_name"})
    assert got[L] == ("SCHNEIDER", "ocr")
    assert got[F] == ("CHLOE", "mrz")  # no printed value: the MRZ's


def test_the_mrz_name_wins_over_a_doubtful_printed_one():
    # low OCR confidence
    assert _resolve({F: "FEA PEIER"}, 0.24, mrz_vals={F: "JUERGEN PIETER"}, disagree={"first_name"})[F][1] == "mrz"
    # the printed "surname" is the MRZ's given name (the field models swapped them)
    assert _resolve({L: "PIETER"}, mrz_vals={L: "ELY", F: "PITER"}, disagree={"last_name"})[L] == ("ELY", "mrz")
    # same letter count, one substitution: the OCR-B glyphs of the MRZ read better
    assert _resolve({F: "TEON"}, 0.8, mrz_vals={F: "LEON"}, disagree={"first_name"})[F] == ("LEON", "mrz")
    # ... unless Tesseract was sure of the printed name: the MRZ's OCR misreads too
    assert _resolve({F: "PIOTR"}, 0.96, mrz_vals={F: "PLOTR"}, disagree={"first_name"})[F] == ("PIOTR", "ocr")
    assert _resolve({F: "PIOTR"}, 0.87, mrz_vals={F: "PLOTR"}, disagree={"first_name"})[F] == ("PLOTR", "mrz")


@pytest.mark.parametrize(("printed", "mrz_name", "source"), [
    ("TOUS", "TOMAS", "mrz"),      # "MA" read as one "U" in the printed font
    ("BJÖM", "BJOERN", "mrz"),     # "RN" read as "M"; the MRZ spells Ö as OE
    ("JUUA", "JULIA", "mrz"),
    ("ANNA", "ANNAK", "ocr"),      # the MRZ read a filler as K: keeping one of the pair is no merge
    ("PIOTR", "PILOIR", "ocr"),    # the MRZ invented and changed letters
    ("SCHNEIDER", "CHEIDE", "ocr"),
])
def test_a_printed_name_with_two_letters_merged_into_one_gives_way_to_the_mrz(printed, mrz_name, source):
    assert _resolve({F: printed}, mrz_vals={F: mrz_name}, disagree={"first_name"})[F][1] == source


def test_when_one_printed_name_is_the_other_mrz_name_the_other_printed_name_is_doubted_too():
    mrz_vals = {F: "HUGO", L: "KRUEGER"}
    # the surname line was read as the given name, and the given-name line misread as the surname
    got = _resolve({F: "KRÜGER", L: "MGO"}, mrz_vals=mrz_vals, disagree={"last_name"})
    assert got == {F: ("HUGO", "mrz"), L: ("KRUEGER", "mrz")}
    # a printed surname that agrees with the MRZ stays printed
    assert _resolve({F: "KRÜGER", L: "KRÜGER"}, mrz_vals=mrz_vals)[L] == ("KRÜGER", "ocr")
    # with no swap, a printed name far from the MRZ's still wins (the MRZ's name OCR loses letters)
    assert _resolve({L: "MGO"}, mrz_vals=mrz_vals, disagree={"last_name"})[L] == ("MGO", "ocr")


def test_an_invalid_mrz_never_overrides_and_agreement_keeps_the_printed_diacritics():
    assert _resolve({L: "KOVÁCS"}, mrz=INVALID, mrz_vals={L: "QAC"}, disagree={"last_name"})[L] == ("KOVÁCS", "ocr")
    assert _resolve({L: "MÜLLER"}, mrz_vals={L: "MUELLER"})[L] == ("MÜLLER", "ocr")
    assert _resolve({}, mrz=INVALID, mrz_vals={L: "QAC"})[L] == ("QAC", "mrz")


def test_check_digits_decide_id_numbers_and_dates_unless_they_are_blind_to_the_difference():
    assert _resolve({ID: "ZG2703762"}, mrz_vals={ID: "Z62703762"}, disagree={"id_number"})[ID] == ("ZG2703762", "ocr")
    assert _resolve({ID: "ZG2703763"}, mrz_vals={ID: "Z62703762"}, disagree={"id_number"})[ID][1] == "mrz"
    assert _resolve({DOB: "1971-01-24"}, mrz_vals={DOB: "1971-01-21"}, disagree={"date_of_birth"})[DOB][1] == "mrz"


def test_a_birth_date_whose_own_check_digit_verifies_is_proven_by_an_otherwise_invalid_mrz():
    # composite failed (a misread elsewhere), birth date's own digit verifies: the printed date that
    # disagrees (the expiry date's "06 JUL 32" read for the birth date) gives way
    dob_ok = _mrz(False, verified=("birth_date", "document_number"))
    out = _resolve({DOB: "1932-07-06", ID: "JW6890677"}, mrz=dob_ok,
                   mrz_vals={DOB: "1988-07-18", ID: "4JW689067"}, disagree={"date_of_birth", "id_number"})
    assert out[DOB] == ("1988-07-18", "mrz")
    # an ID number's digit verifies by chance on a row read one cell off: the printed number stands
    assert out[ID] == ("JW6890677", "ocr")
    # dates that are not calendar dates make every digit suspect (a month 50 verifies like 05)
    implausible = _mrz(False, verified=("birth_date",), plausible=False)
    assert _resolve({DOB: "1932-07-06"}, mrz=implausible, mrz_vals={DOB: "1988-07-18"},
                    disagree={"date_of_birth"})[DOB] == ("1932-07-06", "ocr")


@pytest.mark.parametrize(("printed", "mrz", "blind"), [
    ("ZG2703762", "Z62703762", True),    # G = 16: same value modulo 10 as 6
    ("S1234", "81234", True),            # S = 28
    ("L70214097", "LZ0214897", False),   # two errors whose sums happen to cancel: not blind
    ("AB123", "AB124", False),
    ("AB123", "AB123", False),           # equal is not a tie
    ("AB12", "AB123", False),
    ("ÅB123", "AB123", False),           # not an MRZ character
])
def test_check_digit_blindness(printed, mrz, blind):
    assert check_digit_blind(printed, mrz) is blind


def test_a_disagreeing_barcode_wins_over_the_printed_value():
    got = _resolve({L: "GOMEZ"}, mrz=None, bar_vals={L: "GOMEZ-PEREZ", ID: "F97473713"}, disagree={"last_name"})
    assert got == {L: ("GOMEZ-PEREZ", "barcode"), ID: ("F97473713", "barcode")}


def test_names_read_from_the_swapped_field_agree_with_the_document_and_report_the_mrz():
    from pipelines.document.validation import ValidationConfig, cross_check

    mrz_vals = {F: "LUCA", L: "CELIK"}
    checks = cross_check({F: "ÇELIK"}, mrz_vals, "mrz", ValidationConfig(), mrz_names=True)
    assert [c.passed for c in checks] == [True] and "other name field" in checks[0].reason
    # not evidence of tampering, and the surname is not reported as the given name
    assert _resolve({F: "ÇELIK"}, 0.83, mrz_vals=mrz_vals)[F] == ("LUCA", "mrz")
    # a different name is still a disagreement
    assert not cross_check({F: "MARTA"}, mrz_vals, "mrz", ValidationConfig(), mrz_names=True)[0].passed


def test_no_swap_is_inferred_when_the_mrz_lost_one_of_the_names():
    # names line misread as surname "LAF LEON", no given names: the printed given names stay
    assert _resolve({F: "OLAF LEON", L: "KRÜGER"}, 0.89, mrz_vals={L: "LAF LEON"},
                    disagree={"last_name"})[F] == ("OLAF LEON", "ocr")


def test_an_mrz_name_that_outranked_its_misread_printed_line_keeps_that_lines_box():
    ocr = {F: FieldText(F, "TOUS", 0.9, Box(5, 5, 50, 20)), L: FieldText(L, "HUGO", 0.9, Box(5, 30, 50, 45))}
    out = resolve_fields(ocr, {F: "TOUS", L: "HUGO"}, VALID, {F: "TOMAS", L: "HUGO"}, {}, {"first_name"},
                         min_name_confidence=0.5, sure_name_confidence=0.88, name_similarity=0.85)
    assert (out[F].value, out[F].source, out[F].box) == ("TOMAS", "mrz", Box(5, 5, 50, 20))
    # a printed name that is the MRZ's other name was read off the wrong line: no box for this field
    ocr = {L: FieldText(L, "TOMAS", 0.9, Box(5, 30, 50, 45))}
    out = resolve_fields(ocr, {L: "TOMAS"}, VALID, {F: "TOMAS", L: "KRUEGER"}, {}, {"last_name"},
                         min_name_confidence=0.5, sure_name_confidence=0.88, name_similarity=0.85)
    assert (out[L].value, out[L].source, out[L].box) == ("KRUEGER", "mrz", None)
