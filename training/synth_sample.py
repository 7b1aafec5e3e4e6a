"""One synthetic sample: document content, negatives, rendering, capture, files and its manifest record."""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from pipelines.document import aamva, icao
from training import synth_identity as ident
from training.synth_capture import Captured, capture
from training.synth_docs import DocContent, RenderedDoc, render
from training.synth_text import BoxT
from veid.errors import InputError
from veid.types import FIELD_CLASS, Field

if TYPE_CHECKING:
    from training.synth import SynthConfig

FAMILIES = ("id_card_td1", "passport_td3", "driver_license_aamva")
NEGATIVES = ("tampered_field", "wrong_check_digit", "swapped_portrait", "expired", "screen_replay", "print_attack")
VALIDITY_YEARS = {"id_card_td1": 10, "passport_td3": 10, "driver_license_aamva": 8}


@dataclass(frozen=True)
class SamplePlan:
    """What sample ``index`` shows: drawn sequentially in the parent so it does not depend on worker count."""

    index: int
    split: str
    person: ident.Person
    family: str
    side: str
    negative: str | None
    swap_face: ident.FacePerson | None  # portrait source for swapped_portrait


def applicable_negatives(family: str, side: str) -> tuple[str, ...]:
    """The negative kinds that make sense for a family and side."""
    if family != "driver_license_aamva":
        return NEGATIVES
    if side == "back":
        return ("tampered_field", "expired", "screen_replay", "print_attack")
    return ("tampered_field", "swapped_portrait", "expired", "screen_replay", "print_attack")


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).encode(
        "ascii", "ignore").decode().upper()


def _read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(f"cannot read face photo {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _encode(img: np.ndarray, ext: str, param: list[int]) -> bytes:
    arr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    ok, buf = cv2.imencode(ext, arr, param)
    if not ok:
        raise InputError(f"cannot encode {ext} image")
    return buf.tobytes()


def _quad(box: BoxT) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def _warp(points: np.ndarray, hom: np.ndarray) -> list[list[float]]:
    pts = cv2.perspectiveTransform(points.reshape(1, -1, 2).astype(np.float64), hom)[0]
    return _r(pts)


def _r(points: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2)] for x, y in points]


def _change_digit(rng: np.random.Generator, text: str) -> str:
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    i = int(rng.choice(positions))
    return text[:i] + str((int(text[i]) + int(rng.integers(1, 10))) % 10) + text[i + 1:]


@dataclass(frozen=True)
class DocTruth:
    """What a document encodes (MRZ/barcode truth), what it prints, and which photos it uses."""

    first_name: str
    last_name: str
    birth_date: dt.date
    id_number: str  # printed ID / passport / licence number (DAQ)
    document_number: str  # MRZ document number; licence: DCF discriminator
    issuing_country: str
    nationality: str
    issue: dt.date
    expiry: dt.date
    printed: dict[str, Any]  # the four key fields as printed (differs from the truth when tampered)
    mrz_lines: tuple[str, ...] | None
    payload: str | None
    detail: dict[str, str]
    portrait_src: Path | None
    selfie_src: Path | None


def _tamper(rng: np.random.Generator, person: ident.Person, key: str, doc_number: str) -> Any:
    if key == "last_name":
        return str(rng.choice([s for s in ident.SURNAMES if s != person.last_name]))
    if key == "first_name":
        pool = ident.FIRST_F if person.sex == "F" else ident.FIRST_M
        return str(rng.choice([s for s in pool if s != person.first_name]))
    if key == "date_of_birth":
        return person.birth_date + dt.timedelta(days=int(rng.choice([-1, 1]) * rng.integers(1, 3000)))
    return _change_digit(rng, doc_number)


def _truth(plan: SamplePlan, seed: int, cfg: SynthConfig, rng: np.random.Generator) -> tuple[DocTruth, DocContent]:
    person, family = plan.person, plan.family
    ref = dt.date.fromisoformat(cfg.reference_date)
    # document constants depend on (seed, person, family) only: a licence's front and back agree
    doc_rng = np.random.default_rng([seed, 13, int(person.identity[3:]), FAMILIES.index(family)])
    validity = VALIDITY_YEARS[family]
    expiry = ref + dt.timedelta(days=int(doc_rng.integers(60, 365 * (validity - 1))))
    passport = family == "passport_td3"
    doc_number = ident.document_number(doc_rng, 2 if passport else 1, 7 if passport else 8)
    personal_number = ident.document_number(doc_rng, 0, 9) if doc_rng.random() < 0.4 else ""
    dl_discriminator = ident.document_number(doc_rng, 3, 12)
    place_of_birth = _ascii(str(doc_rng.choice(ident.CITIES))).title()
    if plan.negative == "expired":
        expiry = ref - dt.timedelta(days=int(rng.integers(30, 365 * 5)))
    issue = ident.add_years(expiry, -validity) + dt.timedelta(days=1)
    state_code, state_name, language = ident.STATES[person.state_index]
    us_code, us_name = ident.US_STATES[person.us_state_index]
    is_dl = family == "driver_license_aamva"
    true = {"first_name": person.first_name, "last_name": person.last_name, "date_of_birth": person.birth_date,
            "id_number": doc_number}
    printed = dict(true)
    detail: dict[str, str] = {}
    if plan.negative == "tampered_field":
        key = str(rng.choice(["last_name", "first_name", "date_of_birth", "id_number"]))
        printed[key] = _tamper(rng, person, key, doc_number)
        detail = {"tampered_field": key}
    mrz_lines: tuple[str, ...] | None = None
    common = dict(issuing_state=state_code, surname=person.last_name, given_names=person.first_name,
                  document_number=doc_number, nationality=person.nationality, birth_date=person.birth_date,
                  sex=person.sex, expiry_date=expiry)
    if family == "id_card_td1":
        mrz_lines = icao.compose_td1(document_code=str(rng.choice(["ID", "I", "IR"])), **common)
    elif passport:
        mrz_lines = icao.compose_td3(document_code="P", personal_number=personal_number, **common)
    if plan.negative == "wrong_check_digit" and mrz_lines is not None:
        mrz_lines, which = _break_check_digit(rng, mrz_lines)
        detail = {"check_digit": which}
    payload = None
    if is_dl and plan.side == "back":
        coded = printed if plan.negative == "tampered_field" else true
        given = coded["first_name"].split(" ")
        payload = aamva.build_payload(aamva.AamvaRecord(
            customer_id=coded["id_number"], family_name=_ascii(coded["last_name"]), first_name=_ascii(given[0]),
            middle_name=_ascii(" ".join(given[1:])), birth_date=coded["date_of_birth"], issue_date=issue,
            expiry_date=expiry, sex=person.sex, street=person.street, city=person.city, jurisdiction=us_code,
            postal_code=person.postal_code, document_discriminator=dl_discriminator))
        printed = dict(true)  # the back prints no key field
    photos = person.face.photos
    k = int(rng.integers(len(photos)))
    portrait_src: Path | None = photos[k]
    selfie_src = photos[1 - k] if len(photos) > 1 else None
    if plan.negative == "swapped_portrait" and plan.swap_face is not None:
        portrait_src = plan.swap_face.photos[int(rng.integers(len(plan.swap_face.photos)))]
        selfie_src = photos[k]
    if is_dl and plan.side == "back":
        portrait_src = None
    truth = DocTruth(
        first_name=person.first_name, last_name=person.last_name, birth_date=person.birth_date,
        id_number=doc_number, document_number=dl_discriminator if is_dl else doc_number,
        issuing_country="USA" if is_dl else state_code, nationality="USA" if is_dl else person.nationality,
        issue=issue, expiry=expiry, printed=printed, mrz_lines=mrz_lines, payload=payload, detail=detail,
        portrait_src=portrait_src, selfie_src=selfie_src)
    content = DocContent(
        family=family, side=plan.side, first_name=printed["first_name"], last_name=printed["last_name"],
        birth_date=printed["date_of_birth"], sex=person.sex, nationality=person.nationality,
        issuing_state="USA" if is_dl else state_code, state_name=us_name if is_dl else state_name,
        language=language, id_number=printed["id_number"], issue_date=issue, expiry_date=expiry,
        place_of_birth=place_of_birth, address=f"{person.street}, {person.city}, {us_code} {person.postal_code[:5]}",
        mrz_lines=mrz_lines, barcode_payload=payload,
        portrait=_read_rgb(portrait_src) if portrait_src is not None else None)
    return truth, content


def render_sample(plan: SamplePlan, seed: int, cfg: SynthConfig, out_dir: Path) -> dict[str, Any]:
    """Generate sample ``plan.index``, write its files under ``out_dir`` and return its manifest record."""
    rng = np.random.default_rng([seed, 11, plan.index])
    truth, content = _truth(plan, seed, cfg, rng)
    doc = render(content, rng, Path(cfg.fonts_dir))
    cap = capture(doc.image, rng, cfg.capture, attack_name(plan.negative))
    return _write_sample(plan, cfg, out_dir, rng, doc, cap, truth)


def _break_check_digit(rng: np.random.Generator, lines: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    if len(lines) == 2:
        spots = {"document_number": (1, 9), "birth_date": (1, 19), "expiry_date": (1, 27), "composite": (1, 43)}
    else:
        spots = {"document_number": (0, 14), "birth_date": (1, 6), "expiry_date": (1, 14), "composite": (1, 29)}
    name = str(rng.choice(sorted(spots)))
    li, pos = spots[name]
    old = lines[li][pos]
    new = str((int(old) + int(rng.integers(1, 10))) % 10)
    out = list(lines)
    out[li] = out[li][:pos] + new + out[li][pos + 1:]
    return tuple(out), name


def _png(img: np.ndarray, cfg: SynthConfig) -> bytes:
    return _encode(img, ".png", [cv2.IMWRITE_PNG_COMPRESSION, cfg.png_compression,
                                 cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB])


def _region(box: BoxT | None, hom: np.ndarray) -> dict[str, Any]:
    assert box is not None
    return {"quad_flat": _r(_quad(box)), "quad": _warp(_quad(box), hom)}


def _write_sample(plan: SamplePlan, cfg: SynthConfig, out_dir: Path, rng: np.random.Generator, doc: RenderedDoc,
                  cap: Captured, truth: DocTruth) -> dict[str, Any]:
    sid = f"{plan.index:06d}"
    hom = cap.homography
    h, w = doc.image.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    fields: dict[str, Any] = {}
    for name, ft in sorted(doc.fields.items()):
        x0, y0, x1, y1 = ft.box
        mask[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = FIELD_CLASS[Field(name)]
        entry: dict[str, Any] = {"text": ft.text, **_region(ft.box, hom)}
        if name == "date_of_birth":
            entry["iso"] = truth.printed["date_of_birth"].isoformat()
        fields[name] = entry
    words = [{"text": wb.text, "field": wb.field, **_region(wb.box, hom),
              "chars": [{"c": c.c, "quad_flat": _r(_quad(c.box))} for c in wb.chars]} for wb in doc.words]
    _write(out_dir / "flat" / f"{sid}.png", _png(doc.image, cfg))
    _write(out_dir / "masks" / f"{sid}.png", _png(mask, cfg))
    _write(out_dir / "images" / f"{sid}.jpg", _encode(cap.image, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, cap.jpeg_quality]))
    selfie = None
    if truth.selfie_src is not None:
        face = _read_rgb(truth.selfie_src).astype(np.float32)
        face = np.clip(face * rng.uniform(0.85, 1.15) + rng.uniform(-12, 12), 0, 255).astype(np.uint8)
        selfie = f"selfies/{sid}.jpg"
        _write(out_dir / selfie, _encode(face, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, cfg.selfie_jpeg_quality]))
    person = plan.person
    negatives = [plan.negative] if plan.negative else []
    corners = _quad((0.0, 0.0, float(w), float(h)))
    return {
        "schema": 1, "id": sid, "split": plan.split, "identity": person.identity,
        "face_person": person.face.person_id, "family": plan.family, "side": plan.side,
        "image": f"images/{sid}.jpg", "flat": f"flat/{sid}.png", "flat_size": [w, h],
        "image_size": [int(cap.image.shape[1]), int(cap.image.shape[0])], "orientation": cap.rotation,
        "document_quad": _warp(corners, hom), "homography": [[float(v) for v in row] for row in hom],
        "portrait_box_flat": [round(v, 2) for v in doc.portrait_box] if doc.portrait_box else None,
        "portrait_quad": _warp(_quad(doc.portrait_box), hom) if doc.portrait_box else None,
        "portrait_source": truth.portrait_src.name if truth.portrait_src else None,
        "selfie": selfie, "selfie_source": truth.selfie_src.name if truth.selfie_src else None,
        "words": words, "fields": fields,
        "identity_data": {
            "first_name": truth.first_name, "last_name": truth.last_name,
            "date_of_birth": truth.birth_date.isoformat(), "id_number": truth.id_number, "sex": person.sex,
            "nationality": truth.nationality, "issuing_country": truth.issuing_country,
            "expiry": truth.expiry.isoformat(), "issue": truth.issue.isoformat(),
            "document_number": truth.document_number,
        },
        "mrz": ({"format": "TD1" if len(truth.mrz_lines) == 3 else "TD3", "lines": list(truth.mrz_lines),
                 **_region(doc.mrz_box, hom)} if truth.mrz_lines is not None else None),
        "barcode": ({"format": "PDF417", "payload": truth.payload, **_region(doc.barcode_box, hom)}
                    if truth.payload is not None else None),
        "mask": f"masks/{sid}.png",
        "label": {"genuine": not negatives, "negatives": negatives, "detail": truth.detail},
        "capture": {"rotation": cap.rotation, "skew_deg": cap.skew_deg, "blur_sigma": cap.blur_sigma,
                    "noise_sigma": cap.noise_sigma, "glare": cap.glare, "jpeg_quality": cap.jpeg_quality,
                    "attack": attack_name(plan.negative)},
        "date_style": doc.date_style,
    }


def attack_name(negative: str | None) -> str | None:
    """The capture attack a negative implies (``screen_replay``/``print_attack``), else ``None``."""
    return negative if negative in ("screen_replay", "print_attack") else None
