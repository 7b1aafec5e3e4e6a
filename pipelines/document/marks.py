"""Diacritic marks read letter by letter from the image, where Tesseract reads the letters but not their marks.

On blurred captures Tesseract reads ``LÓPEZ`` as ``LOPEZ``, ``FERNÁNDEZ`` as ``FERNÄNDEZ`` and ``BJÖRN``
as ``BJÔRN``: it sees the letters, and often that something sits above them, but not its shape. Here the
name's text line is found in the crop (the longest run of rows dense with ink), its letters are laid along
it in proportion to their usual widths, and a small CNN trained on drawn words and on the name fields of
generated captures (``training/train_marks.py``, DVC stage ``train_marks``) names the mark in the zone
above each letter: none, acute, grave, circumflex, caron, diaeresis, tilde, ring, dot, breve or double
acute.

The rule is conservative, because a wrong mark breaks a name that was right. A mark that some reading saw
(the value, or Tesseract's reading of the crop) may be replaced by another shape at ``min_probability``,
unless both readings saw it (``LUCÍA`` is not made ``LUCÏA``); a mark only the reading of the crop saw is
added where the classifier also finds that shape likeliest, at ``read_probability`` (``JOAQUÍN``);
a mark no reading saw is added only where the classifier is sure at ``add_probability`` that a mark is
there, in the shape it finds most probable; a mark is never removed. The letter with its
new mark must exist as one character of Latin-1 or Latin Extended-A, the letters of European names
(``A`` + acute is ``Á``; ``R`` + diaeresis is not such a letter). Marks below or through a letter (Ç, Ę,
Ł, Ø) are read the same way by a second classifier over each letter's body and the band below it
(``low_marks.py``), decided under the same rules. Where a valid MRZ confirmed the name, the result must
still transliterate to it (a diaeresis on ``O`` would turn the MRZ's ``O`` into ``OE``).

A valid MRZ that disagrees with the name only through a mark proves the mark wrong: ``LÖPEZ`` read over
an MRZ ``LOPEZ`` (``Ö`` is written ``OE``). There, the marks whose transliteration the MRZ contradicts
take a shape written as the bare letter (``mrz_name``): the one Tesseract read on the crop where it read
such a shape (``FERNÄNDEZ`` valued, ``FERNÁNDEZ`` read on the crop), else the classifier's most probable at
any probability; the result is kept only when it then transliterates to the MRZ's name (``LÓPEZ``). The
other marks keep the rule above.

Where Tesseract's reading of the crop does not spell the value (``TURSE`` for ``TOMAS``), no letter can be
placed from it; where it read something there and a valid MRZ confirms the value's letters, the value's own
letters are laid along the line instead (``TOMÁS``, ``LEFÈVRE``). Not where it read nothing: on such crops
the ink is too faint or the line mis-boxed, and the value's capitals laid over a title-case line put marks
on them (``ŜOFIA``, ``ÔLIVER``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipelines.document.icao import transliterate
from pipelines.document.letters import line_layout
from pipelines.document.low_marks import LOW_MARKS, LowMarkModel, bare, body_features, compose_low, split_low
from pipelines.document.numpy_cnn import ZoneClassifier
from pipelines.document.validation import mrz_form

#: Mark classes, in the classifier's output order.
MARKS = ("none", "acute", "grave", "circumflex", "caron", "diaeresis", "tilde", "ring", "dot", "breve",
         "double_acute")
#: Unicode combining character of each mark above a letter.
COMBINING = {"acute": "\u0301", "grave": "\u0300", "circumflex": "\u0302", "caron": "\u030c",
             "diaeresis": "\u0308", "tilde": "\u0303", "ring": "\u030a", "dot": "\u0307", "breve": "\u0306",
             "double_acute": "\u030b"}
_MARK_OF = {v: k for k, v in COMBINING.items()}
#: Lower-case letters whose body ends at the x-height (the zone above them is where a mark sits).
SHORT_LOWER = frozenset("acemnorsuvwxzij")
ZONE_SHAPE = (12, 36)  # rows, columns of a letter's mark zone fed to the classifier
N_FEATURES = ZONE_SHAPE[0] * ZONE_SHAPE[1] + 2


def split_mark(c: str) -> tuple[str, str | None]:
    """``(base letter, mark)`` of one character: ``"Ó"`` -> ``("O", "acute")``, ``"O"`` -> ``("O", "none")``.

    The mark is ``None`` when the character carries one this module does not read (a cedilla, an ogonek,
    two marks) or is not a letter: it is then left as it is.
    """
    if not c.isalpha():
        return c, None
    parts = unicodedata.normalize("NFD", c)
    base, marks = parts[0], parts[1:]
    if not marks:
        return base, "none"
    if len(marks) == 1 and marks in _MARK_OF:
        return base, _MARK_OF[marks]
    return base, None


def compose(base: str, mark: str) -> str | None:
    """The single character ``base`` with ``mark`` (``("A", "acute")`` -> ``"Á"``), or ``None`` when no such
    letter exists in Latin-1 or Latin Extended-A. A dot on ``i``/``j`` is the letter's own: ``("i", "dot")``
    -> ``"i"``."""
    if mark == "none":
        return base
    if base in "ij" and mark == "dot":
        return base
    c = unicodedata.normalize("NFC", base + COMBINING[mark])
    return c if len(c) == 1 and 0xC0 <= ord(c) <= 0x17F else None


def letter_features(gray: np.ndarray, text: str) -> list[np.ndarray | None]:
    """Per character of ``text`` (the word as read, with its case), the classifier's features of the zone
    above its body, or ``None`` where no mark can be read (not a letter, a tall lower-case letter, no text
    line found in ``gray``; letters placed by :func:`line_layout`).

    A letter's zone spans 0.55 body heights above its body's top (a caption line above lies higher) to 0.1
    below, and three letters wide, the letter in the middle (ink above every letter is a caption's, ink
    above one letter a mark); grey levels are scaled so that paper is 0 and ink 1, and resized to
    :data:`ZONE_SHAPE`. Two more features: the letter's width over its body height, and whether it is
    lower case.
    """
    layout = line_layout(gray, text)
    if layout is None:
        return [None] * len(text)
    out: list[np.ndarray | None] = []
    for k, c in enumerate(text):
        base, mark = split_mark(c)
        if mark is None or not (base.isupper() or base in SHORT_LOWER):
            out.append(None)
            continue
        ref = layout.letter_top(k, base)
        body = layout.baseline - ref
        # the letter and its neighbours: a mark is ink above one letter only
        out.append(layout.row(k, ref - 0.55 * body, ref + 0.1 * body, 3, body, ZONE_SHAPE, base.islower()))
    return out


class MarkModel(ZoneClassifier):
    """The mark classifier over a letter's zone above it (:func:`letter_features` rows; ``train_marks``)."""

    CLASSES = MARKS
    SHAPE = ZONE_SHAPE
    WHAT = "diacritic mark model"


@dataclass(frozen=True)
class MarkConfig:
    """Diacritic re-reading of printed names (``params.yaml`` section ``document_marks``).

    Attributes:
        enabled: re-read the marks of printed (OCR) names.
        model: the trained weights (``train_marks`` stage output).
        min_probability: a mark a reading saw (in the value, or in Tesseract's reading of the crop) is
            replaced by another when the classifier gives that one at least this; a mark both readings saw
            is kept.
        read_probability: a mark only Tesseract's reading of the crop saw (the value has none there) is added
            in that shape where it is also the classifier's likeliest and has at least this probability.
        add_probability: a mark where no reading saw one is added when the classifier gives *a* mark (one
            minus the probability of none) at least this and the added shape is its most probable mark
            (above 1: never). Marks are never removed: where Tesseract reads one it is nearly always there.
        target_height: the name crop is scaled to this height (pixels) before Tesseract boxes its letters.
        low_enabled: also re-read the marks through or below letters (``low_marks.py``: Ł, Ø, Ç, Ę).
        low_model: their classifier's weights (``train_low_marks`` stage output).
        low_add_probability: as ``add_probability``, for a low mark no reading saw (a low mark Tesseract read
            on the crop is added at ``min_probability``).
    """

    enabled: bool = True
    model: str = "models/weights/marks.npz"
    min_probability: float = 0.8
    read_probability: float = 0.5
    add_probability: float = 0.97
    target_height: int = 96
    low_enabled: bool = True
    low_model: str = "models/weights/low_marks.npz"
    low_add_probability: float = 0.97


def resolve_model_path(path: str | Path) -> Path:
    """A model path as configured: absolute, or relative to the repository root (not the working directory)."""
    p = Path(path)
    return p if p.is_absolute() else Path(__file__).resolve().parents[2] / p


def prepare(crop: np.ndarray, target_height: int, paper_border: bool = False) -> np.ndarray:
    """Grey crop scaled to ``target_height`` (cubic), with an 8-pixel border: what Tesseract boxes. The border
    repeats the crop's edge rows and columns, or with ``paper_border`` is the paper's grey: a box that cuts
    through the letters' feet would otherwise draw them on below the baseline (read as an ogonek)."""
    return _bordered(_scaled(crop, target_height), paper_border)


def _scaled(crop: np.ndarray, target_height: int) -> np.ndarray:
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    s = target_height / max(gray.shape[0], 1)
    return cv2.resize(gray, (max(1, round(gray.shape[1] * s)), target_height), interpolation=cv2.INTER_CUBIC)


def _bordered(gray: np.ndarray, paper_border: bool) -> np.ndarray:
    if paper_border:
        return cv2.copyMakeBorder(gray, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=float(np.percentile(gray, 90)))
    return cv2.copyMakeBorder(gray, 8, 8, 8, 8, cv2.BORDER_REPLICATE)


def letters_of(text: str) -> str:
    """The letters of ``text``, upper case, marks removed, those through and below too (what must agree
    between a value and its boxes)."""
    return "".join(bare(c) for c in unicodedata.normalize("NFC", text) if c.isalpha()).upper()


def _probabilities(model: ZoneClassifier, feats: list[np.ndarray | None]) -> np.ndarray:
    """``model``'s class probabilities per feature row (NaN rows where a row is ``None``)."""
    probs = np.full((len(feats), len(model.CLASSES)), np.nan, np.float32)
    rows = [i for i, f in enumerate(feats) if f is not None]
    if rows:
        probs[rows] = model.predict_proba(np.stack([feats[i] for i in rows]))
    return probs


class MarkReader:
    """``(name crop, value) -> value with its marks re-read``, or ``None`` when nothing changes or no letter
    can be placed (what Tesseract reads on the crop does not spell the value's letters; see :meth:`__call__`).

    ``low``: the classifier of marks through or below letters (``low_marks.py``); without it only the
    marks above letters are read."""

    def __init__(self, cfg: MarkConfig, model: MarkModel, boxer: object, low: LowMarkModel | None = None) -> None:
        self.cfg, self.model, self.boxer, self.low = cfg, model, boxer, low

    def marks(self, crop: np.ndarray, read_crop: np.ndarray | None = None
              ) -> tuple[str, np.ndarray, np.ndarray | None] | None:
        """The text Tesseract reads on ``read_crop`` (default: ``crop``), each character's class probabilities
        in ``crop`` for the marks above it (NaN rows where no mark can be read) and, with a low-mark
        classifier, for the marks through or below it (else ``None``)."""
        read_crop = crop if read_crop is None else read_crop
        if crop.ndim < 2 or min(crop.shape[:2]) < 4 or read_crop.ndim < 2 or min(read_crop.shape[:2]) < 4:
            return None
        text = " ".join(self.boxer.read(prepare(read_crop, self.cfg.target_height)).text.split())
        return (text, *self._classified(crop, text))

    def _classified(self, crop: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Per character of ``text`` laid along ``crop``'s text line, the mark classes above it and (with a
        low-mark classifier) through or below it (NaN rows where no mark can be read)."""
        scaled = _scaled(crop, self.cfg.target_height)
        probs = _probabilities(self.model, letter_features(_bordered(scaled, self.model.PAPER_BORDER), text))
        low = None if self.low is None else _probabilities(
            self.low, body_features(_bordered(scaled, self.low.PAPER_BORDER), text))
        return probs, low

    def _letter(self, v: str, read: str, p: np.ndarray, against_mrz: bool = False) -> str:
        """The value's letter ``v`` (Tesseract read ``read`` there), given its mark probabilities ``p``;
        ``against_mrz``: a valid MRZ contradicts the name, which rules out a mark written as more than its
        letter (``Ö``, written ``OE``, over an ``O``): a mark a reading saw there takes a shape written as the
        bare letter: the one Tesseract read on the crop if it is such a shape, else the classifier's most
        probable, whatever its probability."""
        base, mark = split_mark(v)
        read_mark = split_mark(read)[1]
        if mark is None or read_mark is None or np.isnan(p).any() or split_low(v)[1] != "none":
            return v  # a letter with a stroke, cedilla or ogonek keeps what lies above it
        disproved = against_mrz and transliterate(v.upper()) != base.upper()
        seen = split_mark(read)[0]  # the case Tesseract saw decides i/I and the zone used
        options = [m for m in MARKS if m != "none" and compose(seen, m) is not None]
        marked = mark != "none" or read_mark != "none"  # a reading saw a mark here: only its shape is in doubt
        if disproved:
            if not marked:
                return v
            options = [m for m in options if transliterate(compose(seen, m).upper()) == seen.upper()]
        if not options:
            return v
        best = read_mark if disproved and read_mark in options else max(options, key=lambda m: p[MARKS.index(m)])
        if best == mark:
            return v
        if not disproved and mark != "none" and mark == read_mark:
            return v  # both readings saw this shape: the classifier alone does not overrule them
        bar = self.cfg.read_probability if mark == "none" and read_mark == best else self.cfg.min_probability
        if not disproved and marked and p[MARKS.index(best)] < bar:
            return v
        if not disproved and not marked and not self._sure_mark(p, best):
            return v
        new = compose(seen, best)
        new = new.upper() if v.isupper() else new
        return new if len(new) == 1 else v

    def _low_letter(self, v: str, read: str, q: np.ndarray, against_mrz: bool = False,
                    present: frozenset[str] = frozenset()) -> str:
        """The value's letter ``v`` with a mark through or below it added (Tesseract read ``read`` there; ``q``:
        the low-mark probabilities), under the rules for marks above: never removed or changed; added where
        Tesseract read it on the crop and the classifier gives it ``min_probability``, or where no reading saw
        it and the classifier is sure of some low mark (``low_add_probability``) and this is its likeliest;
        ``against_mrz`` (a valid MRZ contradicts the name, ``SOREN`` under ``SOEREN``): where it is likelier
        than no mark (the caller keeps the result only if it then agrees with the MRZ).

        ``present``: the low marks the name already carries. One of those kinds is added again only where
        Tesseract read it at this letter: on blurred captures the letters near a Ç take its cedilla's look
        (FRAŅÇOIS, FRANÇOIŞ, LUÇA beside FRANÇOIS), and names with two cedillas or two ogoneks are rare."""
        rest, low = split_low(v)
        if low != "none" or np.isnan(q).any():
            return v
        options = [m for m in LOW_MARKS[1:] if compose_low(rest, m) is not None]
        if not options:
            return v
        best = max(options, key=lambda m: q[LOW_MARKS.index(m)])
        p_best, p_none = float(q[LOW_MARKS.index(best)]), float(q[0])
        top = max(LOW_MARKS[1:], key=lambda m: q[LOW_MARKS.index(m)])
        if split_low(read)[1] == best and not against_mrz:
            sure = p_best >= self.cfg.min_probability
        elif best in present:
            sure = False
        elif against_mrz:
            sure = p_best > p_none
        else:
            sure = best == top and 1.0 - p_none >= self.cfg.low_add_probability
        if not sure:
            return v
        new = compose_low(rest, best)
        return new.upper() if v.isupper() else new

    def _sure_mark(self, p: np.ndarray, best: str) -> bool:
        """Whether a mark no reading saw is added: the classifier is sure that *some* mark is there
        (``1 - P(none)`` at ``add_probability``) and ``best`` is the mark it finds most probable. Its
        probability alone is often split between look-alikes the letter cannot carry (an ``Í`` that
        Tesseract read as a plain I, or as the i of ``Joaquin``: acute 0.55, double acute 0.35, none 0.02)."""
        marks = [m for m in MARKS if m != "none"]
        top = max(marks, key=lambda m: p[MARKS.index(m)])
        return best == top and 1.0 - float(p[MARKS.index("none")]) >= self.cfg.add_probability

    def __call__(self, crop: np.ndarray, value: str, read_crop: np.ndarray | None = None,
                 mrz_name: str | None = None) -> str | None:
        """``value`` with its marks re-read in ``crop`` (``None``: unchanged, or its letters not found: what
        Tesseract reads on the crop does not spell them, unless it read something there and ``mrz_name``
        confirms the value's letters, whose own letters are then laid along the line).

        ``mrz_name``: the name in a valid MRZ (ICAO transliteration, ``<`` as space). When ``value``
        transliterates otherwise, its marks written as more than their letter (``Ö``: ``OE``) are re-decided
        among the shapes written as the bare letter, and the result is kept only if it then agrees with
        ``mrz_name``.
        """
        found = self.marks(crop, read_crop)
        if found is None:
            return None
        text, probs, low = found
        if letters_of(text) != letters_of(value):
            if not (text and mrz_name is not None and mrz_form(value) == mrz_name):
                return None
            # Tesseract read a line on the crop, misread (TURSE), and a valid MRZ confirms the value's letters:
            # the value's own letters are laid along the line
            text = unicodedata.normalize("NFC", value)
            probs, low = self._classified(crop, text)
        letters = [(i, c) for i, c in enumerate(text) if c.isalpha()]
        out = self._decide(value, letters, probs, low)
        if mrz_name is not None and mrz_form(value) != mrz_name and (out is None or mrz_form(out) != mrz_name):
            fixed = self._decide(value, letters, probs, low, against_mrz=True)
            if fixed is not None and mrz_form(fixed) == mrz_name:
                return fixed
        return out

    def _decide(self, value: str, letters: list[tuple[int, str]], probs: np.ndarray, low: np.ndarray | None,
                against_mrz: bool = False) -> str | None:
        """``value`` letter by letter (``letters``: Tesseract's letters with their rows in ``probs`` and
        ``low``); ``against_mrz``: see :meth:`_letter` and :meth:`_low_letter`. ``None``: unchanged."""
        out, k, changed = [], 0, False
        present = {split_low(c)[1] for c in unicodedata.normalize("NFC", value)} - {"none", None}
        for v in unicodedata.normalize("NFC", value):
            if not v.isalpha():
                out.append(v)
                continue
            i, read = letters[k]
            k += 1
            new = self._letter(v, read, probs[i], against_mrz)
            if low is not None:
                new = self._low_letter(new, read, low[i], against_mrz, frozenset(present))
                present |= {split_low(new)[1]} - {"none", None}
            changed |= new != v
            out.append(new)
        return unicodedata.normalize("NFC", "".join(out)) if changed else None
