"""AAMVA DL/ID barcode payloads: the 2020 Annex D sample layout, round trips, real-world variants, PDF417."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import zxingcpp

from pipelines.document import aamva
from veid.errors import InputError

# Field layout of the fictional sample in the AAMVA DL/ID Card Design Standard (2020), Annex D.
DL = ("DLDAQT64235789\nDCSSAMPLE\nDDEN\nDACMICHAEL\nDDFN\nDADJOHN\nDDGN\nDCUJR\nDCAD\nDCBK\nDCDPH\n"
      "DBD06062019\nDBB06061986\nDBA12102024\nDBC1\nDAU068 in\nDAYBRO\nDAG2300 WEST BROAD STREET\n"
      "DAIRICHMOND\nDAJVA\nDAK232690000  \nDCF2424244747474786102204\nDCGUSA\nDCK123456789\nDDAF\n"
      "DDB06062018\nDDC06062020\nDDD1\r")
ANNEX_D = "@\n\x1e\rANSI 636000100002DL00410278ZV03190008" + DL + "ZVZVA01\r"


def test_annex_d_designators_point_at_the_subfiles() -> None:
    assert ANNEX_D[41:41 + 278] == DL and ANNEX_D[319:327] == "ZVZVA01\r"


def test_annex_d_sample_parses() -> None:
    d = aamva.parse_payload(ANNEX_D)
    assert (d.iin, d.version, d.jurisdiction_version, d.subfiles) == ("636000", 10, 0, ("DL", "ZV"))
    assert (d.customer_id, d.family_name, d.first_name, d.middle_name) == ("T64235789", "SAMPLE", "MICHAEL", "JOHN")
    assert d.birth_date == dt.date(1986, 6, 6) and d.expiry_date == dt.date(2024, 12, 10)
    assert d.date("DBD") == dt.date(2019, 6, 6)
    assert d.sex == "M" and d.get("DAK") == "232690000" and d.get("DAG") == "2300 WEST BROAD STREET"
    assert d.get("ZVA") == "01"


def _record(**over: object) -> aamva.AamvaRecord:
    base = dict(customer_id="T64235789", family_name="SAMPLE", first_name="MICHAEL", middle_name="JOHN",
                birth_date=dt.date(1986, 6, 6), issue_date=dt.date(2019, 6, 6), expiry_date=dt.date(2024, 12, 10),
                sex="M", street="2300 WEST BROAD STREET", city="RICHMOND", jurisdiction="VA", postal_code="232690000")
    base.update(over)
    return aamva.AamvaRecord(**base)  # type: ignore[arg-type]


def test_build_matches_annex_d_header_and_offsets() -> None:
    payload = aamva.build_payload(_record())
    assert payload.startswith("@\n\x1e\rANSI 636000100002DL0041")
    off, length = int(payload[23:27]), int(payload[27:31])
    assert payload[off:off + 2] == "DL" and payload[off + length - 1] == "\r"
    zoff, zlen = int(payload[33:37]), int(payload[37:41])
    assert payload[31:33] == "ZV" and payload[zoff:zoff + zlen] == "ZVZVA01\r" and zoff + zlen == len(payload)


@pytest.mark.parametrize("country, sex", [("USA", "F"), ("CAN", "X")])
def test_round_trip(country: str, sex: str) -> None:
    rec = _record(country=country, sex=sex, family_name="NUNEZ", first_name="JOSE", middle_name="")
    d = aamva.parse_payload(aamva.build_payload(rec))
    assert (d.family_name, d.first_name, d.middle_name, d.customer_id, d.sex) == ("NUNEZ", "JOSE", "", "T64235789", sex)
    assert (d.birth_date, d.expiry_date, d.date("DBD")) == (rec.birth_date, rec.expiry_date, rec.issue_date)
    assert d.get("DCG") == country


def test_build_rejects_separators_and_non_ascii() -> None:
    with pytest.raises(InputError):
        aamva.build_payload(_record(family_name="MÜLLER"))
    with pytest.raises(InputError):
        aamva.build_payload(_record(city="A\nB"))


def test_tolerates_real_world_variants() -> None:
    wrong_offsets = ANNEX_D.replace("DL00410278", "DL00500270")
    assert aamva.parse_payload(wrong_offsets).family_name == "SAMPLE"
    crlf = ANNEX_D.replace("\n", "\r\n").replace("@\r\n", "@\n")
    assert aamva.parse_payload(crlf).first_name == "MICHAEL"
    no_space = ANNEX_D.replace("ANSI ", "ANSI")
    assert aamva.parse_payload(no_space).customer_id == "T64235789"
    damaged_prefix = ANNEX_D.replace("@\n\x1e\r", "@\n\x1c\r")
    assert aamva.parse_payload(damaged_prefix).birth_date == dt.date(1986, 6, 6)
    v1 = "@\n\x1e\rANSI 6360000102DL00390070DLDAQ0123456\nDAASAMPLE,JANE,Q\nDBB19700102\nDBA20300102\nDBC2\r"
    d = aamva.parse_payload(v1)
    assert (d.version, d.jurisdiction_version, d.family_name, d.first_name) == (1, None, "SAMPLE", "JANE")
    assert d.birth_date == dt.date(1970, 1, 2) and d.sex == "F"
    v2 = ANNEX_D.replace("DACMICHAEL\n", "DCTMICHAEL,JOHN\n").replace("DADJOHN\n", "")
    d2 = aamva.parse_payload(v2)
    assert (d2.first_name, d2.middle_name) == ("MICHAEL", "JOHN")


def test_not_aamva_raises() -> None:
    with pytest.raises(InputError):
        aamva.parse_payload("hello world")
    with pytest.raises(InputError):
        aamva.parse_payload("@\n\x1e\rANSI 636000100001ZV00310008ZVZVA01\r")


def test_pdf417_encode_decode_round_trip() -> None:
    payload = aamva.build_payload(_record())
    symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.PDF417, ec_level="5")
    bits = np.array(symbol.to_image(scale=3))
    found = zxingcpp.read_barcode(bits, formats=zxingcpp.BarcodeFormat.PDF417, text_mode=zxingcpp.TextMode.Plain)
    assert found is not None and found.text == payload
    assert aamva.parse_payload(found.text).family_name == "SAMPLE"
