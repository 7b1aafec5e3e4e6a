"""``verify_document``: photo -> upright -> warped -> MRZ, barcode, fields -> checks, as one plain function."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from models.registry import file_version
from pipelines.document.barcode import (
    Barcode,
    BarcodeConfig,
    BarcodeFormat,
    BarcodeReader,
    find_barcodes,
    symbol_angle,
)
from pipelines.document.birth_date import find_birth_date, find_printed_date
from pipelines.document.diacritics import restore
from pipelines.document.low_marks import LowMarkModel
from pipelines.document.marks import MarkConfig, MarkModel, MarkReader, resolve_model_path
from pipelines.document.fields import (FieldLayout, FieldLocator, FieldReader, FieldText, OcrConfig, TextConfig,
                                       most_confident)
from pipelines.document.id_number import find_id_number, printed_as_date
from pipelines.document.image_io import ImageLimits, decode_image
from pipelines.document.captions import CaptionConfig, CaptionModel, CaptionReader
from pipelines.document.labels import NAME_FIELDS, LabelConfig, NameLabels
from pipelines.document.mrz import MrzReading
from pipelines.document.mrz_reader import MrzReader, MrzReaderConfig
from pipelines.document.orientation import (
    FaceOrientation,
    Orientation,
    OrientationConfig,
    OrientationSource,
    rotate,
)
from pipelines.document.perspective import DocumentWarper, PerspectiveConfig, WarpedDocument
from pipelines.document.printed_names import find_printed_name, hyphenate, respace
from pipelines.document.resolve import FieldResult, resolve_fields
from pipelines.document.tesseract import Tesseract
from pipelines.document.title import TitleConfig, TitleReader
from pipelines.document.validation import (
    FieldValidator, ValidationConfig, barcode_values, cross_check, date_order_ambiguous, mrz_checks, mrz_evidence,
    mrz_expiry, mrz_form, mrz_values, normalize_id, normalize_name, parse_date, read_off_expiry, settle_cross_checks,
)
from veid.errors import InputError, StageError
from veid.types import Box, CheckResult, DocumentFamily, Field, ModelVersion

#: 2: printed names outrank MRZ names (resolve.py); 3: no guessed date order; 4: name fields set by their labels;
#: 5: the family from a "DRIVER LICENSE" title, ID numbers read with Tesseract's Latin-script model;
#: 6: diacritics of printed names re-read per letter (marks.py), a misread MRZ fails mrz.plausible;
#: 14: fields read on their text line scaled to 40 px; 15: an MRZ first row read a cell early shifted back;
#: 16: an invalid MRZ's birth date whose own check digit verifies outranks a printed date;
#: 17: a caption no Tesseract reading names is named by the caption classifier (captions.py);
#: 18: a name swap the labels half-revealed is completed (labels.complete_swaps);
#: 19: a mark a valid MRZ rules out is re-read against it (marks.MarkReader mrz_name);
#: 20: a PDF417 found nowhere else is looked for in the photo turned a few degrees (barcode.turned_pdf417)
#: 21: a cross-check is decided on the printed value finally reported (validation.settle_cross_checks);
#:     only against what the MRZ proves (validation.mrz_evidence: no names of an MRZ that fails a check digit);
#:     a birth date read off the expiry date's line is dropped (validation.read_off_expiry);
#:     MRZ given names spelt with filler look-alikes (KARL, GRACE) are no longer erased (mrz.clean_fillers)
#: 22: the chevron grid takes its letter height from the letters (chevrons.find_grid: a TD1 names row of
#:     mostly fillers had lost its surname), and a block-read O the cell read has once is dropped (OOMAR)
#: 23: a mark no reading saw is added where the classifier is sure some mark is there, in its likeliest
#:     shape (marks.MarkReader._sure_mark: an acute over I split with a double acute was left off)
#: 24: a field's reading under another preparation that the MRZ's proven or the barcode's value corroborates
#:     replaces a most confident one that disagrees (_corroborated: SMTH for SMITH)
#: 25: an MRZ's given names end at the first run of three fillers (icao._names: a speck on the padding
#:     read as a letter had become a given name, OMAR B)
#: 26: where the MRZ's birth date outranked a printed one that disagreed, the printed line reading as the
#:     MRZ's is looked for (birth_date.find_printed_date: the UNET had painted the issue date)
#: 27: outlines also built from straight lines (LSD) where no region outlines the card (perspective._replaces);
#:     a portrait MTCNN missed is looked for on the red channel before HOG (a red SPECIMEN stamp across it)
#: 28: an outline must be 10 face boxes or more, not 6 (the portrait's own frame is 6-8; real data pages >= 19)
#: 29: marks through or below letters (Ł, Ø, Ç, Ę) re-read on printed names by a second classifier
#:     (low_marks.py; MarkReader._low_letter): MAŁGORZATA read as MALGORZATA, ŁĘCKI as ŁECKI
#: 30: a printed name a valid MRZ contradicts is replaced by the line that reads as the MRZ's name, where one
#:     does (pipeline._printed_names): the nationality's PRT or the state's UTOPIA read as a given name; a mark
#:     both readings saw is kept, one only the crop's reading saw added at 0.5 (MarkConfig.read_probability)
#: 31: a TD2 reading coded P is a passport's TD3 (mrz_reader._passport_as_td2) and names the passport family; an
#:     MRZ no check digit of which verifies names none and gives no values (pipeline._family, _mrz_values)
#: 32: a printed name Tesseract read at 0.88 or more is not given up for an MRZ name of as many letters
#:     (resolve._doubtful_name, document_validation.sure_name_confidence): the MRZ's PLOTR for PIOTR
#: 33: where Tesseract misread the name crop (TURSE) and a valid MRZ confirms the value's letters, the marks are
#:     read with the value's own letters laid along the line (marks.MarkReader.__call__): TOMÁS, LEFÈVRE
PIPELINE_VERSION = "document-33"

#: params.yaml section of each stage's config.
SECTIONS = {
    "input": ("document_input", ImageLimits), "orientation": ("document_orientation", OrientationConfig),
    "perspective": ("document_perspective", PerspectiveConfig), "text": ("document_text", TextConfig),
    "labels": ("document_labels", LabelConfig), "captions": ("document_captions", CaptionConfig),
    "title": ("document_title", TitleConfig),
    "ocr": ("document_ocr", OcrConfig), "mrz": ("document_mrz", MrzReaderConfig),
    "barcode": ("document_barcode", BarcodeConfig), "validation": ("document_validation", ValidationConfig),
    "marks": ("document_marks", MarkConfig),
}


@dataclass(frozen=True)
class DocumentConfig:
    """Every stage's config, one ``params.yaml`` section each (see :data:`SECTIONS`)."""

    input: ImageLimits = ImageLimits()
    orientation: OrientationConfig = OrientationConfig()
    perspective: PerspectiveConfig = PerspectiveConfig()
    text: TextConfig = TextConfig()
    labels: LabelConfig = LabelConfig()
    captions: CaptionConfig = CaptionConfig()
    title: TitleConfig = TitleConfig()
    ocr: OcrConfig = OcrConfig()
    mrz: MrzReaderConfig = MrzReaderConfig()
    barcode: BarcodeConfig = BarcodeConfig()
    validation: ValidationConfig = ValidationConfig()
    marks: MarkConfig = MarkConfig()


def load_config(params: str | Path) -> DocumentConfig:
    """Read every document section of a params file (entry points only).

    Raises:
        ConfigError: a section is missing or mistyped.
    """
    from veid.config import load_section

    return DocumentConfig(**{k: load_section(params, sec, cls) for k, (sec, cls) in SECTIONS.items()})


@dataclass
class DocumentStages:
    """The stage objects, built once and reused across documents (models loaded, Tesseract configured)."""

    orientation: FaceOrientation
    warper: DocumentWarper
    mrz: MrzReader
    barcode: BarcodeReader
    locator: FieldLocator | None
    reader: FieldReader
    validator: FieldValidator
    versions: tuple[ModelVersion, ...] = ()
    #: runs the field models beside the MRZ reader (two workers: two documents may be read at once)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2, thread_name_prefix="veid-fields"),
                                     repr=False)
    labels: NameLabels | None = None  # re-assigns the name fields by their printed labels
    title: TitleReader | None = None  # the family from the printed title, when nothing else says it
    marks: MarkReader | None = None  # re-reads the diacritics of printed names letter by letter

    @classmethod
    def build(cls, cfg: DocumentConfig, models: object | None = None, *, face_detector: object | None = None,
              today: dt.date | None = None) -> "DocumentStages":
        """Build the stages; ``models`` is ``models.registry.DocumentModels`` or ``None`` (no field models:
        fields then come from the MRZ and the barcode only)."""
        locator, versions = None, ()
        if models is not None:
            from models.boxes import decode_word_boxes

            locator = FieldLocator(cfg.text, models.craft, models.unet, decode_word_boxes)
            versions = tuple(models.versions)
        labels = None
        if locator:
            captions = None
            if cfg.captions.enabled:
                path = resolve_model_path(cfg.captions.model)
                versions += (file_version("captions", path),)
                captions = CaptionReader(CaptionModel.load(path), cfg.captions)
            labels = NameLabels(cfg.labels, (cfg.text.extend_x, cfg.text.extend_y), captions)
        title = TitleReader(cfg.title) if locator and cfg.title.enabled else None
        marks = None
        if locator and cfg.marks.enabled:
            path = resolve_model_path(cfg.marks.model)
            versions += (file_version("marks", path),)  # checks the shipped file against its record first
            low = None
            if cfg.marks.low_enabled:
                low_path = resolve_model_path(cfg.marks.low_model)
                versions += (file_version("low_marks", low_path),)
                low = LowMarkModel.load(low_path)
            marks = MarkReader(cfg.marks, MarkModel.load(path), Tesseract(psm=7, lang=cfg.ocr.first_name.lang), low)
        return cls(FaceOrientation(cfg.orientation, face_detector), DocumentWarper(cfg.perspective),
                   MrzReader(cfg.mrz), BarcodeReader(cfg.barcode), locator, FieldReader(cfg.ocr),
                   FieldValidator(cfg.validation, today), versions, labels=labels, title=title, marks=marks)


@dataclass(frozen=True)
class DocumentResult:
    """Everything ``verify_document`` found out about one photo."""

    family: DocumentFamily | None
    fields: dict  # Field -> FieldResult
    checks: tuple[CheckResult, ...]
    mrz: MrzReading | None
    barcodes: tuple[Barcode, ...]
    orientation: Orientation
    warped: WarpedDocument | None
    portrait: np.ndarray | None = field(repr=False, compare=False, default=None)
    portrait_box: Box | None = None  # in the upright photo
    ocr: dict = field(default_factory=dict)  # Field -> FieldText (raw OCR)
    timings_ms: dict = field(default_factory=dict)
    models: tuple[ModelVersion, ...] = ()

    def to_json(self) -> dict:
        """JSON-ready summary (no images)."""
        return {
            "pipeline": PIPELINE_VERSION,
            "family": self.family.value if self.family else None,
            "fields": {f.value: {"value": r.value, "source": r.source, "confidence": round(r.confidence, 4),
                                 "box": r.box.to_list() if r.box else None} for f, r in self.fields.items()},
            "checks": [{"name": c.name, "passed": c.passed, "score": c.score, "reason": c.reason} for c in self.checks],
            "mrz": None if self.mrz is None else {
                "valid": self.mrz.valid, "layout": self.mrz.layout.value, "lines": list(self.mrz.lines),
                "corrections": self.mrz.corrections,
                "fields": {k: getattr(self.mrz.fields, k) for k in (
                    "document_code", "issuing_state", "document_number", "surname", "given_names", "nationality",
                    "birth_date", "sex", "expiry_date", "optional1", "optional2")},
                "check_digits": [{"name": c.name, "printed": c.printed, "computed": c.computed, "valid": c.valid}
                                 for c in self.mrz.fields.checks]},
            "barcode": [{"format": b.format.value, "text": b.text, "aamva": b.aamva() is not None} for b in self.barcodes],
            "orientation": {"angle": self.orientation.angle, "confidence": round(self.orientation.confidence, 4),
                            "face_found": self.orientation.face_found, "source": self.orientation.source.value},
            "document_quad": self.warped.quad.to_list() if self.warped else None,
            "portrait_box": self.portrait_box.to_list() if self.portrait_box else None,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "models": [{"name": m.name, "sha256": m.sha256} for m in self.models],
        }


def _junk(mrz: MrzReading) -> bool:
    """An MRZ no check digit of which verifies: lines of a licence front taken for one (``YSTISNJONUSAIWCG<<<``),
    or an MRZ too misread to trust. It names no family and gives no values; its failed check stays."""
    return mrz.n_valid_checks == 0


def _family(mrz: MrzReading | None, barcodes: tuple[Barcode, ...], is_card: bool | None) -> DocumentFamily | None:
    """The document family from its MRZ (a TD3 or a passport's document code ``P``: the passport family), an
    AAMVA barcode or a card without either (a licence front); ``None`` where the document's title must tell
    (``title.py``), as behind a :func:`_junk` MRZ."""
    if mrz is not None and not _junk(mrz):
        passport = mrz.layout.value == "TD3" or mrz.passport
        return DocumentFamily.PASSPORT_TD3 if passport else DocumentFamily.ID_CARD_TD1
    if any(b.aamva() is not None for b in barcodes):
        return DocumentFamily.DRIVER_LICENSE_AAMVA
    if mrz is not None:
        return None
    return DocumentFamily.DRIVER_LICENSE_AAMVA if is_card else None


def _mrz_values(mrz: MrzReading | None, today: dt.date | None) -> dict:
    """``{Field: value}`` the MRZ gives (``validation.mrz_values``); none from a :func:`_junk` one (its
    "surname" had been a licence's ``SOFROEMREOVOB``)."""
    return mrz_values(mrz, today) if mrz is not None and not _junk(mrz) else {}


def _warp(warper: DocumentWarper, upright: np.ndarray, *, required: bool,
          face: Box | None = None) -> WarpedDocument | None:
    """The flattened document (holding ``face``, the portrait's, when given); ``None`` when none is found and
    a barcode or MRZ may still judge the photo.

    Raises:
        InputError: no document in view and ``required`` (the photo shows a face).
    """
    try:
        return warper(upright, allow_whole_frame=True, face=face)
    except InputError:
        if required:
            raise
        return None


def _locate(locator: FieldLocator, labels: NameLabels | None,
            image: np.ndarray) -> tuple[FieldLayout | None, str | None, float]:
    """``(layout, error message, milliseconds)`` of the field models, then the name labels, on the warped document."""
    t0 = time.perf_counter()
    try:
        layout, error = locator(image), None
        if labels is not None:
            layout = labels(layout)
    except StageError as exc:
        layout, error = None, str(exc)
    return layout, error, (time.perf_counter() - t0) * 1e3


def _corroborated(ocr: dict, readings: dict, others: dict[str, dict], family: DocumentFamily | None,
                  cfg: ValidationConfig) -> dict:
    """The raw readings, where a field's most confident one disagrees with what the MRZ proves or the barcode
    holds (``others``: ``{"mrz": {Field: value}, "barcode": ...}``), replaced by the most confident reading of
    the same crop under another preparation that agrees with every such source. The printed field then says
    what the other source says and one preparation misread it (``SMTH`` for SMITH, a digit of a number): the
    cross-check is decided on the printed field, not on one misreading of it. A tampered field reads
    otherwise under every preparation."""
    out = dict(ocr)
    for f, texts in readings.items():
        theirs = {src: vals[f] for src, vals in others.items() if f in vals}
        if f not in ocr or not theirs:
            continue

        def agrees(text: FieldText) -> bool:
            mine = _normalize_ocr({f: text}, family)
            return bool(mine) and all(cross_check(mine, {f: v}, src, cfg, mrz_names=src == "mrz")[0].passed
                                      for src, v in theirs.items())

        if agrees(ocr[f]):
            continue
        alt = next((t for t in sorted(texts, key=lambda t: -t.confidence) if t is not ocr[f] and agrees(t)), None)
        if alt is not None:
            out[f] = alt
    return out


def _normalize_ocr(ocr: dict, family: DocumentFamily | None) -> dict:
    out = {}
    for f, ft in ocr.items():
        if f is Field.DATE_OF_BIRTH:
            d = parse_date(ft.text, us_order=family is DocumentFamily.DRIVER_LICENSE_AAMVA)
            if d is None and family is None:  # "10/19/1969" reads month-first only: no order is guessed
                d = parse_date(ft.text, us_order=True)
            if d is not None:
                out[f] = d.isoformat()
        elif f is Field.ID_NUMBER:
            out[f] = normalize_id(ft.text)
        else:
            out[f] = normalize_name(ft.text)
    return {k: v for k, v in out.items() if v}


def _printed_names(fields: dict, mrz_vals: dict, layout: FieldLayout, reader: FieldReader, ocr: dict,
                   disagree: set[str], cfg: DocumentConfig) -> dict:
    """Names the valid MRZ gave, replaced by their printed spelling where a text line reads as them, or given
    the hyphens their own misread printed line shows (``ocr``: the raw readings); printed names that are the
    MRZ's but for lost diacritics (``KOHLER`` for ``KOEHLER``), with those put back.

    A printed name the valid MRZ contradicts (``disagree``: the failed cross-checks' fields) is replaced by
    the printed line that reads as the MRZ name letter for letter, where one does: the field models had read
    the name off another line (the nationality's ``PRT``, the issuing state's ``UTOPIA``). Only an MRZ that
    gives both names is trusted so: a names row read with one name had lost the other, and what is left may
    sit in the wrong field (``EVA<<<`` for ``MOREAU<<EVA``). A tampered name stays: the name it replaced is
    printed nowhere else, as a tampered birth date is (``birth_date.py``)."""
    exclude = layout.word_indices(f for f in layout.fields if f not in NAME_FIELDS)
    both_names = all(mrz_vals.get(g) for g in NAME_FIELDS)

    def printed_line(f: Field) -> FieldText | None:
        return find_printed_name(f, mrz_vals[f], layout, reader, exclude, cfg.ocr.mrz_name_lines,
                                 (cfg.text.extend_x, cfg.text.extend_y))

    out = dict(fields)
    for f in NAME_FIELDS:
        r = fields.get(f)
        if r is None or f not in mrz_vals:
            continue
        if r.source == "ocr":
            found = printed_line(f) if f.value in disagree and both_names else None
            if found is not None and mrz_form(found.text) == mrz_vals[f]:
                out[f] = FieldResult(found.text, "ocr", found.confidence, found.box)
            elif mrz_form(r.value) != mrz_vals[f]:
                value = respace(r.value, mrz_vals[f]) or r.value
                value = restore(mrz_vals[f], value) or value
                if value != r.value:
                    out[f] = replace(r, value=value)
            continue
        if r.source != "mrz":
            continue
        found = printed_line(f)
        if found is not None:
            out[f] = FieldResult(found.text, "ocr", found.confidence, found.box)
        elif r.box is not None and f in ocr and (value := hyphenate(ocr[f].text, r.value)) is not None:
            out[f] = replace(r, value=value)
    return out


def _marks(fields: dict, mrz_vals: dict, page: np.ndarray, reader: MarkReader, mrz_valid: bool) -> dict:
    """Printed names with their diacritics re-read letter by letter (``pipelines.document.marks``), and MRZ
    names on the printed line they outranked. A name that agreed with the MRZ must still agree once its
    marks change (``Ö`` transliterates to ``OE``); with a valid MRZ (``mrz_valid``), one it contradicts only
    through a mark is re-read against it (``MarkReader``: ``LÖPEZ`` over ``LOPEZ``)."""
    out = dict(fields)
    for f in NAME_FIELDS:
        r = fields.get(f)
        if r is None or r.source not in ("ocr", "mrz") or r.box is None:
            continue  # an MRZ name with a box: the printed line it outranked (``resolve_fields``)
        h, w = page.shape[:2]
        tight = r.box.clip(w, h)
        # field boxes can cut through the marks on capitals: the marks are looked for in a taller crop
        tall = Box(tight.x0, tight.y0 - 0.3 * r.box.height, tight.x1, tight.y1).clip(w, h)
        crop, read_crop = (page[int(b.y0):int(np.ceil(b.y1)), int(b.x0):int(np.ceil(b.x1))] for b in (tall, tight))
        mrz_name = mrz_vals.get(f) if mrz_valid else None
        value = reader(crop, r.value, read_crop, mrz_name) if crop.size and read_crop.size else None
        if value is None:
            continue
        if f in mrz_vals and mrz_form(r.value) == mrz_vals[f] and mrz_form(value) != mrz_vals[f]:
            continue
        out[f] = replace(r, value=value)
    return out


def _birth_date(fields: dict, layout: FieldLayout, reader: FieldReader, family: DocumentFamily | None,
                today: dt.date, cfg: DocumentConfig) -> dict:
    """The fields with a birth date nothing else gave, when exactly one printed date is old enough."""
    found = find_birth_date(layout, reader, _held_words(layout, fields), family, today,
                            min_age_years=cfg.ocr.min_holder_age, max_age_years=cfg.validation.max_age_years,
                            max_lines=cfg.ocr.birth_date_lines, extend=(cfg.text.extend_x, cfg.text.extend_y))
    if found is None:
        return fields
    born, text = found
    return {**fields, Field.DATE_OF_BIRTH: FieldResult(born.isoformat(), "ocr", text.confidence, text.box)}


def _printed_birth_date(fields: dict, dob: FieldResult, layout: FieldLayout, reader: FieldReader,
                        family: DocumentFamily | None, cfg: DocumentConfig) -> dict:
    """The fields with the MRZ's birth date, which outranked a printed reading that disagreed, taken from the
    printed line that reads as it where there is one (``birth_date.find_printed_date``)."""
    found = find_printed_date(layout, reader, _held_words(layout, fields), family, dt.date.fromisoformat(dob.value),
                              max_lines=cfg.ocr.birth_date_lines, extend=(cfg.text.extend_x, cfg.text.extend_y))
    if found is None:
        return fields
    return {**fields, Field.DATE_OF_BIRTH: FieldResult(dob.value, "ocr", found.confidence, found.box)}


def _held_words(layout: FieldLayout, fields: dict) -> set[int]:
    """Words of the field lines whose reading was kept: a line the UNET took for a field whose reading
    failed (a DLN painted as the birth date) is free for the searches."""
    return layout.word_indices(f for f in layout.fields if f in fields and fields[f].source == "ocr")


def _id_number(fields: dict, layout: FieldLayout, page: np.ndarray, reader: FieldReader,
               family: DocumentFamily | None, verified: bool, cfg: DocumentConfig) -> dict:
    """The fields with an ID number nothing else gave, when exactly one printed value is shaped like one.
    An unverified (``verified``: by the MRZ or barcode) printed ID number that reads as a date is dropped
    first: the UNET painted the issue date."""
    idn = fields.get(Field.ID_NUMBER)
    if (idn is not None and idn.source == "ocr" and idn.box is not None and not verified
            and printed_as_date(reader, page, idn.box)):
        fields = {f: r for f, r in fields.items() if f is not Field.ID_NUMBER}
    if Field.ID_NUMBER in fields:
        return fields
    found = find_id_number(layout, reader, _held_words(layout, fields), family,
                           max_lines=cfg.ocr.id_number_lines, extend=(cfg.text.extend_x, cfg.text.extend_y))
    if found is None:
        return fields
    return {**fields, Field.ID_NUMBER: FieldResult(found.text, "ocr", found.confidence, found.box)}


def _face_box(rgb: np.ndarray, orient: Orientation, work_side: int) -> Box:
    """The face orientation found, in pixels of the upright photo (full resolution)."""
    hit = next(h for h in orient.hits if h.angle == orient.angle)
    s = 1.0 / min(1.0, work_side / max(rgb.shape[:2]))  # work image -> photo
    return Box(*(v * s for v in hit.box))


def _portrait(upright: np.ndarray, face: Box) -> tuple[np.ndarray, Box]:
    """The portrait of the upright photo around the face, padded by 30 %."""
    pad = 0.3 * face.width
    pbox = face.expand(pad, pad).clip(upright.shape[1], upright.shape[0])
    return upright[int(pbox.y0):int(pbox.y1), int(pbox.x0):int(pbox.x1)].copy(), pbox


def verify_document(image: np.ndarray | bytes | str | Path, cfg: DocumentConfig, stages: DocumentStages,
                    *, today: dt.date | None = None,
                    on_portrait: Callable[[np.ndarray], None] | None = None) -> DocumentResult:
    """Read and check one identity-document photo.

    Args:
        image: ``HxWx3`` uint8 RGB array, or encoded bytes / a file path (decoded with the input limits).
        cfg: the pipeline configuration.
        stages: stages built by :meth:`DocumentStages.build` (models loaded once, reused).
        today: reference date for expiry and age checks (default: today).
        on_portrait: called with the portrait (``HxWx3`` uint8 RGB, upright) as soon as orientation has found
            it, before the text stages run, so that a caller can compare faces meanwhile; not called when the
            photo shows no face.

    Raises:
        InputError: not an image, too large or small, no face and no barcode, or no document in view.
    """
    t = {}
    t0 = time.perf_counter()
    rgb = image if isinstance(image, np.ndarray) else decode_image(image, cfg.input)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"expected an HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
    if min(rgb.shape[:2]) < cfg.input.min_side:
        raise InputError(f"image is {rgb.shape[1]}x{rgb.shape[0]} pixels; at least {cfg.input.min_side} per side needed")
    t["decode"] = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    orient = stages.orientation(rgb)
    t["orientation"] = (time.perf_counter() - t0) * 1e3
    barcodes: tuple[Barcode, ...] = ()
    upright = rotate(rgb, orient.angle)
    portrait, pbox, face = None, None, None
    if orient.face_found:
        face = _face_box(rgb, orient, stages.orientation.cfg.work_side)
        portrait, pbox = _portrait(upright, face)
        if on_portrait is not None:
            on_portrait(portrait)
    t0 = time.perf_counter()
    warped = _warp(stages.warper, upright, required=orient.face_found, face=face)
    t["perspective"] = (time.perf_counter() - t0) * 1e3
    mrz_first = None
    if not orient.face_found:  # licence backs have no portrait: a barcode must then be in view
        t0 = time.perf_counter()
        barcodes = find_barcodes(stages.barcode, rgb, warped)
        t["barcode"] = (time.perf_counter() - t0) * 1e3
        pdf417 = next((b for b in barcodes if b.format is BarcodeFormat.PDF417 and b.quad is not None), None)
        if pdf417 is not None:  # a licence back: the symbol's own rotation is the document's
            orient = Orientation(symbol_angle(pdf417.quad), 0.0, False, (), OrientationSource.BARCODE)
    if not orient.face_found and not barcodes:  # a portrait MTCNN missed: HOG may still see it
        t0 = time.perf_counter()
        orient = stages.orientation.fallback(rgb)
        t["orientation"] += (time.perf_counter() - t0) * 1e3
        if orient.face_found:
            upright = rotate(rgb, orient.angle)
            face = _face_box(rgb, orient, stages.orientation.cfg.work_side)
            portrait, pbox = _portrait(upright, face)
            if on_portrait is not None:
                on_portrait(portrait)
            t0 = time.perf_counter()
            warped = _warp(stages.warper, upright, required=True, face=face)
            t["perspective"] += (time.perf_counter() - t0) * 1e3
    if not orient.face_found and not barcodes:  # no portrait at all: an MRZ (any rotation) still shows a document
        t0 = time.perf_counter()
        mrz_first = stages.mrz(rgb)
        t["mrz"] = (time.perf_counter() - t0) * 1e3
        if mrz_first is None or mrz_first.reading.n_valid_checks < 2:
            raise InputError("no face found in any orientation and neither a barcode nor an MRZ in view: "
                             "not an identity document")
        angle = (360 - mrz_first.rotation) % 360  # the reader turned the photo clockwise by `rotation`
        orient = Orientation(angle, 0.0, False, (), OrientationSource.MRZ)
        upright = rotate(rgb, angle)
        warped = _warp(stages.warper, upright, required=False)

    # CRAFT + UNET need only the warped document: they run in another thread while Tesseract reads the MRZ
    layout_job = None
    if stages.locator is not None and (orient.face_found or mrz_first is not None) and warped is not None:
        layout_job = stages.pool.submit(_locate, stages.locator, stages.labels, warped.image)

    t0 = time.perf_counter()
    det = stages.mrz(warped.image) if orient.face_found and warped is not None else mrz_first
    if orient.face_found and (det is None or not det.reading.valid) and warped is not None and not warped.whole_frame:
        det2 = stages.mrz(upright)  # the warp may have clipped the zone
        if det2 is not None and (det is None or det2.reading.n_valid_checks > det.reading.n_valid_checks):
            det = det2
    mrz = det.reading if det is not None else None
    t["mrz"] = t.get("mrz", 0.0) + (time.perf_counter() - t0) * 1e3

    if orient.face_found and mrz is None and warped is not None:
        t0 = time.perf_counter()
        barcodes = tuple(stages.barcode(warped.image))
        t["barcode"] = (time.perf_counter() - t0) * 1e3
    family = _family(mrz, barcodes, warped.is_card if warped is not None else None)

    ocr: dict = {}
    readings: dict = {}  # Field -> every preparation's reading of its crop
    layout: FieldLayout | None = None
    page = None
    model_checks: list[CheckResult] = []
    if layout_job is not None:
        layout, error, t["text_detection"] = layout_job.result()
        if error is not None:  # the MRZ and barcode still allow a judgement: say so, go on without OCR
            model_checks.append(CheckResult("document.field_models", False, 0.0, error))
        if layout is not None:
            page = layout.image if layout.image is not None else warped.image
            if family is None and stages.title is not None:
                t0 = time.perf_counter()
                family = stages.title(page, layout)
                t["title"] = (time.perf_counter() - t0) * 1e3
            t0 = time.perf_counter()
            readings = stages.reader.all_readings(page, layout)
            ocr = most_confident(readings)
            t["ocr"] = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    mrz_vals = _mrz_values(mrz, today)
    aamva = next((a for b in barcodes if (a := b.aamva()) is not None), None)
    bar_vals = barcode_values(aamva) if aamva is not None else {}
    mrz_proven = mrz_evidence(mrz, mrz_vals) if mrz is not None else {}
    others = {"mrz": mrz_proven, "barcode": bar_vals}  # what the printed fields are held to
    ocr = _corroborated(ocr, readings, others, family, cfg.validation)
    ocr_values = _normalize_ocr(ocr, family)
    checks: list[CheckResult] = list(model_checks)
    if family is None and Field.DATE_OF_BIRTH in ocr_values and date_order_ambiguous(ocr[Field.DATE_OF_BIRTH].text):
        # US licences print month first, everything else day first: without the family, do not guess
        del ocr_values[Field.DATE_OF_BIRTH]
        checks.append(CheckResult("document.date_order", False, 0.0,
                                  "the printed date of birth reads day-first and month-first, "
                                  "and the document type is unknown"))
    # an OCR value that fails its own format/plausibility check is a misread, not evidence: drop it
    for f in list(ocr_values):
        if not all(c.passed for c in stages.validator({f: ocr_values[f]}, family)):
            del ocr_values[f]
    expiries = [mrz_expiry(mrz, today) if mrz is not None else None, aamva.expiry_date if aamva is not None else None]
    if Field.DATE_OF_BIRTH in ocr_values and any(read_off_expiry(ocr_values[Field.DATE_OF_BIRTH], e) for e in expiries):
        del ocr_values[Field.DATE_OF_BIRTH]  # the expiry date's line: no reading of the birth date (validation.py)
    if mrz is not None:
        checks += mrz_checks(mrz, today)
        checks += cross_check(ocr_values, mrz_proven, "mrz", cfg.validation, mrz_names=True)
    if aamva is not None:
        checks += cross_check(ocr_values, bar_vals, "barcode", cfg.validation, mrz_names=False)
        if aamva.expiry_date is not None:
            ok = aamva.expiry_date >= (today or dt.date.today())
            checks.append(CheckResult("document.not_expired", ok, 1.0 if ok else 0.0,
                                      "expiry date not passed" if ok else "document expired"))
    disagree = {c.name.split(".", 1)[1] for c in checks if not c.passed and c.name.split(".")[0] in ("mrz", "barcode")}
    fields = resolve_fields(ocr, ocr_values, mrz, mrz_vals, bar_vals, disagree,
                            min_name_confidence=cfg.validation.min_name_confidence,
                            sure_name_confidence=cfg.validation.sure_name_confidence,
                            name_similarity=cfg.validation.name_similarity)
    t["validation"] = (time.perf_counter() - t0) * 1e3
    if layout is not None and mrz is not None and mrz.valid and cfg.ocr.mrz_name_lines > 0:
        t0 = time.perf_counter()
        fields = _printed_names(fields, mrz_vals, layout, stages.reader, ocr, disagree, cfg)
        t["printed_names"] = (time.perf_counter() - t0) * 1e3
    if page is not None and stages.marks is not None:
        t0 = time.perf_counter()
        fields = _marks(fields, mrz_vals, page, stages.marks, mrz is not None and mrz.valid)
        t["marks"] = (time.perf_counter() - t0) * 1e3
    if layout is not None and Field.DATE_OF_BIRTH not in fields and cfg.ocr.birth_date_lines > 0:
        t0 = time.perf_counter()
        fields = _birth_date(fields, layout, stages.reader, family, today or dt.date.today(), cfg)
        t["birth_date"] = (time.perf_counter() - t0) * 1e3
    dob = fields.get(Field.DATE_OF_BIRTH)
    if layout is not None and dob is not None and dob.source == "mrz" and cfg.ocr.birth_date_lines > 0 and any(
            c.name == "mrz.date_of_birth" and not c.passed for c in checks):
        t0 = time.perf_counter()
        fields = _printed_birth_date(fields, dob, layout, stages.reader, family, cfg)
        t["birth_date"] = t.get("birth_date", 0.0) + (time.perf_counter() - t0) * 1e3
    verified_id = Field.ID_NUMBER in mrz_vals or Field.ID_NUMBER in bar_vals
    if layout is not None and page is not None and cfg.ocr.id_number_lines > 0 and not (
            verified_id and Field.ID_NUMBER in fields):
        t0 = time.perf_counter()
        fields = _id_number(fields, layout, page, stages.reader, family, verified_id, cfg)
        t["id_number"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    printed = {f: r.value for f, r in fields.items() if r.source == "ocr"}
    checks = settle_cross_checks(checks, printed, others, cfg.validation)
    checks += stages.validator({f: r.value for f, r in fields.items()}, family)
    if not fields:
        checks.append(CheckResult("document.fields_read", False, 0.0, "no key field could be read"))
    t["validation"] += (time.perf_counter() - t0) * 1e3

    return DocumentResult(family, fields, tuple(checks), mrz, barcodes, orient, warped, portrait, pbox, ocr, t,
                          stages.versions)
