"""MRZ text repair and reading: known specimens parse, wrong digits are flagged, OCR slips are repaired."""

from __future__ import annotations

import cv2
import pytest

from pipelines.document.mrz import MrzLayout, clean_fillers, combine, fit_length, parse_lines, repair
from pipelines.document.mrz_reader import MrzReader

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def test_icao_specimens_parse_with_every_digit_valid():
    td3 = parse_lines(TD3)
    assert td3.layout is MrzLayout.TD3 and td3.valid
    assert (td3.fields.document_number, td3.fields.birth_date, td3.fields.surname) == ("L898902C3", "740812", "ERIKSSON")
    td2 = parse_lines(TD2)
    assert td2.layout is MrzLayout.TD2 and td2.valid
    assert td2.fields.document_number == "D23145890" and td2.fields.given_names == "ANNA MARIA"
    td1 = parse_lines(TD1)
    assert td1.layout is MrzLayout.TD1 and td1.valid and td1.fields.document_number == "D23145890"


def test_the_names_end_at_a_run_of_three_fillers():
    speck = parse_lines((TD1[0], TD1[1], "ERIKSSON<<ANNA<MARIA<<<<<<<<<B"))  # a speck read on the padding
    assert (speck.fields.surname, speck.fields.given_names) == ("ERIKSSON", "ANNA MARIA") and speck.valid
    no_given = parse_lines((TD1[0], TD1[1], "ERIKSSON<<<<<<<<<<<<<<<<<<<<<K"))
    assert (no_given.fields.surname, no_given.fields.given_names) == ("ERIKSSON", "")


@pytest.mark.parametrize("lines", [TD3, TD2, TD1])
def test_a_wrong_check_digit_is_flagged(lines):
    row = 1 if len(lines) != 3 else 0
    pos = 9 if len(lines) != 3 else 14
    bad = list(lines)
    digit = bad[row][pos]
    bad[row] = bad[row][:pos] + str((int(digit) + 1) % 10) + bad[row][pos + 1:]
    reading = parse_lines(bad)
    assert not reading.valid
    assert not reading.fields.check("document_number").valid


def test_tampered_data_fails_the_composite():
    line2 = TD3[1].replace("7408122", "7508122")  # birth year changed, its own digit left as printed
    reading = parse_lines((TD3[0], line2))
    assert not reading.fields.check("birth_date").valid and not reading.fields.check("composite").valid


def test_visa_has_no_composite_digit():
    lines = ("VIUSATRAVELER<<HAPPYPERSON<<<<<<<<<<<<<<<<<<", "555123ABC6GBR6502056F04122361FLNDOOAMS803085")
    reading = parse_lines(lines)
    assert reading.valid and [c.name for c in reading.fields.checks] == ["document_number", "birth_date", "expiry_date"]


def test_repair_fixes_lookalikes_fillers_and_miscounted_runs():
    ocr = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<KKKKK<<", "L898902C36UT07408I22F12O4159ZE184226B<<<<<<10"]
    reading = repair(ocr)
    assert reading is not None and reading.valid
    assert reading.lines == TD3


@pytest.mark.parametrize("lines", [TD3, TD2, TD1])
def test_a_first_row_read_one_cell_early_is_shifted_back(lines):
    # "<P<UTOERIKSSON...": a speck before the document code took the first cell; the state and the
    # names would shift by one (surname OERIKSSON) and no check digit covers them
    early = ("<" + lines[0][:-1], *lines[1:])
    reading = repair(list(early))
    assert reading is not None and reading.valid
    assert reading.lines == lines
    assert (reading.fields.surname, reading.fields.issuing_state) == ("ERIKSSON", "UTO")


def test_repair_never_validates_a_digit_misread_as_another_digit():
    # every single-digit misread of the document number: no repair may make it pass (0 of 63)
    passed = []
    for i, ch in enumerate("L898902C3"):
        for d in "0123456789":
            if ch.isdigit() and d != ch:
                doc = "L898902C3"[:i] + d + "L898902C3"[i + 1:]
                reading = repair([TD3[0], doc + TD3[1][9:]])
                if reading is not None and reading.valid:
                    passed.append(doc)
    assert passed == []


def test_fit_length_grows_and_shrinks_the_filler_run():
    assert fit_length("ABC<<<<D", 10) == "ABC<<<<<<D"
    assert fit_length("ABC<<<<<<<D", 8) == "ABC<<<<D"
    assert len(fit_length("NOFILLER", 10)) == 10


def test_clean_fillers_turns_k_runs_into_fillers():
    line = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<KKKKKEK<<<<<<"
    assert clean_fillers(line, MrzLayout.TD3, 0) == TD3[0]


@pytest.mark.parametrize("given", ["KARL", "GRACE", "CLARA", "LEA", "AASA", "ALEX<KARL"])
def test_a_last_given_name_spelt_with_filler_look_alikes_is_kept(given):
    line = f"P<UTOERIKSSON<<{given}<<<<<<KKKKKEK<<<<<<<<<<<<<<<<<<<<<"[:44]
    assert clean_fillers(line, MrzLayout.TD3, 0) == f"P<UTOERIKSSON<<{given}".ljust(44, "<")
    td1 = f"ERIKSSON<<{given}<<<LLL<<<<<<<<<<<<<<"[:30]
    assert clean_fillers(td1, MrzLayout.TD1, 2) == f"ERIKSSON<<{given}".ljust(30, "<")


def test_combine_takes_each_field_from_a_read_whose_digit_verifies():
    a = "L898902C36UTO7408172F1204159ZE184226B<<<<<10"  # birth date misread
    b = "L898902C86UTO7408122F1204159ZE184226B<<<<<10"  # document number misread
    merged = combine([[TD3[0]], [a, b]], MrzLayout.TD3)
    assert parse_lines(merged).valid


@pytest.mark.parametrize("name,layout", [("passport-td3.png", "TD3"), ("passport-td2.png", "TD2")])
def test_reader_reads_the_passporteye_fixtures(shared_data, name, layout):
    rgb = cv2.cvtColor(cv2.imread(str(shared_data / "mrz-passporteye" / "tests_data" / name)), cv2.COLOR_BGR2RGB)
    det = MrzReader()(rgb)
    assert det is not None and det.reading.valid and det.reading.layout.value == layout
    f = det.reading.fields
    assert (f.birth_date, f.expiry_date, f.surname, f.nationality) == ("740812", "120415", "ERIKSSON", "UTO")
    assert f.document_number == ("L898902C3" if layout == "TD3" else "D23145890")


def test_reader_reads_an_mrz_turned_upside_down(shared_data):
    rgb = cv2.cvtColor(cv2.imread(str(shared_data / "mrz-passporteye" / "tests_data" / "passport-td3.png")),
                       cv2.COLOR_BGR2RGB)
    det = MrzReader()(cv2.rotate(rgb, cv2.ROTATE_180))
    assert det is not None and det.reading.valid and det.rotation == 180


def test_reader_finds_nothing_on_a_blank_page():
    import numpy as np

    assert MrzReader()(np.full((300, 500, 3), 255, np.uint8)) is None


def test_impossible_dates_are_not_valid_even_when_digits_verify():
    # birth date 745012 (month 50) with its own correct check digit and a matching composite
    from pipelines.document.icao import check_digit

    body = "L898902C36UTO" + "745012" + check_digit("745012") + "F1204159ZE184226B<<<<<1"
    line2 = body + check_digit(body[0:10] + body[13:20] + body[21:43])
    reading = parse_lines((TD3[0], line2))
    assert reading.fields.valid and not reading.plausible and not reading.valid


def test_check_digits_cannot_tell_g_from_6():
    from pipelines.document.icao import check_digit

    assert check_digit("ZG2703762") == check_digit("Z62703762")  # 16 and 6 differ by 10


def test_a_td3_whose_fillers_ocr_shortened_is_read_as_td3_not_td2():
    from pipelines.document.mrz_reader import MrzReader
    from tests.pipelines.document.test_doc_chevrons import _mrz_like_line

    # a TD3 with an empty personal number, filler runs cut short by OCR: it verifies as a TD2 too
    short = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L898902C36UTO7408122F1204159<<<<<<<8")
    td2 = parse_lines(short)
    assert td2.layout is MrzLayout.TD2 and td2.valid
    reader = MrzReader()
    td3_crops = [_mrz_like_line(44, 16), _mrz_like_line(44, 16)]
    out = reader._prefer_td3(td2, td3_crops)
    assert out.layout is MrzLayout.TD3 and out.valid and out.fields.document_number == "L898902C3"
    # the chevrons of a real TD2 (an identity card, coded I) are 36 cells apart: it stays a TD2
    card = parse_lines(("I" + short[0][1:], short[1]))
    assert card.layout is MrzLayout.TD2 and card.valid
    assert reader._prefer_td3(card, [_mrz_like_line(36, 8), _mrz_like_line(36, 8)]) is card
    # a passport (P) is a TD3 whatever the pitch says: ICAO 9303 issues no TD2 passport
    out = reader._prefer_td3(td2, [_mrz_like_line(36, 8), _mrz_like_line(36, 8)])
    assert out.layout is MrzLayout.TD3 and out.fields.document_number == "L898902C3"


def test_a_passport_read_as_td2_loses_to_its_td3_reading_on_a_tie():
    from pipelines.document.mrz_reader import _better

    # one misread in the document number: neither layout is valid, both verify the dates alike
    short = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L898902C35UTO7408122F1204159<<<<<<<8")
    td2, td3 = (repair(list(short), lay) for lay in (MrzLayout.TD2, MrzLayout.TD3))
    assert not td2.valid and not td3.valid and td2.n_valid_checks <= td3.n_valid_checks
    assert _better(td2, td3) is td3 and _better(td3, td2) is td3
    assert td2.n_valid_checks == td3.n_valid_checks == 2  # a tie, before the document code decides it
    card = repair(["I" + short[0][1:], short[1]], MrzLayout.TD2)  # an identity card keeps its tie as read
    assert card.n_valid_checks == 2 and _better(card, td3) is card
