"""Barcodes: real PDF417 samples decode exactly; an AAMVA licence barcode round-trips and cross-checks."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest
import zxingcpp

from pipelines.document.aamva import AamvaRecord, build_payload
from pipelines.document.barcode import BarcodeConfig, BarcodeFormat, BarcodeReader, find_barcodes, symbol_angle
from pipelines.document.image_io import ImageLimits, decode_image
from pipelines.document.validation import ValidationConfig, barcode_values, cross_check
from veid.types import Field


def test_real_pdf417_payloads_decode_exactly(shared_data):
    folder = shared_data / "pdf417-zxing" / "pdf417-2"
    reader = BarcodeReader()
    for img in sorted(folder.glob("*.png"))[:5]:
        expected = next(img.with_suffix(s).read_bytes() for s in (".txt", ".bin") if img.with_suffix(s).exists())
        found = [b for b in reader(decode_image(img, ImageLimits(min_side=1))) if b.format is BarcodeFormat.PDF417]
        assert found and found[0].payload == expected, img.name


def _licence_image(payload: str) -> np.ndarray:
    bc = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.PDF417)
    img = np.asarray(bc.to_image(scale=3), dtype=np.uint8)
    img = np.pad(img, 40, constant_values=255)
    return np.ascontiguousarray(np.stack([img] * 3, axis=-1))


RECORD = AamvaRecord(customer_id="S20572278", family_name="GOMEZ-PEREZ", first_name="KARL", middle_name="",
                     birth_date=dt.date(1966, 5, 24), issue_date=dt.date(2014, 11, 9), expiry_date=dt.date(2030, 11, 8),
                     sex="M", street="3603 CEDAR LN", city="SALEM", jurisdiction="OR", postal_code="97301")


def test_aamva_barcode_round_trips_and_matches_printed_fields():
    payload = build_payload(RECORD)
    found = BarcodeReader()(_licence_image(payload))
    assert found and found[0].format is BarcodeFormat.PDF417
    data = found[0].aamva()
    assert data is not None
    values = barcode_values(data)
    assert values == {Field.ID_NUMBER: "S20572278", Field.LAST_NAME: "GOMEZ-PEREZ", Field.FIRST_NAME: "KARL",
                      Field.DATE_OF_BIRTH: "1966-05-24"}
    printed = dict(values)
    assert all(c.passed for c in cross_check(printed, values, "barcode", ValidationConfig(), mrz_names=False))
    printed[Field.ID_NUMBER] = "S20572279"  # tampered front
    bad = {c.name: c for c in cross_check(printed, values, "barcode", ValidationConfig(), mrz_names=False)}
    assert not bad["barcode.id_number"].passed


def test_blank_image_has_no_barcode():
    assert BarcodeReader()(np.full((200, 300, 3), 255, np.uint8)) == []


def test_qr_code_is_read_too():
    bc = zxingcpp.create_barcode("VEID-TEST-123", zxingcpp.BarcodeFormat.QRCode)
    img = np.pad(np.asarray(bc.to_image(scale=6), dtype=np.uint8), 30, constant_values=255)
    found = BarcodeReader()(np.ascontiguousarray(np.stack([img] * 3, axis=-1)))
    assert [(b.format, b.text) for b in found] == [(BarcodeFormat.QR, "VEID-TEST-123")]


@pytest.mark.parametrize("rectify", [True, False])
def test_a_pdf417_bent_by_perspective_decodes_once_flattened(rectify):
    """A symbol whose left edge is foreshortened to 76 % and slightly blurred (a card photographed at a slant): zxing-cpp locates it
    but cannot decode it in place; warped flat along the located corners, it decodes to the exact payload."""
    payload = build_payload(RECORD)
    img = np.asarray(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.PDF417, ec_level="5")
                     .to_image(scale=2, add_quiet_zones=True), dtype=np.uint8)
    h, w = img.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[40, 40 + 0.12 * h], [40 + w, 40], [40 + w, 40 + h], [40, 40 + 0.88 * h]])
    bent = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w + 80, h + 80), borderValue=255)
    bent = cv2.cvtColor(cv2.GaussianBlur(bent, (0, 0), 0.8), cv2.COLOR_GRAY2RGB)
    found = BarcodeReader(BarcodeConfig(rectify_scale=1.5 if rectify else 0.0))(bent)
    pdf = [b for b in found if b.format is BarcodeFormat.PDF417]
    if not rectify:  # the case the rectification exists for: without it nothing decodes
        assert pdf == []
        return
    assert len(pdf) == 1 and pdf[0].payload == payload.encode("latin-1")
    corners = pdf[0].quad.to_array()  # mapped back into the photo: inside the bent symbol's outline
    assert corners[:, 0].min() > 20 and corners[:, 0].max() < w + 60


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_symbol_angle_is_the_capture_rotation(angle):
    photo = np.ascontiguousarray(np.rot90(_licence_image(build_payload(RECORD)), k=-(angle // 90)))  # clockwise
    pdf = [b for b in BarcodeReader()(photo) if b.format is BarcodeFormat.PDF417]
    assert len(pdf) == 1 and symbol_angle(pdf[0].quad) == angle


@pytest.mark.parametrize("degrees", [5.0, 8.0])
def test_a_pdf417_a_few_degrees_askew_is_found_in_the_turned_photo(degrees):
    """zxing-cpp gives up on this PDF417 turned 4 degrees or more counter-clockwise; the photo turned back a
    little decodes, and the symbol's corners come back in the photo's own pixels."""
    payload = build_payload(RECORD)
    flat = _licence_image(payload)
    h, w = flat.shape[:2]
    upright = BarcodeReader()(flat)[0].quad.to_array()
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    photo = cv2.warpAffine(flat, m, (w, h), borderValue=(255, 255, 255))
    assert BarcodeReader(BarcodeConfig(turn_degrees=()))(photo) == []  # where zxing-cpp alone gives up
    assert find_barcodes(BarcodeReader(BarcodeConfig(turn_degrees=())), photo, None) == ()
    found = find_barcodes(BarcodeReader(), photo, None)
    assert len(found) == 1 and found[0].payload == payload.encode("latin-1")
    expected = cv2.transform(upright[None], m)[0]  # the symbol's corners as turned into the photo
    got = found[0].quad.to_array()
    assert np.abs(got.mean(0) - expected.mean(0)).max() < 6  # zxing-cpp places single corners less exactly:
    assert np.abs(got - expected).max() < 0.05 * np.ptp(expected[:, 0])  # within 5 % of the symbol's width
    assert symbol_angle(found[0].quad) == 0
