"""Diacritic marks read letter by letter from the image, where Tesseract reads the letters but not their marks.

On blurred captures Tesseract reads ``LÓPEZ`` as ``LOPEZ``, ``FERNÁNDEZ`` as ``FERNÄNDEZ`` and ``BJÖRN``
as ``BJÔRN``: it sees the letters, and often that something sits above them, but not its shape. Here the
name's text line is found in the crop (the longest run of rows dense with ink), its letters are laid along
it in proportion to their usual widths, and a small CNN trained on drawn words and on the name fields of
generated captures (``training/train_marks.py``, DVC stage ``train_marks``) names the mark in the zone
above each letter: none, acute, grave, circumflex, caron, diaeresis, tilde, ring, dot, breve or double
acute.

The rule is conservative, because a wrong mark breaks a name that was right. A mark that some reading saw
(the value, or Tesseract's reading of the crop) may be replaced by another shape at ``min_probability``;
a mark no reading saw is added only where the classifier is sure at ``add_probability`` that a mark is
there, in the shape it finds most probable; a mark is never removed. The letter with its
new mark must exist as one character of Latin-1 or Latin Extended-A, the letters of European names
(``A`` + acute is ``Á``; ``R`` + diaeresis is not such a letter). Marks below or through a letter (Ç, Ę,
Ł, Ø) are left as read. Where a valid MRZ confirmed the name, the result must still transliterate to it
(a diaeresis on ``O`` would turn the MRZ's ``O`` into ``OE``).

A valid MRZ that disagrees with the name only through a mark proves the mark wrong: ``LÖPEZ`` read over
an MRZ ``LOPEZ`` (``Ö`` is written ``OE``). There, the marks whose transliteration the MRZ contradicts
take a shape written as the bare letter (``mrz_name``): the one Tesseract read on the crop where it read
such a shape (``FERNÄNDEZ`` valued, ``FERNÁNDEZ`` read on the crop), else the classifier's most probable at
any probability; the result is kept only when it then transliterates to the MRZ's name (``LÓPEZ``). The
other marks keep the rule above.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipelines.document.icao import transliterate
from pipelines.document.ink import longest_run
from pipelines.document.numpy_cnn import conv3x3_relu, max_pool2, read_classifier, save_classifier, softmax
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
#: Advance widths (em) of DejaVu Sans Bold: where each letter of a word lies along its ink (names are
#: printed in proportional fonts; the error this leaves is a fraction of a letter).
WIDTHS = {"A": 0.77, "B": 0.76, "C": 0.73, "D": 0.83, "E": 0.68, "F": 0.68, "G": 0.82, "H": 0.84, "I": 0.37,
          "J": 0.37, "K": 0.77, "L": 0.64, "M": 1.0, "N": 0.84, "O": 0.85, "P": 0.73, "Q": 0.85, "R": 0.77,
          "S": 0.72, "T": 0.68, "U": 0.81, "V": 0.77, "W": 1.1, "X": 0.77, "Y": 0.72, "Z": 0.73, "a": 0.67,
          "b": 0.72, "c": 0.59, "d": 0.72, "e": 0.68, "f": 0.43, "g": 0.72, "h": 0.71, "i": 0.34, "j": 0.34,
          "k": 0.67, "l": 0.34, "m": 1.04, "n": 0.71, "o": 0.69, "p": 0.72, "q": 0.72, "r": 0.49, "s": 0.6,
          "t": 0.48, "u": 0.71, "v": 0.65, "w": 0.92, "x": 0.65, "y": 0.65, "z": 0.58, " ": 0.35, "-": 0.42,
          "'": 0.27}
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
    line found in ``gray``).

    The text line is the longest run of rows dense with ink (its top: the cap or x-height, its bottom: the
    baseline); the letters are laid along the line's ink in proportion to :data:`WIDTHS`. A letter's zone
    spans 0.55 body heights above its body's top (a caption line above lies higher) to 0.1 below, and three
    letters wide, the letter in the middle (ink above every letter is a caption's, ink above one letter a
    mark); grey levels are scaled so that paper is 0 and ink 1, and resized to :data:`ZONE_SHAPE`. Two more
    features: the letter's width over its body height, and whether it is lower case.
    """
    if gray.ndim != 2 or gray.size == 0 or not text:
        return [None] * len(text)
    paper, ink = np.percentile(gray, 90), np.percentile(gray, 3)
    norm = np.clip((paper - gray.astype(np.float32)) / max(float(paper - ink), 1.0), 0.0, 1.0)
    binary = norm > 0.5
    rows = binary.mean(axis=1)
    band = longest_run(rows > 0.3 * rows.max()) if rows.max() > 0 else None
    if band is None or band[1] - band[0] < 6:
        return [None] * len(text)
    top, baseline = band
    cols = np.flatnonzero(binary[top:baseline].sum(axis=0) >= 2)
    if cols.size < 2:
        return [None] * len(text)
    left, right = int(cols[0]), int(cols[-1]) + 1
    widths = np.array([WIDTHS.get(split_mark(c)[0], 0.7) for c in text])
    edges = left + np.concatenate([[0.0], np.cumsum(widths)]) * (right - left) / widths.sum()
    mixed = any(c.islower() for c in text)
    h, w = gray.shape
    out: list[np.ndarray | None] = []
    for k, c in enumerate(text):
        base, mark = split_mark(c)
        x0, x1 = edges[k], edges[k + 1]
        if mark is None or not (base.isupper() or base in SHORT_LOWER):
            out.append(None)
            continue
        ref = float(top)
        if base.isupper() and mixed:  # the band is the x-height: this capital's top is its own ink's
            ink_rows = norm[:, max(int(x0), 0):max(int(np.ceil(x1)), int(x0) + 1)].max(axis=1) > 0.5
            r = baseline - 1
            while r > 0 and ink_rows[r - 1] and r > top - (baseline - top):
                r -= 1
            ref = float(r)
        body = baseline - ref
        half = 1.5 * (x1 - x0) + 0.1 * body  # the letter and its neighbours: a mark is ink above one letter only
        cx = (x0 + x1) / 2
        ya, yb = int(round(ref - 0.55 * body)), int(round(ref + 0.1 * body))
        xa, xb = int(round(cx - half)), int(round(cx + half))
        zone = np.zeros((max(yb - ya, 1), max(xb - xa, 1)), np.float32)
        sy0, sy1, sx0, sx1 = max(ya, 0), min(yb, h), max(xa, 0), min(xb, w)
        if sy1 > sy0 and sx1 > sx0:
            zone[sy0 - ya:sy1 - ya, sx0 - xa:sx1 - xa] = norm[sy0:sy1, sx0:sx1]
        small = cv2.resize(zone, ZONE_SHAPE[::-1], interpolation=cv2.INTER_AREA)
        extra = [(x1 - x0) / body, float(base.islower())]
        out.append(np.concatenate([small.ravel(), np.asarray(extra, np.float32)]).astype(np.float32))
    return out


@dataclass(frozen=True)
class MarkModel:
    """A small CNN over a letter's zone (two 3x3 convolutions with pooling, one hidden dense layer) plus the
    two scalar features; weights trained by ``train_marks`` in Keras and run here in NumPy.

    Attributes:
        k1, c1, k2, c2: convolution kernels ``(3, 3, in, out)`` and biases.
        w1, b1, w2, b2: dense layers over the flattened maps and scalars; outputs are :data:`MARKS` logits.
    """

    k1: np.ndarray
    c1: np.ndarray
    k2: np.ndarray
    c2: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    KEYS = ("k1", "c1", "k2", "c2", "w1", "b1", "w2", "b2")

    @classmethod
    def load(cls, path: str | Path) -> "MarkModel":
        """Read the ``.npz`` written by :meth:`save` (the shipped file's sha256 is checked by
        :func:`models.registry.file_version`).

        Raises:
            ModelError: the file is missing or not this model.
        """
        return cls(*read_classifier(path, cls.KEYS, "diacritic mark model", MARKS, "zone_shape", ZONE_SHAPE))

    def save(self, path: str | Path) -> None:
        """Write the weights (``.npz``, no pickled objects)."""
        save_classifier(path, self, self.KEYS, MARKS, "zone_shape", ZONE_SHAPE)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per :func:`letter_features` row."""
        n = x.shape[0]
        zone = x[:, :-2].reshape(n, *ZONE_SHAPE, 1)
        h = max_pool2(conv3x3_relu(zone, self.k1, self.c1))
        h = max_pool2(conv3x3_relu(h, self.k2, self.c2))
        flat = np.concatenate([h.reshape(n, -1), x[:, -2:]], axis=1)
        return softmax(np.maximum(flat @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2)


@dataclass(frozen=True)
class MarkConfig:
    """Diacritic re-reading of printed names (``params.yaml`` section ``document_marks``).

    Attributes:
        enabled: re-read the marks of printed (OCR) names.
        model: the trained weights (``train_marks`` stage output).
        min_probability: a mark a reading saw (in the value, or in Tesseract's reading of the crop) is
            replaced by another when the classifier gives that one at least this.
        add_probability: a mark where no reading saw one is added when the classifier gives *a* mark (one
            minus the probability of none) at least this and the added shape is its most probable mark
            (above 1: never). Marks are never removed: where Tesseract reads one it is nearly always there.
        target_height: the name crop is scaled to this height (pixels) before Tesseract boxes its letters.
    """

    enabled: bool = True
    model: str = "models/weights/marks.npz"
    min_probability: float = 0.8
    add_probability: float = 0.97
    target_height: int = 96


def resolve_model_path(path: str | Path) -> Path:
    """A model path as configured: absolute, or relative to the repository root (not the working directory)."""
    p = Path(path)
    return p if p.is_absolute() else Path(__file__).resolve().parents[2] / p


def prepare(crop: np.ndarray, target_height: int) -> np.ndarray:
    """Grey crop scaled to ``target_height`` (cubic), with an 8-pixel white border: what Tesseract boxes."""
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    s = target_height / max(gray.shape[0], 1)
    gray = cv2.resize(gray, (max(1, round(gray.shape[1] * s)), target_height), interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(gray, 8, 8, 8, 8, cv2.BORDER_REPLICATE)


def letters_of(text: str) -> str:
    """The letters of ``text``, upper case, marks removed (what must agree between a value and its boxes)."""
    return "".join(split_mark(c)[0] for c in unicodedata.normalize("NFC", text) if c.isalpha()).upper()


class MarkReader:
    """``(name crop, value) -> value with its marks re-read``, or ``None`` when nothing changes or what
    Tesseract reads on the crop does not spell the value's letters (then no letter can be placed)."""

    def __init__(self, cfg: MarkConfig, model: MarkModel, boxer: object) -> None:
        self.cfg, self.model, self.boxer = cfg, model, boxer

    def marks(self, crop: np.ndarray, read_crop: np.ndarray | None = None) -> tuple[str, np.ndarray] | None:
        """The text Tesseract reads on ``read_crop`` (default: ``crop``) and each character's class
        probabilities in ``crop`` (NaN rows where no mark can be read)."""
        read_crop = crop if read_crop is None else read_crop
        if crop.ndim < 2 or min(crop.shape[:2]) < 4 or read_crop.ndim < 2 or min(read_crop.shape[:2]) < 4:
            return None
        gray = prepare(crop, self.cfg.target_height)
        text = " ".join(self.boxer.read(prepare(read_crop, self.cfg.target_height)).text.split())
        feats = letter_features(gray, text)
        probs = np.full((len(text), len(MARKS)), np.nan, np.float32)
        rows = [i for i, f in enumerate(feats) if f is not None]
        if rows:
            probs[rows] = self.model.predict_proba(np.stack([feats[i] for i in rows]))
        return text, probs

    def _letter(self, v: str, read: str, p: np.ndarray, against_mrz: bool = False) -> str:
        """The value's letter ``v`` (Tesseract read ``read`` there), given its mark probabilities ``p``;
        ``against_mrz``: a valid MRZ contradicts the name, which rules out a mark written as more than its
        letter (``Ö``, written ``OE``, over an ``O``): a mark a reading saw there takes a shape written as the
        bare letter: the one Tesseract read on the crop if it is such a shape, else the classifier's most
        probable, whatever its probability."""
        base, mark = split_mark(v)
        read_mark = split_mark(read)[1]
        if mark is None or read_mark is None or np.isnan(p).any():
            return v
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
        if not disproved and marked and p[MARKS.index(best)] < self.cfg.min_probability:
            return v
        if not disproved and not marked and not self._sure_mark(p, best):
            return v
        new = compose(seen, best)
        new = new.upper() if v.isupper() else new
        return new if len(new) == 1 else v

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
        """``value`` with its marks re-read in ``crop`` (``None``: unchanged, or its letters not found).

        ``mrz_name``: the name in a valid MRZ (ICAO transliteration, ``<`` as space). When ``value``
        transliterates otherwise, its marks written as more than their letter (``Ö``: ``OE``) are re-decided
        among the shapes written as the bare letter, and the result is kept only if it then agrees with
        ``mrz_name``.
        """
        found = self.marks(crop, read_crop)
        if found is None:
            return None
        text, probs = found
        letters = [(i, c) for i, c in enumerate(text) if c.isalpha()]
        if "".join(split_mark(c)[0] for _, c in letters).upper() != letters_of(value):
            return None
        out = self._decide(value, letters, probs)
        if mrz_name is not None and mrz_form(value) != mrz_name and (out is None or mrz_form(out) != mrz_name):
            fixed = self._decide(value, letters, probs, against_mrz=True)
            if fixed is not None and mrz_form(fixed) == mrz_name:
                return fixed
        return out

    def _decide(self, value: str, letters: list[tuple[int, str]], probs: np.ndarray,
                against_mrz: bool = False) -> str | None:
        """``value`` letter by letter (``letters``: Tesseract's letters with their rows in ``probs``);
        ``against_mrz``: see :meth:`_letter`. ``None``: unchanged."""
        out, k, changed = [], 0, False
        for v in unicodedata.normalize("NFC", value):
            if not v.isalpha():
                out.append(v)
                continue
            i, read = letters[k]
            k += 1
            new = self._letter(v, read, probs[i], against_mrz)
            changed |= new != v
            out.append(new)
        return unicodedata.normalize("NFC", "".join(out)) if changed else None
