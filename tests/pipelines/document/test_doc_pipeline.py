"""verify_document and `veid document` end to end on the ICAO specimen passport (real scan)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import zxingcpp
from click.testing import CliRunner

from pipelines.document.aamva import AamvaRecord, build_payload
from pipelines.document.orientation import OrientationSource
from pipelines.document.pipeline import DocumentConfig, DocumentStages, load_config, verify_document
from veid.errors import InputError
from veid.types import Field


@pytest.fixture(scope="module")
def stages():
    return DocumentStages.build(DocumentConfig(), None)


def test_specimen_passport_reads_and_checks(shared_data, stages):
    path = shared_data / "mrz-passporteye" / "tests_data" / "passport-td3.png"
    res = verify_document(path, DocumentConfig(), stages, today=dt.date(2026, 11, 28))
    assert res.orientation.face_found and res.orientation.angle == 0
    assert res.orientation.source is OrientationSource.FACE
    assert res.mrz is not None and res.mrz.valid
    assert res.family is not None and res.family.value == "passport_td3"
    assert res.fields[Field.ID_NUMBER].value == "L898902C3"
    assert res.fields[Field.DATE_OF_BIRTH].value == "1974-08-12"
    assert res.fields[Field.LAST_NAME].value == "ERIKSSON"
    checks = {c.name: c for c in res.checks}
    assert checks["mrz.check_digits"].passed and not checks["document.not_expired"].passed
    assert res.portrait is not None and res.portrait.size > 0
    data = res.to_json()
    assert {"fields", "checks", "mrz", "barcode", "timings_ms", "models"} <= set(data)
    assert data["mrz"]["valid"] is True and len(data["mrz"]["lines"]) == 2
    assert {"orientation", "perspective", "mrz"} <= set(data["timings_ms"])


def test_portrait_is_handed_over_as_soon_as_found(shared_data, stages):
    path = shared_data / "mrz-passporteye" / "tests_data" / "passport-td3.png"
    handed: list[np.ndarray] = []
    res = verify_document(path, DocumentConfig(), stages, today=dt.date(2026, 11, 28), on_portrait=handed.append)
    assert len(handed) == 1 and np.array_equal(handed[0], res.portrait)
    with pytest.raises(InputError):  # no face, no barcode, no MRZ: refused, and nothing was handed over
        verify_document(np.full((400, 640, 3), 240, np.uint8), DocumentConfig(), stages, on_portrait=handed.append)
    assert len(handed) == 1


def test_a_turned_licence_back_takes_its_angle_from_the_pdf417(stages):
    """No portrait on a licence back: the PDF417 symbol's own rotation is the document's."""
    record = AamvaRecord(customer_id="S20572278", family_name="DOE", first_name="JANE", middle_name="",
                         birth_date=dt.date(1980, 2, 3), issue_date=dt.date(2020, 1, 1), expiry_date=dt.date(2030, 1, 1),
                         sex="F", street="1 MAIN ST", city="SALEM", jurisdiction="OR", postal_code="97301")
    symbol = zxingcpp.create_barcode(build_payload(record), zxingcpp.BarcodeFormat.PDF417).to_image(scale=3)
    back = np.full((460, 720), 235, np.uint8)
    sym = np.asarray(symbol, np.uint8)  # 228 x 576 px
    back[120:120 + sym.shape[0], 30:30 + sym.shape[1]] = sym
    photo = np.ascontiguousarray(np.rot90(np.stack([back] * 3, axis=-1), k=-1))  # turned 90 degrees clockwise
    res = verify_document(photo, DocumentConfig(), stages, today=dt.date(2026, 11, 28))
    assert not res.orientation.face_found and res.orientation.source is OrientationSource.BARCODE
    assert res.orientation.angle == 90
    assert res.fields[Field.LAST_NAME].value == "DOE" and res.to_json()["orientation"]["source"] == "barcode"


def test_params_sections_load(repo_root):
    cfg = load_config(repo_root / "params.yaml")
    assert cfg.mrz.max_subs == 0 and cfg.orientation.angles == (0, 90, 180, 270)


def test_cli_json_and_debug(shared_data, tmp_path):
    from pipelines.document_cli import document

    path = shared_data / "mrz-passporteye" / "tests_data" / "passport-td2.png"
    out = CliRunner().invoke(document, [str(path), "--json", "--no-models", "--debug", str(tmp_path / "dbg")])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["mrz"]["valid"] and data["mrz"]["layout"] == "TD2"
    assert data["fields"]["id_number"]["value"] == "D23145890"
    assert sorted(p.name for p in (tmp_path / "dbg").iterdir()) == ["1_orientation_perspective.png",
                                                                    "2_warped_fields.png", "3_portrait.png"]


def test_cli_bad_input_is_a_clear_error(tmp_path):
    from veid.cli import cli

    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"not a jpeg")
    out = CliRunner().invoke(cli, ["document", str(bad), "--no-models"])
    assert out.exit_code != 0
    assert "not a decodable image" in str(out.exception) or "not a decodable image" in out.output


@pytest.mark.parametrize("family, printed, expected", [
    (None, "10/19/1969", "1969-10-19"),  # month-first is the only valid reading: taken, nothing guessed
    (None, "19/10/1969", "1969-10-19"),
    ("driver_license_aamva", "10/19/1969", "1969-10-19"),
    ("passport_td3", "10/19/1969", None),  # a day-first document with an impossible date: a misread
    ("passport_td3", "19.10.1969", "1969-10-19"),
])
def test_printed_date_of_birth_order(family, printed, expected):
    from pipelines.document.fields import FieldText
    from pipelines.document.pipeline import _normalize_ocr
    from veid.types import Box, DocumentFamily

    ocr = {Field.DATE_OF_BIRTH: FieldText(Field.DATE_OF_BIRTH, printed, 0.9, Box(0, 0, 10, 10))}
    out = _normalize_ocr(ocr, DocumentFamily(family) if family else None)
    assert out.get(Field.DATE_OF_BIRTH) == expected


def _readings(f: Field, *texts: tuple[str, float]) -> list:
    from pipelines.document.fields import FieldText
    from veid.types import Box

    return [FieldText(f, text, conf, Box(0, 0, 10, 10)) for text, conf in texts]


def test_a_reading_of_another_preparation_that_the_mrz_corroborates_replaces_a_misreading():
    from pipelines.document.fields import most_confident
    from pipelines.document.pipeline import _corroborated
    from pipelines.document.validation import ValidationConfig

    L, ID = Field.LAST_NAME, Field.ID_NUMBER
    readings = {L: _readings(L, ("SMTH", 0.9), ("SMITH", 0.7)), ID: _readings(ID, ("X1234567", 0.9), ("X1234561", 0.8))}
    ocr = most_confident(readings)
    cfg = ValidationConfig()
    got = _corroborated(ocr, readings, {"mrz": {L: "SMITH", ID: "X1234561"}, "barcode": {}}, None, cfg)
    assert (got[L].text, got[ID].text) == ("SMITH", "X1234561")
    # no reading agrees (a tampered field): the most confident stays, and its check will fail
    got = _corroborated(ocr, readings, {"mrz": {L: "JONES", ID: "X7654321"}, "barcode": {}}, None, cfg)
    assert (got[L].text, got[ID].text) == ("SMTH", "X1234567")
    # a reading must agree with every source that has the field
    got = _corroborated(ocr, readings, {"mrz": {ID: "X1234561"}, "barcode": {ID: "X1234567"}}, None, cfg)
    assert got[ID].text == "X1234567"
    # nothing to corroborate with: unchanged
    assert _corroborated(ocr, readings, {"mrz": {}, "barcode": {}}, None, cfg) == ocr
