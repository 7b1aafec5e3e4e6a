"""Normalization, plausibility and cross-checks: dates, ID formats, diacritics, tampered fields."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.document.icao import check_digit
from pipelines.document.mrz import parse_lines
from pipelines.document.validation import (
    FieldValidator, ValidationConfig, cross_check, mrz_checks, mrz_form, mrz_values, normalize_name, parse_date,
    mrz_evidence, mrz_expiry, read_off_expiry, settle_cross_checks,
)
from veid.types import DocumentFamily, Field

TODAY = dt.date(2026, 11, 28)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


@pytest.mark.parametrize("text,us,iso", [
    ("15/04/1972", False, "1972-04-15"), ("15.04.1972", False, "1972-04-15"), ("15 06 1947", False, "1947-06-15"),
    ("1975-02-20", False, "1975-02-20"), ("12 AUGUST/AOUT 74", False, "1974-08-12"), ("27 MAY/MAI 97", False, "1997-05-27"),
    ("08/24/1950", True, "1950-08-24"), ("31 DEC 2031", False, "2031-12-31"),
    # separators OCR lost
    ("11091950", False, "1950-09-11"), ("1021/1953.", True, "1953-10-21"), ("10/211953", True, "1953-10-21"),
])
def test_dates_parse(text, us, iso):
    assert parse_date(text, us_order=us).isoformat() == iso


@pytest.mark.parametrize("text", ["31/02/1990", "hello", "", "99 99 9999", "D62793288", "123456789", "12345678"])
def test_impossible_dates_are_none(text):
    assert parse_date(text) is None


def test_birth_in_the_future_fails():
    checks = FieldValidator(today=TODAY)({Field.DATE_OF_BIRTH: "2030-01-01"}, None)
    assert checks[0].name == "field.date_of_birth.plausible" and not checks[0].passed and "future" in checks[0].reason


def test_age_out_of_range_fails_and_normal_age_passes():
    v = FieldValidator(ValidationConfig(max_age_years=120), today=TODAY)
    assert not v({Field.DATE_OF_BIRTH: "1880-01-01"}, None)[0].passed
    assert v({Field.DATE_OF_BIRTH: "1985-03-12"}, None)[0].passed


def test_id_number_format_per_family():
    v = FieldValidator(today=TODAY)
    assert v({Field.ID_NUMBER: "L898902C3"}, DocumentFamily.PASSPORT_TD3)[0].passed
    assert not v({Field.ID_NUMBER: "L898902C3XYZ"}, DocumentFamily.PASSPORT_TD3)[0].passed
    assert v({Field.ID_NUMBER: "NVK305275334298"}, DocumentFamily.DRIVER_LICENSE_AAMVA)[0].passed
    # a word read where the number should be: no digit, no document number
    assert not v({Field.ID_NUMBER: "CALIFORNIA"}, DocumentFamily.DRIVER_LICENSE_AAMVA)[0].passed
    assert not v({Field.ID_NUMBER: "GASES"}, DocumentFamily.DRIVER_LICENSE_AAMVA)[0].passed


def test_names_with_diacritics_keep_them_and_match_the_mrz_form():
    assert normalize_name("  andrés   björn ") == "ANDRÉS BJÖRN"
    assert mrz_form("ANDRÉS BJÖRN") == "ANDRES BJOERN"
    checks = cross_check({Field.FIRST_NAME: "ANDRÉS BJÖRN"}, {Field.FIRST_NAME: "ANDRES BJOERN"}, "mrz",
                         ValidationConfig(), mrz_names=True)
    assert checks[0].passed


def test_tampered_field_fails_its_mrz_cross_check():
    mrz = mrz_values(parse_lines(TD3), TODAY)
    printed = {Field.LAST_NAME: "ERIKSSON", Field.FIRST_NAME: "ANNA MARIA", Field.ID_NUMBER: "L898902C3",
               Field.DATE_OF_BIRTH: "1974-08-12"}
    ok = cross_check(printed, mrz, "mrz", ValidationConfig(), mrz_names=True)
    assert all(c.passed for c in ok) and len(ok) == 4
    tampered = dict(printed, **{Field.DATE_OF_BIRTH: "1984-08-12", Field.LAST_NAME: "JOHANSSON"})
    bad = {c.name: c for c in cross_check(tampered, mrz, "mrz", ValidationConfig(), mrz_names=True)}
    assert not bad["mrz.date_of_birth"].passed and not bad["mrz.last_name"].passed
    assert bad["mrz.id_number"].passed and "differ" in bad["mrz.last_name"].reason


def test_a_cross_check_passes_once_the_printed_value_reported_agrees_and_not_otherwise():
    mrz = mrz_values(parse_lines(TD3), TODAY)
    first = {Field.FIRST_NAME: "AN MARIA", Field.DATE_OF_BIRTH: "1974-08-17", Field.LAST_NAME: "JOHANSSON"}
    checks = cross_check(first, mrz, "mrz", ValidationConfig(), mrz_names=True)
    assert [c.passed for c in checks] == [False, False, False]
    # a later stage read the given names' own line; the birth date was reported from the MRZ (not printed);
    # the surname read finally still disagrees
    printed = {Field.FIRST_NAME: "ANNA MARIA", Field.LAST_NAME: "JOHANSSEN"}
    settled = {c.name: c for c in settle_cross_checks(checks, printed, {"mrz": mrz}, ValidationConfig())}
    assert settled["mrz.first_name"].passed and "later reading" in settled["mrz.first_name"].reason
    assert not settled["mrz.date_of_birth"].passed and not settled["mrz.last_name"].passed
    assert len(settled) == 3


def test_printed_fields_are_held_only_to_what_the_mrz_proves():
    valid = parse_lines(TD3)
    assert mrz_evidence(valid, mrz_values(valid, TODAY)) == mrz_values(valid, TODAY)
    # the composite digit fails (a misread optional field): the names prove nothing, the number and the
    # birth date still verify by their own digits
    broken = parse_lines((TD3[0], TD3[1][:28] + "ZE184226C" + TD3[1][37:]))
    assert not broken.valid
    proven = mrz_evidence(broken, mrz_values(broken, TODAY))
    assert set(proven) == {Field.ID_NUMBER, Field.DATE_OF_BIRTH}
    # ... and a birth date whose digit fails is no evidence either
    bad_date = parse_lines((TD3[0], TD3[1][:13] + "7408132" + TD3[1][20:]))
    assert set(mrz_evidence(bad_date, mrz_values(bad_date, TODAY))) == {Field.ID_NUMBER}
    # a number with a filler inside whose digit verifies (by chance, on a misread zone) is no evidence
    holed = parse_lines((TD3[0], "L8989<2C3" + check_digit("L8989<2C3") + TD3[1][10:28] + "ZE184226C" + TD3[1][37:]))
    assert holed.fields.check("document_number").valid and not holed.valid
    assert set(mrz_evidence(holed, mrz_values(holed, TODAY))) == {Field.DATE_OF_BIRTH}


def test_a_birth_date_read_off_the_expiry_dates_line_is_recognised():
    expiry = mrz_expiry(parse_lines(TD3), TODAY)  # the specimen expires 2012-04-15
    assert expiry == dt.date(2012, 4, 15)
    assert read_off_expiry("1912-04-15", expiry)  # "15 APR 12" taken for a birth date
    assert not read_off_expiry("1974-08-12", expiry) and not read_off_expiry("1912-04-16", expiry)
    assert not read_off_expiry("1912-04-15", None) and not read_off_expiry("not a date", expiry)
    broken = parse_lines((TD3[0], TD3[1][:21] + "1204158" + TD3[1][28:]))  # expiry digit fails
    assert mrz_expiry(broken, TODAY) is None


def test_mrz_checks_report_failing_digits_and_expiry():
    checks = {c.name: c for c in mrz_checks(parse_lines(TD3), TODAY)}
    assert checks["mrz.check_digits"].passed
    assert not checks["document.not_expired"].passed  # the specimen expired in 2012
    bad = parse_lines((TD3[0], TD3[1][:19] + "3" + TD3[1][20:]))
    c = mrz_checks(bad, TODAY)[0]
    assert not c.passed and "birth_date" in c.reason
    assert "mrz.plausible" not in checks


def test_a_misread_zone_whose_digits_verify_by_chance_fails_plausibility():
    """The sex is covered by no check digit: a misread one leaves every digit verifying, and the MRZ invalid."""
    misread = parse_lines((TD3[0], TD3[1][:20] + "Q" + TD3[1][21:]))
    checks = {c.name: c for c in mrz_checks(misread, TODAY)}
    assert checks["mrz.check_digits"].passed and not misread.valid
    assert not checks["mrz.plausible"].passed and "misread" in checks["mrz.plausible"].reason


def test_names_lose_ocr_debris_at_their_ends():
    assert normalize_name("-Chloé") == "CHLOÉ" and normalize_name("„JANSEN") == "JANSEN"
    assert normalize_name("O'Brien :") == "O'BRIEN" and normalize_name("Gómez-Pérez") == "GÓMEZ-PÉREZ"


def test_mrz_names_that_only_dropped_letters_agree_with_the_printed_name():
    from pipelines.document.validation import dropped_letters_only

    assert dropped_letters_only("KELY", "KELLY") and dropped_letters_only("SCHEIDE", "SCHNEIDER")
    assert dropped_letters_only("OLVIA AIFE", "OLIVIA AOIFE")
    assert not dropped_letters_only("KELLY", "KELLY")      # equal: the similarity rule decides
    assert not dropped_letters_only("ABC", "XYZABC")        # too many extra letters
    assert not dropped_letters_only("KELLY", "KELY")        # the printed name lost letters instead
    assert not dropped_letters_only("ANNA", "HANNES")       # letters out of order
    assert not dropped_letters_only("AA", "VANA") and dropped_letters_only("KYA", "KAYA")  # two letters say nothing
    cfg = ValidationConfig()
    ok = cross_check({Field.LAST_NAME: "SCHNEIDER"}, {Field.LAST_NAME: "SCHEIDE"}, "mrz", cfg, mrz_names=True)
    assert ok[0].passed
    bad = cross_check({Field.LAST_NAME: "JOHANSSON"}, {Field.LAST_NAME: "ERIKSSON"}, "mrz", cfg, mrz_names=True)
    assert not bad[0].passed


@pytest.mark.parametrize("text, ambiguous", [
    ("08/04/1943", True), ("04.08.1943", True), ("08/24/1950", False), ("24/08/1950", False),
    ("07/07/1960", False), ("1943-08-04", False), ("04 AUG 1943", False), ("not a date", False),
    ("08041943", True), ("1021/1953", False),
])
def test_date_order_ambiguous_only_when_both_readings_are_dates(text, ambiguous):
    from pipelines.document.validation import date_order_ambiguous

    assert date_order_ambiguous(text) is ambiguous


@pytest.mark.parametrize(("name", "ok"), [
    ("SCHNEIDER", True), ("LLOYD", True), ("ÅSA", True), ("MARTÍN-LOBO", True),
    ("SCHNELOER CSOERENCMIKKELKKKKKKK", False),  # the MRZ line's fillers read as letters
    ("AMELLA GAAGOGGGOOOO", False),
    ("JOHN2", False),
])
def test_a_name_is_letters_and_never_one_letter_thrice_in_a_row(name, ok):
    (check,) = FieldValidator(today=TODAY)({Field.LAST_NAME: name}, None)
    assert check.passed is ok and check.name == "field.last_name.letters"
