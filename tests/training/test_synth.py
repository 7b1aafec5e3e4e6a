"""Synthetic identity generator: determinism, ground-truth consistency, negatives, identity-disjoint splits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from pipelines.document import aamva, icao
from training.synth import SynthConfig, generate, make_plan
from training.synth_identity import load_face_persons
from training.synth_manifest import Sample, read_manifest
from veid.config import load_section
from veid.errors import ConfigError, InputError
from veid.types import FIELD_CLASS, Field

N = 14


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "a"
    generate(out, N, 5, SynthConfig(workers=1, negative_rate=0.4), progress=False)
    return out


@pytest.fixture(scope="module")
def samples(synth_dir: Path) -> list[Sample]:
    return read_manifest(synth_dir)


@pytest.fixture(scope="module")
def negatives_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "neg"
    cfg = SynthConfig(workers=1, negative_rate=1.0, negatives=("wrong_check_digit", "tampered_field"),
                      family_weights=(1.0, 1.0, 0.0))
    generate(out, 6, 11, cfg, progress=False)
    return out


def test_same_seed_same_bytes_whatever_the_worker_count(synth_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "b"
    generate(again, N, 5, SynthConfig(workers=2, negative_rate=0.4), progress=False)
    first, second = _files(synth_dir), _files(again)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []
    assert {"manifest.jsonl", "config.json"} <= set(first)


def test_other_seed_differs(synth_dir: Path, tmp_path: Path) -> None:
    generate(tmp_path / "c", 2, 6, SynthConfig(workers=1), progress=False)
    assert (tmp_path / "c" / "images" / "000000.jpg").read_bytes() != (synth_dir / "images" / "000000.jpg").read_bytes()


def test_files_exist_and_sizes_match(samples: list[Sample]) -> None:
    assert len(samples) == N and [s.id for s in samples] == [f"{i:06d}" for i in range(N)]
    for s in samples:
        img = cv2.imread(str(s.image))
        flat = cv2.imread(str(s.flat))
        mask = cv2.imread(str(s.mask), cv2.IMREAD_UNCHANGED)
        assert img.shape[1::-1] == s.image_size and flat.shape[1::-1] == s.flat_size == mask.shape[::-1]


def test_every_document_says_specimen(samples: list[Sample]) -> None:
    assert all(any(w.text == "SPECIMEN" for w in s.words) for s in samples)


def _inside(quad: np.ndarray, points: np.ndarray, tol: float) -> bool:
    contour = quad.reshape(-1, 1, 2).astype(np.float32)
    return all(cv2.pointPolygonTest(contour, (float(x), float(y)), True) >= -tol for x, y in points)


def test_char_quads_inside_word_quads_flat_and_captured(samples: list[Sample]) -> None:
    checked = 0
    for s in samples:
        hom = np.asarray(s.homography)
        for w in s.words:
            assert len(w.chars) == len(w.text.replace(" ", ""))
            assert "".join(c.c for c in w.chars) == w.text
            for c in w.chars:
                assert _inside(w.quad_flat.to_array(), c.quad_flat.to_array(), 0.01)
                warped = cv2.perspectiveTransform(c.quad_flat.to_array()[None], hom)[0]
                assert _inside(w.quad.to_array(), warped, 0.6)
                checked += 1
    assert checked > 300


def test_field_words_inside_field_quads(samples: list[Sample]) -> None:
    for s in samples:
        for w in s.words:
            if w.field is not None:
                f = s.fields[w.field]
                assert _inside(f.quad_flat.to_array(), w.quad_flat.to_array(), 0.01)
                assert _inside(f.quad.to_array(), w.quad.to_array(), 0.6)
        for name, f in s.fields.items():
            assert " ".join(w.text for w in s.words if w.field == name) == f.text


def test_masks_agree_with_field_quads(samples: list[Sample]) -> None:
    for s in samples:
        mask = cv2.imread(str(s.mask), cv2.IMREAD_UNCHANGED)
        expected = np.zeros_like(mask)
        for name, f in s.fields.items():
            x0, y0, x1, y1 = f.quad_flat.bounds().to_list()
            region = mask[int(np.ceil(y0)):int(np.floor(y1)), int(np.ceil(x0)):int(np.floor(x1))]
            assert region.size > 0 and np.all(region == FIELD_CLASS[Field(name)])
            expected[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = FIELD_CLASS[Field(name)]
        assert np.array_equal(mask, expected)
        if s.side == "front":
            assert set(s.fields) == {f.value for f in Field}
        else:
            assert s.fields == {} and mask.max() == 0


def test_homography_maps_document_and_portrait(samples: list[Sample]) -> None:
    for s in samples:
        w, h = s.flat_size
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        warped = cv2.perspectiveTransform(corners[None], np.asarray(s.homography))[0]
        assert np.allclose(warped, s.document_quad.to_array(), atol=0.02)
        assert np.all(warped >= 0) and np.all(warped[:, 0] <= s.image_size[0]) and np.all(warped[:, 1] <= s.image_size[1])
        assert s.orientation in (0, 90, 180, 270)
        if s.portrait_box_flat is not None:
            pq = cv2.perspectiveTransform(s.portrait_box_flat and np.array(
                [[s.portrait_box_flat.x0, s.portrait_box_flat.y0], [s.portrait_box_flat.x1, s.portrait_box_flat.y0],
                 [s.portrait_box_flat.x1, s.portrait_box_flat.y1], [s.portrait_box_flat.x0, s.portrait_box_flat.y1]],
                np.float64)[None], np.asarray(s.homography))[0]
            assert np.allclose(pq, s.portrait_quad.to_array(), atol=0.02)


def test_mrz_check_digits_verify_on_genuine_samples(samples: list[Sample]) -> None:
    seen = 0
    for s in samples:
        if s.mrz is None or "wrong_check_digit" in s.negatives:
            continue
        fields = icao.parse_mrz(s.mrz.lines)
        assert fields.valid, s.id
        assert fields.document_number == s.identity_data.document_number
        assert fields.birth_date == s.identity_data.date_of_birth[2:].replace("-", "")
        assert fields.surname == icao.transliterate(s.identity_data.last_name).replace("<", " ")
        mrz_words = [w.text for w in s.words if "<" in w.text or w.text in s.mrz.lines]
        assert list(s.mrz.lines) == mrz_words[-len(s.mrz.lines):]
        seen += 1
    assert seen > 0


def test_negatives_are_labelled_and_detectable(negatives_dir: Path) -> None:
    kinds = set()
    for s in read_manifest(negatives_dir):
        assert not s.genuine and len(s.negatives) == 1
        kind = s.negatives[0]
        kinds.add(kind)
        fields = icao.parse_mrz(s.mrz.lines)
        if kind == "wrong_check_digit":
            bad = {c.name for c in fields.checks if not c.valid}
            assert s.negative_detail["check_digit"] in bad
        else:  # tampered: the printed field disagrees with the true (MRZ) data, the MRZ still verifies
            assert fields.valid
            name = s.negative_detail["tampered_field"]
            printed = s.fields[name]
            truth = {"last_name": s.identity_data.last_name.upper(), "first_name": s.identity_data.first_name,
                     "id_number": s.identity_data.id_number, "date_of_birth": s.identity_data.date_of_birth}[name]
            value = printed.iso if name == "date_of_birth" else printed.text
            assert value.upper() != truth.upper()
    assert kinds == {"wrong_check_digit", "tampered_field"}


def test_licence_barcode_payload_matches_identity(samples: list[Sample]) -> None:
    backs = [s for s in samples if s.barcode is not None]
    assert backs, "expected at least one licence back"
    for s in backs:
        d = aamva.parse_payload(s.barcode.payload)
        assert d.customer_id == s.identity_data.id_number or "tampered_field" in s.negatives
        assert d.expiry_date.isoformat() == s.identity_data.expiry
        found = zxingcpp.read_barcode(cv2.imread(str(s.flat)), formats=zxingcpp.BarcodeFormat.PDF417,
                                      text_mode=zxingcpp.TextMode.Plain)
        assert found is not None and found.text == s.barcode.payload


def test_splits_are_identity_disjoint_and_keep_face_match_persons_out_of_train(samples: list[Sample]) -> None:
    split_of: dict[str, str] = {}
    for s in samples:
        for key in (s.identity, s.face_person):
            assert split_of.setdefault(key, s.split) == s.split
    persons = load_face_persons(SynthConfig().faces_path())
    two_photo = {p.person_id for p in persons if len(p.photos) > 1}
    assert all(p.split != "train" for p in persons if p.person_id in two_photo)
    assert all(p.split == "train" for p in persons if p.person_id not in two_photo)
    plan = make_plan(400, 3, SynthConfig())
    seen: dict[str, str] = {}
    for p in plan:
        assert seen.setdefault(p.person.face.person_id, p.split) == p.split == p.person.face.split
        if p.swap_face is not None:
            assert p.swap_face.split == p.split and p.swap_face.person_id != p.person.face.person_id
    assert {p.split for p in plan} == {"train", "val", "test"}


def test_selfie_is_another_photo_of_the_same_person(samples: list[Sample]) -> None:
    for s in samples:
        if s.selfie is None:
            continue
        assert s.selfie.is_file() and s.selfie_source.startswith(s.face_person + "_")
        if "swapped_portrait" in s.negatives:
            assert not s.portrait_source.startswith(s.face_person + "_")
        else:
            assert s.portrait_source.startswith(s.face_person + "_") and s.selfie_source != s.portrait_source


def test_plan_prefix_is_stable() -> None:
    a, b = make_plan(5, 9, SynthConfig()), make_plan(50, 9, SynthConfig())
    assert a == b[:5]


def test_bad_arguments_raise_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        generate(tmp_path / "x", 0, 1, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError):
        generate(tmp_path / "file", 1, 1, progress=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(InputError):
        generate(tmp_path / "full", 1, 1, progress=False)
    with pytest.raises(InputError):
        generate(tmp_path / "y", 1, 1, SynthConfig(faces_dir=str(tmp_path / "nofaces")), progress=False)
    with pytest.raises(InputError, match="fonts missing"):
        generate(tmp_path / "z", 1, 1, SynthConfig(fonts_dir=str(tmp_path)), progress=False)
    with pytest.raises(ValueError):
        SynthConfig(negatives=("nonsense",))


def test_scopes_written_once_per_identity(synth_dir: Path, samples: list[Sample]) -> None:
    rows = [json.loads(line) for line in (synth_dir / "scopes.jsonl").read_text().splitlines()]
    split_of = {s.identity: s.split for s in samples}
    assert sorted(r["identity"] for r in rows) == sorted(split_of)
    assert all(r["split"] == split_of[r["identity"]] for r in rows)


def test_params_section_loads_and_rejects_unknown_keys(repo_root: Path, tmp_path: Path) -> None:
    cfg = load_section(repo_root / "params.yaml", "synth", SynthConfig)
    assert dataclasses.replace(cfg) == cfg and cfg.capture.long_side > cfg.capture.short_side
    bad = tmp_path / "params.yaml"
    bad.write_text("synth:\n  workers: 2\n  colour_mode: neon\n")
    with pytest.raises(ConfigError, match="colour_mode"):
        load_section(bad, "synth", SynthConfig)
    bad.write_text("synth:\n  capture:\n    jpeg_min: high\n")
    with pytest.raises(ConfigError, match="jpeg_min"):
        load_section(bad, "synth", SynthConfig)
