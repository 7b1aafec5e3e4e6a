"""Typed reader for the generator's ``manifest.jsonl`` (schema in ``training/SYNTH_SCHEMA.md``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veid.errors import InputError
from veid.types import Box, Quad

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CharTruth:
    """One printed non-space character and its quad on the flat document."""

    c: str
    quad_flat: Quad


@dataclass(frozen=True)
class WordTruth:
    """One printed word: text, key field (or ``None``), quads on the flat document and in the photo."""

    text: str
    field: str | None
    quad_flat: Quad
    quad: Quad
    chars: tuple[CharTruth, ...]


@dataclass(frozen=True)
class FieldTruth:
    """A key field as printed (``iso`` is set for ``date_of_birth``)."""

    text: str
    quad_flat: Quad
    quad: Quad
    iso: str | None = None


@dataclass(frozen=True)
class IdentityData:
    """The true identity behind a sample (what the MRZ or barcode encodes)."""

    first_name: str
    last_name: str
    date_of_birth: str
    id_number: str
    sex: str
    nationality: str
    issuing_country: str
    expiry: str
    issue: str
    document_number: str


@dataclass(frozen=True)
class MrzTruth:
    """MRZ lines as printed (a ``wrong_check_digit`` negative prints a wrong digit) and their region."""

    format: str
    lines: tuple[str, ...]
    quad_flat: Quad
    quad: Quad


@dataclass(frozen=True)
class BarcodeTruth:
    """The PDF417 payload and its region."""

    format: str
    payload: str
    quad_flat: Quad
    quad: Quad


@dataclass(frozen=True)
class Capture:
    """The capture simulation parameters of a sample."""

    rotation: int
    skew_deg: float
    blur_sigma: float
    noise_sigma: float
    glare: bool
    jpeg_quality: int
    attack: str | None


@dataclass(frozen=True)
class Sample:
    """One manifest record. Paths are absolute (resolved against the manifest's folder)."""

    id: str
    split: str
    identity: str
    face_person: str
    family: str
    side: str
    image: Path
    flat: Path
    mask: Path
    selfie: Path | None
    flat_size: tuple[int, int]
    image_size: tuple[int, int]
    orientation: int
    document_quad: Quad
    homography: tuple[tuple[float, float, float], ...]
    portrait_box_flat: Box | None
    portrait_quad: Quad | None
    portrait_source: str | None
    selfie_source: str | None
    words: tuple[WordTruth, ...]
    fields: dict[str, FieldTruth]
    identity_data: IdentityData
    mrz: MrzTruth | None
    barcode: BarcodeTruth | None
    genuine: bool
    negatives: tuple[str, ...]
    negative_detail: dict[str, str]
    capture: Capture
    raw: dict[str, Any]


def _quad(v: Any) -> Quad:
    return Quad.from_array(v)


def parse_record(rec: dict[str, Any], root: Path) -> Sample:
    """Turn one decoded manifest line into a :class:`Sample` (paths resolved against ``root``)."""
    if rec.get("schema") != SCHEMA_VERSION:
        raise InputError(f"unsupported synth manifest schema {rec.get('schema')!r} (expected {SCHEMA_VERSION})")
    words = tuple(
        WordTruth(w["text"], w["field"], _quad(w["quad_flat"]), _quad(w["quad"]),
                  tuple(CharTruth(c["c"], _quad(c["quad_flat"])) for c in w["chars"]))
        for w in rec["words"]
    )
    fields = {k: FieldTruth(v["text"], _quad(v["quad_flat"]), _quad(v["quad"]), v.get("iso"))
              for k, v in rec["fields"].items()}
    mrz = rec.get("mrz")
    bar = rec.get("barcode")
    box = rec.get("portrait_box_flat")
    return Sample(
        id=rec["id"], split=rec["split"], identity=rec["identity"], face_person=rec["face_person"],
        family=rec["family"], side=rec["side"], image=root / rec["image"], flat=root / rec["flat"],
        mask=root / rec["mask"], selfie=root / rec["selfie"] if rec.get("selfie") else None,
        flat_size=tuple(rec["flat_size"]), image_size=tuple(rec["image_size"]),  # type: ignore[arg-type]
        orientation=rec["orientation"], document_quad=_quad(rec["document_quad"]),
        homography=tuple(tuple(r) for r in rec["homography"]),  # type: ignore[arg-type]
        portrait_box_flat=Box(*box) if box else None,
        portrait_quad=_quad(rec["portrait_quad"]) if rec.get("portrait_quad") else None,
        portrait_source=rec.get("portrait_source"), selfie_source=rec.get("selfie_source"),
        words=words, fields=fields, identity_data=IdentityData(**rec["identity_data"]),
        mrz=MrzTruth(mrz["format"], tuple(mrz["lines"]), _quad(mrz["quad_flat"]), _quad(mrz["quad"])) if mrz else None,
        barcode=(BarcodeTruth(bar["format"], bar["payload"], _quad(bar["quad_flat"]), _quad(bar["quad"]))
                 if bar else None),
        genuine=rec["label"]["genuine"], negatives=tuple(rec["label"]["negatives"]),
        negative_detail=dict(rec["label"].get("detail", {})),
        capture=Capture(**{k: rec["capture"].get(k) for k in Capture.__dataclass_fields__}),
        raw=rec,
    )


def read_manifest(path: Path | str) -> list[Sample]:
    """Read every sample of a ``manifest.jsonl`` (or of the folder holding one).

    Raises:
        InputError: the file is missing, a line is not JSON, or a record lacks a key.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read synth manifest {path}: {exc.strerror}") from exc
    samples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            samples.append(parse_record(json.loads(line), path.parent))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: bad manifest record ({exc})") from exc
    return samples
