"""Field reading on the warped document: CRAFT boxes, UNET masks, box matching, extension, per-field OCR."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from models.field_words import line_groups, match_field_words, whole_lines, word_coverage
from pipelines.document.ink import stretch_contrast, text_rows
from pipelines.document.orientation import rotate
from pipelines.document.tesseract import Tesseract
from veid.errors import ConfigError, StageError
from veid.types import FIELD_CLASS, Box, Field, Quad


@dataclass(frozen=True)
class TextConfig:
    """CRAFT/UNET stage tunables (``params.yaml`` section ``document_text``).

    Attributes:
        mask_threshold: UNET probability above which a map pixel belongs to a field.
        min_coverage: least fraction of a CRAFT box covered by a field's mask for the box to join the field.
        level_threshold_deg: line angle above which the crop is levelled and CRAFT runs again.
        extend_x: box extension left and right, as a fraction of the box height.
        extend_y: box extension up and down, as a fraction of the box height.
        canvas_aspect: width / height the document is padded to before the models (0: no padding); the
            passport-page aspect, so ID-1 cards are padded below and both reach the models at one shape.
        name_line_gap: a name field also takes the words no other field holds that follow on its line at most
            this many line heights apart, not just those its mask covers (the mask often paints the first of
            several given names only); 0: off.
    """

    mask_threshold: float = 0.5
    min_coverage: float = 0.3
    level_threshold_deg: float = 2.0
    extend_x: float = 0.35
    extend_y: float = 0.2
    canvas_aspect: float = 1.42
    name_line_gap: float = 0.7


@dataclass(frozen=True)
class FieldOcrConfig:
    """Tesseract setup of one field: page segmentation mode, character whitelist and traineddata.

    ``lang`` ``Latin`` is Tesseract's Latin-script model (Debian ``tesseract-ocr-script-latn``): it
    reads the diacritics of European names (Ä, Ł, Ć, Å ...) that ``eng`` drops or misreads.
    """

    psm: int = 7
    whitelist: str = ""
    lang: str = "eng"


@dataclass(frozen=True)
class Preprocess:
    """One way of preparing a crop for Tesseract: scaled to ``target_height`` pixels, denoised, binarized.

    Attributes:
        target_height: height, pixels, the crop (text and its margins) is scaled to.
        denoise: ``none``, ``median`` or ``nlmeans`` filtering before binarization.
        binarize: ``none`` (grey), ``otsu`` or ``adaptive``.
        adaptive_block: neighbourhood, pixels (odd), of adaptive thresholding.
        adaptive_c: constant subtracted from the adaptive mean.
        text_height: > 0: the crop is contrast-stretched, cut to its text line (the longest run of rows
            with ink, :func:`pipelines.document.ink.text_rows`) with ``line_margin`` of the line's height
            above and below, and scaled so the line is this many pixels high (``target_height`` unused).
            Field boxes are extended by a margin and hold the text at 35-60 % of their height, so
            scaling the whole box leaves the letters' size to chance; Tesseract reads best at a known
            letter size. A crop with no ink row is scaled whole to ``target_height``.
        line_margin: share of the text line's height kept above and below it (``text_height`` > 0).
    """

    target_height: int = 64
    denoise: str = "none"
    binarize: str = "adaptive"
    adaptive_block: int = 51
    adaptive_c: int = 12
    text_height: int = 0
    line_margin: float = 0.35


#: The field readings: Tesseract reads each crop under each, and the reading it is most confident
#: about is kept. On the 657 field crops of the sample's train and val documents, the best single
#: preparation read 358 exactly, the first three chosen together 385. Replacing two of those by
#: larger scales (128 px grey, 96 px adaptive), where accents and a leading letter stay legible, read
#: 224 instead of 219 of 311 name crops, 161 instead of 156 of 172 ID numbers, 112 instead of 109 of
#: 174 birth dates. Reading the text line cut out and scaled to 40 px (contrast-stretched, grey) instead of
#: the whole box at 52 px (adaptive): 614 instead of 555 of the 731 crops of those documents when alone,
#: 638 instead of 620 with the other two (the pipeline's own field boxes, 2026-12-06).
DEFAULT_READINGS = (Preprocess(denoise="none", binarize="none", text_height=40), Preprocess(128, "none", "none"),
                    Preprocess(96, "none", "adaptive", 71))


@dataclass(frozen=True)
class OcrConfig:
    """OCR preprocessing and per-field engines (``params.yaml`` section ``document_ocr``).

    Attributes:
        readings: preparations each crop is read under (see :class:`Preprocess`); the non-empty text
            Tesseract is most confident about wins.
        workers: Tesseract calls run at once (threads; each keeps its own loaded engines).
        mrz_name_lines: most text lines read to find the printed spelling of a name the MRZ gave
            (``pipelines.document.printed_names``; 0: off).
        birth_date_lines: most text lines read to find a birth date no field model, MRZ or barcode gave
            (``pipelines.document.birth_date``; 0: off).
        min_holder_age: youngest age, years, a holder's birth date is taken to show (the issue and expiry
            dates of a document are younger).
        id_number_lines: most text lines read to find an ID number no field model, MRZ or barcode gave
            (``pipelines.document.id_number``; 0: off).
        id_number, first_name, last_name, date_of_birth: Tesseract setup per field.
    """

    readings: tuple[Preprocess, ...] = DEFAULT_READINGS
    workers: int = 2
    mrz_name_lines: int = 14
    birth_date_lines: int = 12
    min_holder_age: int = 16
    id_number_lines: int = 12
    #: the Latin-script model reads the leading letter of "D62793288" that ``eng`` drops or reads as 1 or 7
    #: (172 ID crops of the sample's train and val documents: 156 read exactly against 133)
    id_number: FieldOcrConfig = FieldOcrConfig(7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "Latin")
    first_name: FieldOcrConfig = FieldOcrConfig(7, "", "Latin")
    last_name: FieldOcrConfig = FieldOcrConfig(7, "", "Latin")
    date_of_birth: FieldOcrConfig = FieldOcrConfig(7, "0123456789./-ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    def __post_init__(self) -> None:
        if not self.readings:
            raise ConfigError("document_ocr.readings: at least one reading is needed")


@dataclass(frozen=True)
class TextBox:
    """A CRAFT word box on the warped document, with its centre as a fraction of the image size."""

    quad: Quad
    centre_ratio: tuple[float, float]  # (x / width, y / height), 0..1


@dataclass(frozen=True)
class FieldBox:
    """Where one field was found: its merged, extended box and the CRAFT boxes it came from."""

    field: Field
    box: Box
    parts: tuple[TextBox, ...]
    mask_score: float  # mean UNET probability of the field over its box, 0..1


@dataclass(frozen=True)
class FieldLayout:
    """Output of the text stages: word boxes, field boxes, the levelling angle applied (degrees)."""

    words: tuple[TextBox, ...]
    fields: dict = field(hash=False)  # Field -> FieldBox
    level_angle: float = 0.0
    image: np.ndarray | None = field(default=None, compare=False, repr=False)  # the (levelled) crop
    #: ``(n_words, n_fields)`` share of each word inside each field's mask (``models.field_words.word_coverage``)
    coverage: np.ndarray | None = field(default=None, compare=False, repr=False)
    size: tuple[int, int] = (0, 0)  # (height, width) of the document the boxes are clipped to

    def word_indices(self, fields: Iterable[Field]) -> set[int]:
        """Indices into ``words`` of the words the given fields hold."""
        held = {id(p) for f in fields if f in self.fields for p in self.fields[f].parts}
        return {k for k, w in enumerate(self.words) if id(w) in held}


@dataclass(frozen=True)
class FieldText:
    """One field as read: raw OCR text, mean confidence 0..1 and its box on the warped document."""

    field: Field
    text: str
    confidence: float
    box: Box


def _pad_to_aspect(image: np.ndarray, aspect: float) -> np.ndarray:
    """Pad with white on the right or bottom until width / height equals ``aspect`` (no-op when <= 0)."""
    if aspect <= 0:
        return image
    h, w = image.shape[:2]
    if w / h > aspect:
        return cv2.copyMakeBorder(image, 0, round(w / aspect) - h, 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    return cv2.copyMakeBorder(image, 0, 0, 0, round(h * aspect) - w, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def _line_angle(points: np.ndarray, min_elongation: float = 2.0) -> float | None:
    """Tilt in degrees (-45..45) of a line-shaped set of points (a word quad), or None when its
    minimum-area rectangle is not at least ``min_elongation`` times longer than high."""
    (_, _), (w, h), ang = cv2.minAreaRect(np.asarray(points, np.float32))
    if max(w, h) < min_elongation * max(min(w, h), 1.0):
        return None
    if w < h:
        ang -= 90.0
    return float((ang + 45.0) % 90.0 - 45.0)


def level_angle(quads: list[Quad]) -> float:
    """How far the text lines of the key fields are tilted: the median angle of their CRAFT words.

    Measured on the words each field matched, not on the UNET's masks: the masks come in
    per-character fragments and spill onto neighbouring lines, and a rectangle around them
    once made level cards look 6-13 degrees tilted (they were then rotated and misread).
    """
    angles = [a for q in quads if (a := _line_angle(q.to_array())) is not None]
    return float(np.median(angles)) if angles else 0.0


class FieldLocator:
    """``warped RGB document -> FieldLayout`` with a CRAFT detector and a UNET field segmenter.

    Args:
        cfg: tunables.
        craft: ``models.craft.CraftDetector`` (``predict(rgb) -> CraftMaps``).
        unet: ``models.unet.FieldSegmenter`` (``predict(maps, image_rgb) -> (h, w, 5)``).
        decode: ``models.boxes.decode_word_boxes`` (maps -> list[Quad]).
    """

    def __init__(self, cfg: TextConfig, craft: object, unet: object, decode: object) -> None:
        self.cfg, self.craft, self.unet, self.decode = cfg, craft, unet, decode

    def _run(self, image: np.ndarray, size: tuple[int, int]) -> tuple[list[TextBox], np.ndarray, float]:
        """Models on ``image``; word-box centres as fractions of ``size`` = (height, width) of the document."""
        try:  # boundary to TensorFlow: its graph and shape errors become ours
            maps = self.craft.predict(image)
            probs = self.unet.predict(maps, image)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise StageError(f"field models failed on a {image.shape[1]}x{image.shape[0]} document: "
                             f"{type(exc).__name__}") from exc
        h, w = size
        words = [TextBox(q, (q.bounds().center[0] / w, q.bounds().center[1] / h)) for q in self.decode(maps)]
        scale = float(maps.scale)
        return words, probs, scale

    def __call__(self, image: np.ndarray) -> FieldLayout:
        """Locate the key fields on a warped document (``HxWx3`` uint8 RGB).

        The image is padded (white, right/bottom) to ``canvas_aspect`` so cards and passport pages reach the
        models at one shape (one compiled graph, and the same scale for the content as without padding);
        boxes keep the image's own coordinates.
        """
        h, w = image.shape[:2]
        image = _pad_to_aspect(image, self.cfg.canvas_aspect)
        words, probs, scale = self._run(image, (h, w))
        fields, _ = self._match(words, probs, scale, (h, w), whole=False)  # the angle of the masks' own words
        level = level_angle([p.quad for fb in fields.values() for p in fb.parts])
        if abs(level) > self.cfg.level_threshold_deg:  # orientation adjustment: level the crop, detect again
            ih, iw = image.shape[:2]
            m = cv2.getRotationMatrix2D((iw / 2, ih / 2), level, 1.0)
            image = cv2.warpAffine(image, m, (iw, ih), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
            words, probs, scale = self._run(image, (h, w))
        else:
            level = 0.0
        fields, cover = self._match(words, probs, scale, (h, w))
        return FieldLayout(tuple(words), fields, level, image, cover, (h, w))

    def _match(self, words: list[TextBox], probs: np.ndarray, scale: float,
               shape: tuple[int, int], whole: bool = True) -> tuple[dict, np.ndarray]:
        """Assign CRAFT boxes to the field whose mask covers them, merge each field's boxes in reading order
        (with ``whole``, name fields grown along their lines); also return the word coverage matrix used."""
        h, w = shape
        cover = word_coverage(probs, [tb.quad.bounds() for tb in words], scale, self.cfg.mask_threshold)
        matches = match_field_words(probs, [tb.quad for tb in words], scale, self.cfg.mask_threshold,
                                    self.cfg.min_coverage, cover=cover)
        if whole and self.cfg.name_line_gap > 0:
            matches = whole_lines(matches, [tb.quad for tb in words], (Field.FIRST_NAME, Field.LAST_NAME),
                                  self.cfg.name_line_gap)
        out = {}
        for f, m in matches.items():
            bh = m.box.height
            box = m.box.expand(self.cfg.extend_x * bh, self.cfg.extend_y * bh).clip(w, h)
            out[f] = FieldBox(f, box, tuple(words[k] for k in m.words), m.coverage)
        return out, cover


def line_field_box(layout: FieldLayout, f: Field, line: tuple[int, ...], extend: tuple[float, float],
                   score: float = 0.0) -> FieldBox:
    """Field ``f`` on the text line of words ``line`` (indices into ``layout.words``): their union, extended by
    ``(extend_x, extend_y)`` times its height as the locator extends its boxes, clipped to the document."""
    parts = tuple(layout.words[k] for k in line)
    box = parts[0].quad.bounds()
    for p in parts[1:]:
        box = box.union(p.quad.bounds())
    box = box.expand(extend[0] * box.height, extend[1] * box.height)
    h, w = layout.size
    return FieldBox(f, box.clip(w, h) if h and w else box, parts, score)


#: Value lines are printed at one size: with ``values_only``, :func:`text_lines` keeps the lines whose
#: tallest word is this many times (low, high) the median height of the words other fields hold.
#: Captions (0.5-0.8 x on the sample's designs), titles and stamps fall outside.
VALUE_HEIGHT = (0.8, 1.5)


def text_lines(layout: FieldLayout, exclude: set[int], by: tuple[Field, ...],
               values_only: bool = False) -> list[tuple[int, ...]]:
    """The layout's text lines of words not in ``exclude`` (each left to right), those the masks of ``by``
    cover most first, then top to bottom; with ``values_only`` (and words in ``exclude``, the values other
    fields hold, to measure by), only lines about as high as those (:data:`VALUE_HEIGHT`)."""
    bounds = [w.quad.bounds() for w in layout.words]
    free = [k for k in range(len(bounds)) if k not in exclude]
    cover = (layout.coverage[:, [FIELD_CLASS[f] - 1 for f in by]].max(axis=1) if layout.coverage is not None
             else np.zeros(len(bounds)))
    measured = values_only and exclude
    if measured:
        ref = float(np.median([bounds[k].height for k in exclude]))
        low, high = VALUE_HEIGHT
        # a word taller than a value (a "SPECIMEN" stamp across the portrait) would join the row of the
        # value beside it and hide that line: leave such words out before grouping the rows
        free = [k for k in free if bounds[k].height <= high * ref]
    lines = [tuple(sorted(g, key=lambda k: bounds[k].x0)) for g in line_groups(bounds, free)]
    if measured:
        lines = [ln for ln in lines if low * ref <= max(bounds[k].height for k in ln) <= high * ref]
    return sorted(lines, key=lambda ln: (-float(cover[list(ln)].max()), bounds[ln[0]].y0))


def preprocess(crop: np.ndarray, cfg: Preprocess) -> np.ndarray:
    """Grey, rescaled (the whole crop to ``target_height``, or its text line to ``text_height``), denoised
    and binarized as configured (dark text on white), with an 8-pixel white border."""
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    rows = None
    if cfg.text_height > 0:
        stretched = stretch_contrast(gray)
        if (rows := text_rows(stretched)) is not None:
            gray = stretched
    if rows is not None:
        line = rows[1] - rows[0]
        margin = cfg.line_margin * line
        gray = gray[max(0, int(rows[0] - margin)):min(gray.shape[0], int(np.ceil(rows[1] + margin)))]
        s = cfg.text_height / line
        size = (max(1, round(gray.shape[1] * s)), max(1, round(gray.shape[0] * s)))
    else:
        s = cfg.target_height / max(gray.shape[0], 1)
        size = (max(1, round(gray.shape[1] * s)), cfg.target_height)
    gray = cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC)
    if cfg.denoise == "median":
        gray = cv2.medianBlur(gray, 3)
    elif cfg.denoise == "nlmeans":
        gray = cv2.fastNlMeansDenoising(gray, None, 10, 7, 21)
    if cfg.binarize == "otsu":
        _, gray = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    elif cfg.binarize == "adaptive":
        block = max(3, cfg.adaptive_block | 1)
        gray = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, cfg.adaptive_c)
    return cv2.copyMakeBorder(gray, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=255)


class FieldReader:
    """``(image, FieldLayout) -> {Field: FieldText}``: Tesseract per field with its own mode and whitelist."""

    def __init__(self, cfg: OcrConfig | None = None) -> None:
        self.cfg = cfg or OcrConfig()
        setups = {f: getattr(self.cfg, f.value) for f in Field}
        self._engines = {f: Tesseract(psm=s.psm, whitelist=s.whitelist, lang=s.lang) for f, s in setups.items()}
        self._pool = ThreadPoolExecutor(max(1, self.cfg.workers), thread_name_prefix="veid-ocr")

    def _read_one(self, f: Field, crop: np.ndarray, prep: Preprocess) -> tuple[str, float]:
        res = self._engines[f].read(preprocess(crop, prep))
        return " ".join(res.text.split()), res.confidence

    def all_readings(self, image: np.ndarray, layout: FieldLayout, max_readings: int | None = None) -> dict:
        """``{Field: [FieldText, ...]}``: every field's crop read under every preparation (the first
        ``max_readings`` of them; ``workers`` calls at once), the non-empty readings in their order."""
        return self._read_boxes(image, {f: fb.box for f, fb in layout.fields.items()}, max_readings)

    def read_box(self, image: np.ndarray, f: Field, box: Box, max_readings: int | None = None) -> list[FieldText]:
        """Non-empty readings of one box of ``image`` with field ``f``'s setup."""
        return self._read_boxes(image, {f: box}, max_readings).get(f, [])

    def _read_boxes(self, image: np.ndarray, boxes: dict, max_readings: int | None) -> dict:
        jobs = []
        for f, b in boxes.items():
            crop = image[int(b.y0):int(np.ceil(b.y1)), int(b.x0):int(np.ceil(b.x1))]
            if crop.size:
                jobs += [(f, b, self._pool.submit(self._read_one, f, crop, prep))
                         for prep in self.cfg.readings[:max_readings]]
        out: dict = {}
        for f, b, job in jobs:
            text, confidence = job.result()
            if text:
                out.setdefault(f, []).append(FieldText(f, text, confidence, b))
        return out

    def read_line(self, layout: FieldLayout, f: Field, line: tuple[int, ...], extend: tuple[float, float],
                  max_readings: int | None = None) -> list[FieldText]:
        """Non-empty readings of one text line of ``layout`` (word indices) with field ``f``'s setup."""
        box = line_field_box(layout, f, line, extend).box
        return self._read_boxes(layout.image, {f: box}, max_readings).get(f, [])

    def __call__(self, image: np.ndarray, layout: FieldLayout) -> dict:
        """Per field, the most confident non-empty reading (ties: the earlier preparation)."""
        return most_confident(self.all_readings(image, layout))


def most_confident(readings: dict) -> dict:
    """``{Field: FieldText}``: of each field's readings (:meth:`FieldReader.all_readings`), the most confident
    (ties: the earlier preparation)."""
    return {f: max(texts, key=lambda t: t.confidence) for f, texts in readings.items()}
