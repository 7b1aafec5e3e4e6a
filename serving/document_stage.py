"""Document photo -> DocumentEvidence, checks and read fields, through whichever document pipeline is installed.

The full pipeline (``pipelines.document.pipeline``: orientation, perspective, CRAFT + field U-Net
+ OCR, MRZ/barcode cross-checks; adapter in :mod:`serving.document_full`) is used when it is
installed; otherwise :class:`MrzDocumentStage` reads the machine-readable zone only (Tesseract, check digits), which covers TD1 cards and
TD3 passports but not driver licences, and reports no per-field OCR confidence beyond the
check-digit-verified fields.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Protocol

import numpy as np

from pipelines.scoring.evidence import DocumentEvidence
from veid.types import CheckResult, ModelVersion


@dataclass(frozen=True)
class DocumentStageResult:
    """What the document stage found.

    Attributes:
        evidence: the scorer's document evidence; ``None`` when no document could be read at all.
        checks: document checks (``document.*``).
        fields: ``(name, value)`` of fields read (personal data: never logged, never put in an attestation).
        models: versions of the models used.
        source: which implementation ran (``full`` or ``mrz_only``).
    """

    evidence: DocumentEvidence | None
    checks: tuple[CheckResult, ...]
    fields: tuple[tuple[str, str], ...]
    models: tuple[ModelVersion, ...]
    source: str


class DocumentStage(Protocol):
    """``stage(rgb, now_s, on_portrait=None) -> DocumentStageResult``.

    ``on_portrait``, when given, is called with the document's upright portrait (``HxWx3`` uint8 RGB, full
    resolution) as soon as the stage has cut it out; stages that find no portrait never call it.
    """

    source: str

    def __call__(self, rgb: np.ndarray, now_s: float,
                 on_portrait: Callable[[np.ndarray], None] | None = None) -> DocumentStageResult: ...


def _yymmdd(text: str, future: bool, now: date) -> date | None:
    """An MRZ date; birth dates resolve to the past century when needed, expiry dates to 20xx."""
    try:
        yy, mm, dd = int(text[0:2]), int(text[2:4]), int(text[4:6])
        year = 2000 + yy
        if not future and year > now.year:
            year -= 100
        return date(year, mm, dd)
    except (ValueError, IndexError):
        return None


class MrzDocumentStage:
    """Reads the MRZ (TD1/TD2/TD3) of a document photo: family, check digits, expiry, MRZ fields.

    Args:
        reader: an ``MrzReader`` (Tesseract processes); built with defaults when omitted.
    """

    source = "mrz_only"

    def __init__(self, reader=None) -> None:
        from pipelines.document.mrz_reader import MrzReader

        self.reader = reader or MrzReader()
        self.models = (ModelVersion("tesseract-mrz", "", {"engine": "tesseract"}),)

    def __call__(self, rgb: np.ndarray, now_s: float,
                 on_portrait: Callable[[np.ndarray], None] | None = None) -> DocumentStageResult:
        detection = self.reader(rgb)  # no portrait search here: on_portrait is never called
        if detection is None:
            check = CheckResult("document.mrz_found", False, 0.0, "no machine-readable zone found on the document")
            return DocumentStageResult(None, (check,), (), self.models, self.source)
        reading = detection.reading
        f = reading.fields
        today = datetime.fromtimestamp(now_s, tz=timezone.utc).date()
        expiry = _yymmdd(f.expiry_date, True, today)
        birth = _yymmdd(f.birth_date, False, today)
        expired = expiry is not None and expiry < today
        ok = {c.name: c.valid for c in f.checks}
        checks = (
            CheckResult("document.mrz_found", True, 1.0, ""),
            CheckResult("document.mrz_check_digits", reading.valid, reading.n_valid_checks / max(len(f.checks), 1),
                        "" if reading.valid else "an MRZ check digit does not verify"),
            CheckResult("document.not_expired", not expired, 0.0 if expired else 1.0,
                        "the document has expired" if expired else ""),
        )
        family = {"TD1": "id_card_td1", "TD3": "passport_td3"}.get(str(getattr(reading.layout, "value", "")), "id_card_td1")
        confidence = {"id_number": float(ok.get("document_number", False)),
                      "date_of_birth": float(ok.get("birth_date", False))}
        evidence = DocumentEvidence(
            family=family, field_confidence=confidence, mrz_present=True, mrz_check_digits_ok=reading.valid,
            mrz_visual_agreement=None, barcode_agreement=None, expired=expired, tamper_score=0.0, portrait_found=True,
        )
        fields = (("id_number", f.document_number), ("first_name", f.given_names), ("last_name", f.surname),
                  ("date_of_birth", birth.isoformat() if birth else f.birth_date))
        return DocumentStageResult(evidence, checks, fields, self.models, self.source)


def load_document_stage(params: str | Path, face_detector=None) -> DocumentStage:
    """The full document pipeline when ``pipelines.document.pipeline`` provides ``verify_document``, else MRZ only.

    Args:
        params: params.yaml with the ``document_*`` sections.
        face_detector: MTCNN instance shared with the face stage.
    """
    for module_name in ("pipelines.document.pipeline", "pipelines.document.verify"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        if hasattr(module, "verify_document"):
            from serving.document_full import FullDocumentStage

            return FullDocumentStage(module, params, face_detector)
    return MrzDocumentStage()
