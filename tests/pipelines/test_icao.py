"""ICAO 9303 check digits, MRZ composition and parsing against the published specimens."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.document import icao
from veid.errors import InputError

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


@pytest.mark.parametrize("data, digit", [
    ("L898902C3", "6"), ("740812", "2"), ("120415", "9"), ("ZE184226B<<<<<", "1"), ("D23145890", "7"),
    ("L898902C36" + "7408122" + "1204159ZE184226B<<<<<1", "0"),  # TD3 specimen composite
])
def test_check_digit_known_answers(data: str, digit: str) -> None:
    assert icao.check_digit(data) == digit


def test_td3_specimen_parses_and_verifies() -> None:
    f = icao.parse_mrz(TD3)
    assert f.format is icao.MrzFormat.TD3
    assert (f.document_number, f.surname, f.given_names) == ("L898902C3", "ERIKSSON", "ANNA MARIA")
    assert (f.issuing_state, f.nationality, f.birth_date, f.sex, f.expiry_date) == ("UTO", "UTO", "740812", "F", "120415")
    assert f.optional1 == "ZE184226B"
    assert f.valid and [c.name for c in f.checks] == [
        "document_number", "birth_date", "expiry_date", "optional", "composite"]


def test_td1_specimen_parses_and_verifies() -> None:
    f = icao.parse_mrz(TD1)
    assert f.format is icao.MrzFormat.TD1
    assert (f.document_code, f.document_number, f.surname, f.given_names) == ("I", "D23145890", "ERIKSSON", "ANNA MARIA")
    assert f.valid and f.check("composite").printed == "6"


def test_compose_reproduces_specimens() -> None:
    common = dict(issuing_state="UTO", surname="Eriksson", given_names="Anna María", nationality="UTO",
                  birth_date=dt.date(1974, 8, 12), sex="F", expiry_date=dt.date(2012, 4, 15))
    assert icao.compose_td3(document_code="P", document_number="L898902C3", personal_number="ZE184226B",
                            **common) == TD3
    assert icao.compose_td1(document_code="I", document_number="D23145890", **common) == TD1


@pytest.mark.parametrize("line, pos, name", [(1, 9, "document_number"), (1, 19, "birth_date"),
                                             (1, 27, "expiry_date"), (1, 43, "composite")])
def test_td3_one_wrong_digit_is_reported(line: int, pos: int, name: str) -> None:
    lines = list(TD3)
    lines[line] = lines[line][:pos] + str((int(lines[line][pos]) + 1) % 10) + lines[line][pos + 1:]
    f = icao.parse_mrz(lines)
    assert not f.valid
    # the composite digit covers the other check digits, so it fails with them
    assert {c.name for c in f.checks if not c.valid} == {name, "composite"}


def test_td1_changed_data_breaks_its_digit_and_the_composite() -> None:
    lines = list(TD1)
    lines[1] = "7408132" + lines[1][7:]  # birth date changed, digit kept
    f = icao.parse_mrz(lines)
    assert {c.name for c in f.checks if not c.valid} == {"birth_date", "composite"}


def test_empty_personal_number_accepts_filler_or_zero() -> None:
    base = icao.compose_td3(document_code="P", issuing_state="UTO", surname="A", given_names="B",
                            document_number="X1234567", nationality="UTO", birth_date=dt.date(1990, 1, 2),
                            sex="M", expiry_date=dt.date(2030, 1, 2))
    assert base[1][42] == "<" and icao.parse_mrz(base).valid


def test_transliteration_follows_icao() -> None:
    assert icao.transliterate("Müller-Lüdenscheidt") == "MUELLER<LUEDENSCHEIDT"
    assert icao.transliterate("O'Brien") == "OBRIEN"
    assert icao.transliterate("Ødegaard") == "OEDEGAARD"
    assert icao.transliterate("Dvořák Núñez") == "DVORAK<NUNEZ"
    assert icao.name_field("van der Berg", "Łukasz", 30) == "VAN<DER<BERG<<LUKASZ<<<<<<<<<<"


def test_long_names_are_truncated_to_the_field() -> None:
    field = icao.name_field("Papadopoulos-Wiśniewski", "Maximiliana Josefina", 30)
    assert len(field) == 30 and field.startswith("PAPADOPOULOS<WISNIEWSKI<<MAXI")


def test_bad_shapes_and_characters_raise() -> None:
    with pytest.raises(InputError):
        icao.parse_mrz(["P<UTO", "123"])
    with pytest.raises(InputError):
        icao.parse_mrz([TD3[0], TD3[1].replace("<", "-")])
    with pytest.raises(InputError):
        icao.check_digit("a")


def test_expand_date_windows() -> None:
    today = dt.date(2026, 6, 1)
    assert icao.expand_date("740812", expiry=False, today=today) == dt.date(1974, 8, 12)
    assert icao.expand_date("120415", expiry=True, today=today) == dt.date(2012, 4, 15)
    assert icao.expand_date("300101", expiry=False, today=today) == dt.date(1930, 1, 1)
    assert icao.expand_date("991399", expiry=False, today=today) is None
