"""Where each letter of a read name lies in its crop: the text line and the letters laid along it.

Tesseract reads a name's letters but the mark readers (``marks.py`` above a letter, ``low_marks.py``
through or below it) need each letter's place: the line is the longest run of rows dense with ink, and the
letters are laid along its ink in proportion to their usual advance widths (names are printed in
proportional fonts; the error this leaves is a fraction of a letter).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np

from pipelines.document.ink import longest_run

#: Advance widths (em) of DejaVu Sans Bold: where each letter of a word lies along its ink (names are
#: printed in proportional fonts; the error this leaves is a fraction of a letter).
WIDTHS = {"A": 0.77, "B": 0.76, "C": 0.73, "D": 0.83, "E": 0.68, "F": 0.68, "G": 0.82, "H": 0.84, "I": 0.37,
          "J": 0.37, "K": 0.77, "L": 0.64, "M": 1.0, "N": 0.84, "O": 0.85, "P": 0.73, "Q": 0.85, "R": 0.77,
          "S": 0.72, "T": 0.68, "U": 0.81, "V": 0.77, "W": 1.1, "X": 0.77, "Y": 0.72, "Z": 0.73, "a": 0.67,
          "b": 0.72, "c": 0.59, "d": 0.72, "e": 0.68, "f": 0.43, "g": 0.72, "h": 0.71, "i": 0.34, "j": 0.34,
          "k": 0.67, "l": 0.34, "m": 1.04, "n": 0.71, "o": 0.69, "p": 0.72, "q": 0.72, "r": 0.49, "s": 0.6,
          "t": 0.48, "u": 0.71, "v": 0.65, "w": 0.92, "x": 0.65, "y": 0.65, "z": 0.58, " ": 0.35, "-": 0.42,
          "'": 0.27}


@dataclass(frozen=True)
class LineLayout:
    """Where each letter of a read word lies in a name crop.

    Attributes:
        norm: the grey crop scaled so that paper is 0 and ink 1.
        top, baseline: the text line's rows (the cap or x-height, the baseline).
        edges: letter ``k`` spans columns ``edges[k]`` to ``edges[k + 1]``.
        mixed: the word has lower-case letters (the line's top is then the x-height).
    """

    norm: np.ndarray
    top: int
    baseline: int
    edges: np.ndarray
    mixed: bool

    def letter_top(self, k: int, base: str) -> float:
        """Row of the top of letter ``k``'s body (``base``: the letter without marks): the line's top, or for
        a capital in a mixed-case word (whose line top is the x-height) the top of its own ink."""
        if not (base.isupper() and self.mixed):
            return float(self.top)
        x0, x1 = self.edges[k], self.edges[k + 1]
        ink_rows = self.norm[:, max(int(x0), 0):max(int(np.ceil(x1)), int(x0) + 1)].max(axis=1) > 0.5
        r = self.baseline - 1
        while r > 0 and ink_rows[r - 1] and r > self.top - (self.baseline - self.top):
            r -= 1
        return float(r)

    def zone(self, ya: float, yb: float, xa: float, xb: float, shape: tuple[int, int]) -> np.ndarray:
        """The normalised crop's rows ``ya:yb`` and columns ``xa:xb`` (rounded; zero outside the crop),
        resized to ``shape``."""
        ya, yb, xa, xb = (int(round(v)) for v in (ya, yb, xa, xb))
        h, w = self.norm.shape
        zone = np.zeros((max(yb - ya, 1), max(xb - xa, 1)), np.float32)
        sy0, sy1, sx0, sx1 = max(ya, 0), min(yb, h), max(xa, 0), min(xb, w)
        if sy1 > sy0 and sx1 > sx0:
            zone[sy0 - ya:sy1 - ya, sx0 - xa:sx1 - xa] = self.norm[sy0:sy1, sx0:sx1]
        return cv2.resize(zone, shape[::-1], interpolation=cv2.INTER_AREA)

    def row(self, k: int, ya: float, yb: float, letters_wide: float, body: float, shape: tuple[int, int],
            lower: bool) -> np.ndarray:
        """A letter classifier's feature row for letter ``k`` (``numpy_cnn.ZoneClassifier``): the zone of rows
        ``ya:yb``, ``letters_wide`` times the letter's width (plus 0.1 ``body`` each side) centred on it,
        resized to ``shape`` and flattened, then the letter's width over ``body`` (its body height) and
        whether it is lower case."""
        x0, x1 = self.edges[k], self.edges[k + 1]
        half = letters_wide / 2 * (x1 - x0) + 0.1 * body
        cx = (x0 + x1) / 2
        small = self.zone(ya, yb, cx - half, cx + half, shape)
        extra = [(x1 - x0) / body, float(lower)]
        return np.concatenate([small.ravel(), np.asarray(extra, np.float32)]).astype(np.float32)


def line_layout(gray: np.ndarray, text: str) -> LineLayout | None:
    """The text line of a grey name crop and its letters laid along it, or ``None`` where no line is found.

    The text line is the longest run of rows dense with ink (its top: the cap or x-height, its bottom: the
    baseline); the letters of ``text`` (the word as read, with its case) are laid along the line's ink in
    proportion to :data:`WIDTHS`.
    """
    if gray.ndim != 2 or gray.size == 0 or not text:
        return None
    paper, ink = np.percentile(gray, 90), np.percentile(gray, 3)
    norm = np.clip((paper - gray.astype(np.float32)) / max(float(paper - ink), 1.0), 0.0, 1.0)
    binary = norm > 0.5
    rows = binary.mean(axis=1)
    band = longest_run(rows > 0.3 * rows.max()) if rows.max() > 0 else None
    if band is None or band[1] - band[0] < 6:
        return None
    top, baseline = band
    cols = np.flatnonzero(binary[top:baseline].sum(axis=0) >= 2)
    if cols.size < 2:
        return None
    left, right = int(cols[0]), int(cols[-1]) + 1
    widths = np.array([WIDTHS.get(unicodedata.normalize("NFD", c)[0], 0.7) for c in text])
    edges = left + np.concatenate([[0.0], np.cumsum(widths)]) * (right - left) / widths.sum()
    return LineLayout(norm, int(top), int(baseline), edges, any(c.islower() for c in text))
