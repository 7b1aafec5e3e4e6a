"""Adapter from the full document pipeline (``pipelines.document.pipeline.verify_document``) to the scorer's DocumentEvidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipelines.scoring.evidence import DocumentEvidence
from serving.document_stage import DocumentStageResult
from veid.errors import InputError, ModelError
from veid.logs import get_logger
from veid.types import CheckResult, ModelVersion

_LOG = get_logger("veid.serving.document")


class FullDocumentStage:
    """Orientation, perspective, MRZ, barcode, field models (when shipped) and cross-checks, built once.

    Evidence mapping: field confidences as read; ``mrz_visual_agreement`` is the mean score of
    the printed-vs-MRZ checks; ``barcode_agreement`` whether every printed-vs-barcode check
    passed; ``tamper_score`` the share of printed-vs-MRZ/barcode checks that failed;
    ``expired`` from the expiry checks; ``portrait_found`` whether a face was found on the document.

    Args:
        module: ``pipelines.document.pipeline``.
        params: params.yaml with the ``document_*`` sections.
        face_detector: an MTCNN instance to share with the face stage (None: the pipeline loads its own).
    """

    source = "full"

    def __init__(self, module, params: str | Path, face_detector=None) -> None:
        self._verify = module.verify_document
        self.cfg = module.load_config(params)
        models = None
        try:
            from models.registry import load_document_models

            models = load_document_models()
        except ModelError as exc:
            _LOG.warning("document field models unavailable, fields come from the MRZ/barcode only: %s", exc)
        self.stages = module.DocumentStages.build(self.cfg, models, face_detector=face_detector)
        self.models = tuple(self.stages.versions) + (ModelVersion("tesseract", "", {"engine": "tesseract"}),)

    def warm_up(self) -> None:
        """Trace the compiled graphs now rather than in the first request: MTCNN over a photo-sized
        frame in both orientations, CRAFT + UNET on the padded canvas (a blank page: nothing is found)."""
        for shape in ((960, 1280, 3), (1280, 960, 3)):
            self.stages.orientation(np.full(shape, 255, np.uint8))
        if self.stages.locator is not None:
            self.stages.locator(np.full((540, 860, 3), 255, np.uint8))

    def __call__(self, rgb: np.ndarray, now_s: float,
                 on_portrait: Callable[[np.ndarray], None] | None = None) -> DocumentStageResult:
        today = dt.datetime.fromtimestamp(now_s, tz=dt.timezone.utc).date()
        try:
            result = self._verify(rgb, self.cfg, self.stages, today=today, on_portrait=on_portrait)
        except InputError as exc:
            check = CheckResult("document.readable", False, 0.0, str(exc))
            return DocumentStageResult(None, (check,), (), self.models, self.source)
        checks = tuple(c if c.name.startswith("document.") else CheckResult("document." + c.name, c.passed, c.score, c.reason)
                       for c in result.checks)
        # the MRZ's own checks (digits, plausibility) are not comparisons with the printed fields
        mrz_cross = [c for c in result.checks if c.name.startswith("mrz.")
                     and c.name not in ("mrz.check_digits", "mrz.plausible")]
        bar_cross = [c for c in result.checks if c.name.startswith("barcode.")]
        cross = mrz_cross + bar_cross
        evidence = DocumentEvidence(
            family=result.family.value if result.family is not None else "id_card_td1",
            field_confidence={f.value: float(r.confidence) for f, r in result.fields.items()},
            mrz_present=result.mrz is not None,
            mrz_check_digits_ok=result.mrz.valid if result.mrz is not None else None,
            mrz_visual_agreement=float(np.mean([c.score for c in mrz_cross])) if mrz_cross else None,
            barcode_agreement=all(c.passed for c in bar_cross) if bar_cross else None,
            expired=any(c.name == "document.not_expired" and not c.passed for c in result.checks),
            tamper_score=float(sum(not c.passed for c in cross) / len(cross)) if cross else 0.0,
            portrait_found=bool(result.orientation.face_found),
        )
        fields = tuple((f.value, r.value) for f, r in sorted(result.fields.items(), key=lambda kv: kv[0].value))
        return DocumentStageResult(evidence, checks, fields, tuple(result.models) or self.models, self.source)
