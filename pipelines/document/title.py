"""The document family from its printed title, when neither an MRZ nor a barcode says it.

A US licence front carries no MRZ and its PDF417 is on the back, so a photo of the front has only
its outline to go by: an ID-1 card. On a skewed capture that outline can read as a passport page
(their aspect ratios, 1.59 and 1.42, lie close), the family stays unknown, and VEID then does not
guess the order of a date like 08/04/1943 (US licences print month first, ICAO documents day
first). Licences of AAMVA jurisdictions title themselves "DRIVER LICENSE" (or "DRIVER'S LICENSE",
"DRIVER LICENCE") at the top of the card. This stage reads the text lines at the top of the
document and looks for that title; it says nothing when it does not find it. A European
"DRIVING LICENCE" or "PERMIS DE CONDUIRE" is not an AAMVA licence and is not matched.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from models.field_words import line_groups
from pipelines.document.fields import FieldLayout, Preprocess, preprocess
from pipelines.document.tesseract import Tesseract
from veid.types import DocumentFamily

#: Titles (upper case, letters only, one space between words) and the family each announces.
TITLES: dict[str, DocumentFamily] = {
    "DRIVER LICENSE": DocumentFamily.DRIVER_LICENSE_AAMVA,
    "DRIVERS LICENSE": DocumentFamily.DRIVER_LICENSE_AAMVA,
    "DRIVER LICENCE": DocumentFamily.DRIVER_LICENSE_AAMVA,
}


@dataclass(frozen=True)
class TitleConfig:
    """Title-reading tunables (``params.yaml`` section ``document_title``).

    Attributes:
        enabled: read the title when the family is otherwise unknown.
        top_fraction: text lines whose centre lies in this top share of the document's height are read.
        max_lines: most of those lines read (top first).
        min_similarity: least ``difflib`` ratio of two consecutive words to a title ("DRIVFR LICENSE" counts).
        reading: how a line crop is prepared for Tesseract.
    """

    enabled: bool = True
    top_fraction: float = 0.3
    max_lines: int = 3
    min_similarity: float = 0.85
    reading: Preprocess = Preprocess(48, "none", "none")


def _words(text: str) -> list[str]:
    """Upper-case words of letters only, diacritics and apostrophes dropped ("DRIVER'S" -> "DRIVERS")."""
    text = unicodedata.normalize("NFKD", text.upper().replace("'", "").replace("’", ""))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^A-Z]+", " ", text).split()


def classify_title(text: str, min_similarity: float = 0.85) -> DocumentFamily | None:
    """The family a printed title line announces, or ``None``: some two consecutive words read as a title."""
    words = _words(text)
    best, family = 0.0, None
    for a, b in zip(words, words[1:]):
        pair = f"{a} {b}"
        for title, fam in TITLES.items():
            score = difflib.SequenceMatcher(None, pair, title).ratio()
            if score > best:
                best, family = score, fam
    return family if best >= min_similarity else None


class TitleReader:
    """``(image, FieldLayout) -> DocumentFamily | None``: the family the title at the top of the document names."""

    def __init__(self, cfg: TitleConfig | None = None) -> None:
        self.cfg = cfg or TitleConfig()
        self._engine = Tesseract(psm=7, lang="eng")

    def top_lines(self, layout: FieldLayout) -> list[tuple[int, ...]]:
        """Text lines (indices into ``layout.words``, left to right) centred in the top band, top first."""
        bounds = [w.quad.bounds() for w in layout.words]
        top = [k for k, w in enumerate(layout.words) if w.centre_ratio[1] < self.cfg.top_fraction]
        lines = [tuple(sorted(g, key=lambda k: bounds[k].x0)) for g in line_groups(bounds, top)]
        return sorted(lines, key=lambda ln: min(bounds[k].y0 for k in ln))[:self.cfg.max_lines]

    def __call__(self, image: np.ndarray, layout: FieldLayout) -> DocumentFamily | None:
        if not self.cfg.enabled:
            return None
        h, w = image.shape[:2]
        for line in self.top_lines(layout):
            box = layout.words[line[0]].quad.bounds()
            for k in line[1:]:
                box = box.union(layout.words[k].quad.bounds())
            b = box.expand(0.3 * box.height, 0.2 * box.height).clip(w, h)
            crop = image[int(b.y0):int(np.ceil(b.y1)), int(b.x0):int(np.ceil(b.x1))]
            if crop.shape[0] < 4 or crop.shape[1] < 4:
                continue
            family = classify_title(self._engine.read(preprocess(crop, self.cfg.reading)).text,
                                    self.cfg.min_similarity)
            if family is not None:
                return family
        return None
