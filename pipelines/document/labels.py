"""Name lines by their printed labels: which line holds the surname and which the given names.

The UNET tells name lines from the rest of the card well, but it often swaps the surname and the
given names (IoU 0.50 / 0.56 against 0.88 for the ID number): the two look alike and their order
changes from one document design to the next. Every design prints a label just above each value,
left-aligned with it ("Surname / Nom", "2. Vornamen", "1", "LN"), and that label says which name
it is. This stage reads the label above each line the UNET took for a name (Tesseract, Latin
script), looks it up in a lexicon of ICAO 9303 / AAMVA labels in the languages VEID supports, and
re-assigns the first- and last-name fields where a label says otherwise; a line under another
field's label ("EYES", "Nationality") is no name at all. Lines whose label cannot be read or is not
in the lexicon keep the UNET's choice. A key field left without a line (the UNET painted none, or
a label took it away: licence fronts, whose items a design may print in any order) is looked for
under the labels of the value lines no field holds ("DLN", "DOB", "LN"; captions and titles are told
from values by their height). A misread caption about as close to two fields' captions ("FAST NAME")
decides nothing.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, replace

import numpy as np

from models.field_words import line_groups
from pipelines.document.captions import CaptionReader
from pipelines.document.fields import FieldLayout, Preprocess, line_field_box, preprocess, text_lines
from pipelines.document.tesseract import Tesseract
from veid.types import FIELD_CLASS, Box, Field

#: What :func:`read_label` returns for the label of a field VEID does not read (sex, nationality...).
OTHER = "other"

#: Printed labels (upper case, no diacritics) of the key fields, and of the others (:data:`OTHER`): ICAO 9303
#: field captions in English, French, German, Spanish, Italian, Dutch, Portuguese, Polish and Swedish, and
#: the AAMVA licence captions (numbered "1"/"2" and the LN/FN/DLN/DOB abbreviations). "LAST" and "FIRST" stand
#: alone when the caption's second word was not read.
LEXICON: dict[Field | str, tuple[str, ...]] = {
    Field.LAST_NAME: ("SURNAME", "SURNAMES", "LAST NAME", "FAMILY NAME", "LN", "NOM", "NOM DE FAMILLE", "NAME",
                      "NACHNAME", "FAMILIENNAME", "APELLIDOS", "APELLIDO", "COGNOME", "NAAM", "ACHTERNAAM",
                      "APELIDO", "APELIDOS", "NAZWISKO", "EFTERNAMN", "1", "LAST"),
    Field.FIRST_NAME: ("GIVEN NAMES", "GIVEN NAME", "FIRST NAME", "FIRST NAMES", "FORENAMES", "FN", "PRENOMS",
                       "PRENOM", "VORNAMEN", "VORNAME", "NOMBRE", "NOMBRES", "NOME", "NOMI", "VOORNAMEN", "VOORNAAM",
                       "IMIONA", "IMIE", "FORNAMN", "2", "FIRST"),
    Field.ID_NUMBER: ("DLN", "LICENSE NO", "LICENCE NO", "DL NO", "DOCUMENT NO", "DOCUMENT NUMBER", "PASSPORT NO",
                      "CARD NO", "N DU DOCUMENT", "N DU PASSEPORT", "AUSWEISNUMMER", "PASS NR", "N DE DOCUMENTO",
                      "N DE PASAPORTE", "N DOCUMENTO", "N PASSAPORTO", "DOCUMENTNUMMER", "PASPOORTNUMMER",
                      "N DO DOCUMENTO", "N DO PASSAPORTE", "NUMER DOKUMENTU", "NR PASZPORTU", "DOKUMENTNUMMER",
                      "PASSNUMMER"),
    Field.DATE_OF_BIRTH: ("DATE OF BIRTH", "DOB", "BIRTH DATE", "DATE DE NAISSANCE", "GEBURTSDATUM", "GEBURTSTAG",
                          "FECHA DE NACIMIENTO", "DATA DI NASCITA", "GEBOORTEDATUM", "DATA DE NASCIMENTO",
                          "DATA URODZENIA", "FODELSEDATUM"),
    OTHER: ("PLACE OF BIRTH", "NATIONALITY", "SEX", "DATE OF ISSUE", "DATE OF EXPIRY", "AUTHORITY", "PERSONAL NO",
            "HEIGHT", "SIGNATURE", "ISSUING STATE", "COUNTRY CODE", "EXP", "EXPIRES", "ISS", "ISSUED", "HGT", "WGT",
            "EYES", "HAIR", "CLASS", "ADDR", "ADDRESS", "RESTRICTIONS", "ENDORSEMENTS", "LIEU DE NAISSANCE",
            "NATIONALITE", "SEXE", "DATE DE DELIVRANCE", "DATE D EXPIRATION", "AUTORITE", "STAATSANGEHORIGKEIT",
            "GEBURTSORT", "GESCHLECHT", "GULTIG BIS", "AUSSTELLUNGSDATUM", "BEHORDE", "LUGAR DE NACIMIENTO",
            "NACIONALIDAD", "SEXO", "FECHA DE EXPEDICION", "FECHA DE CADUCIDAD", "AUTORIDAD", "LUOGO DI NASCITA",
            "CITTADINANZA", "SESSO", "SCADENZA", "DATA DI RILASCIO", "AUTORITA", "GEBOORTEPLAATS", "NATIONALITEIT",
            "GESLACHT", "GELDIG TOT", "DATUM VAN AFGIFTE", "LOCAL DE NASCIMENTO", "NACIONALIDADE", "DATA DE VALIDADE",
            "DATA DE EMISSAO", "MIEJSCE URODZENIA", "OBYWATELSTWO", "PLEC", "DATA WAZNOSCI", "DATA WYDANIA",
            "FODELSEORT", "KON", "NATIONALITET", "GILTIG TILL",
            "DRIVER LICENSE", "DRIVERS LICENSE", "DRIVER LICENCE", "IDENTITY CARD", "PASSPORT"),  # titles
}
_ENTRIES = [(entry, f) for f, entries in LEXICON.items() for entry in entries]
NAME_FIELDS = (Field.FIRST_NAME, Field.LAST_NAME)
#: The fields a line is looked for under the labels when the UNET painted none.
SCAN_FIELDS = (*NAME_FIELDS, Field.ID_NUMBER, Field.DATE_OF_BIRTH)


@dataclass(frozen=True)
class LabelReading(Preprocess):
    """One way of reading a label crop: a :class:`Preprocess` and a traineddata. Small, thin label print
    reads differently under each; the first reading whose text names a field decides."""

    lang: str = "eng"


@dataclass(frozen=True)
class LabelConfig:
    """Label-reading tunables (``params.yaml`` section ``document_labels``).

    Attributes:
        enabled: read the labels at all (off: the UNET's assignment stands).
        min_similarity: least similarity (``difflib`` ratio, 0..1) of a label part to a lexicon entry;
            entries of four letters or fewer ("NOM", "NOME", "NAAM", "LN") must match exactly.
        max_gap: how far above the value line its label may end, in value-line heights.
        min_coverage: least share of a word inside the first- or last-name mask (either: a line the UNET
            painted with the wrong name still counts) for its line to be considered a name line.
        strip_height: when CRAFT found no words above a value (label print can be too small for it), the
            strip this many value heights high just above the value is read instead.
        caption_height: when the line above a value is at least this many value heights high and names no
            field, it may be the value above (CRAFT missed the small caption between them): the strip is
            read then too, also while scanning (0: off).
        readings: the ways a label crop is read, in order (see :class:`LabelReading`).
        complete_swaps: where the label of one name sits on another line than the one the UNET painted as that
            name, and no label names the other name, the line the UNET painted is taken for the other name
            (the UNET finds the name lines but swaps them).
        scan_lines: when a key field has no line after that (the UNET painted none, or a label took it away),
            the labels above this many of the lines no field holds are read to find it (0: off).
    """

    enabled: bool = True
    min_similarity: float = 0.75
    max_gap: float = 1.2
    min_coverage: float = 0.3
    strip_height: float = 0.75
    caption_height: float = 0.0
    complete_swaps: bool = False
    scan_lines: int = 16
    readings: tuple[LabelReading, ...] = (LabelReading(48, "none", "none"), LabelReading(32, "none", "otsu"),
                                          LabelReading(40, "median", "adaptive", 31, lang="Latin"))


def _tokens(text: str) -> list[str]:
    """Label words: upper case, diacritics removed, punctuation dropped; slashes and the marks OCR reads
    for them (``| } { ; :``, a lone ``I`` or ``L`` between words) become ``/``; a field number OCR joined
    to its caption is split from it (``1SURNAME``)."""
    text = unicodedata.normalize("NFKD", text.upper().replace("Ł", "L").replace("Ø", "O"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\b(\d+)([A-Z]{3,})", r"\1 \2", text)
    text = re.sub(r"[|{}\\;:!?]", " / ", text)
    words = re.sub(r"[^A-Z0-9/ ]", " ", text).replace("/", " / ").split()
    return ["/" if w in ("I", "L", "J") and 0 < i < len(words) - 1 else w for i, w in enumerate(words)]


def _similarity(span: str, entry: str) -> float:
    """``difflib`` ratio of two label texts; entries or spans of four characters or fewer must match exactly."""
    if len(entry) <= 4 or len(span) <= 4:
        return 1.0 if span == entry else 0.0
    return difflib.SequenceMatcher(None, span, entry).ratio()


#: A misread caption closer to one field's entries than to another's by less than this names neither
#: ("FAST NAME": LAST NAME 0.89, FIRST NAME 0.84).
MIN_MARGIN = 0.06


def _match_span(span: str, min_similarity: float) -> tuple[float, Field | str | None]:
    """Best lexicon score of one span and its field (``None`` when another field scores within
    :data:`MIN_MARGIN` of it, short of an exact match)."""
    per_field: dict[Field | str, float] = {}
    for entry, f in _ENTRIES:
        per_field[f] = max(per_field.get(f, 0.0), _similarity(span, entry))
    ranked = sorted(per_field.items(), key=lambda kv: -kv[1])
    (best_field, best), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
    if best < min_similarity:
        return 0.0, None
    exact = best >= 1.0 and runner_up < best
    return best, (best_field if exact or best - runner_up >= MIN_MARGIN else None)


def read_label(text: str, min_similarity: float = 0.75) -> Field | str | None:
    """The field a printed label announces: a key :class:`Field`, :data:`OTHER` (a field VEID does not
    read), or ``None`` (unreadable, not a label, ambiguous).

    Labels are bilingual ("Surname / Nom"), numbered ("1. SURNAME", "4d DLN") or a bare AAMVA number ("1"
    surname, "2" given names). Runs of one to three words are looked up, longest first, so "GIVEN NAMES"
    is read as one caption rather than "NAMES" as a misread "SURNAMES"; every caption found must name the
    same field.
    """
    tokens = _tokens(text)
    if len(tokens) == 1 and tokens[0].isdigit():
        return {"1": Field.LAST_NAME, "2": Field.FIRST_NAME}.get(tokens[0])
    words = [t for t in tokens if not t.isdigit()]  # field numbers ("2. VORNAMEN") say nothing outside AAMVA
    used = [w == "/" for w in words]
    verdicts = set()
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            if any(used[i:i + n]):
                continue
            score, f = _match_span(" ".join(words[i:i + n]), min_similarity)
            if score:
                verdicts.add(f)
                used[i:i + n] = [True] * n
    verdicts.discard(None)
    return verdicts.pop() if len(verdicts) == 1 else None


def classify_label(text: str, min_similarity: float = 0.75) -> Field | None:
    """The name field a printed label announces, or ``None`` (another field, unreadable, ambiguous)."""
    f = read_label(text, min_similarity)
    return f if f in NAME_FIELDS else None


def label_box(bounds: list[Box], value: Box, max_gap: float = 1.2) -> Box | None:
    """The label printed just above ``value``: the lowest text line ending within ``max_gap`` value heights
    above it whose leftmost word starts near the value's left edge; ``None`` when there is none.

    A line starting more than half a value height right of the value reaches back to its left edge: captions
    are aligned with their values, and a first word CRAFT missed ("FIRST" of "FIRST NAME") would leave
    "NAME", a surname caption of its own."""
    h = value.height
    above = [k for k, b in enumerate(bounds)
             if value.y0 - max_gap * h <= b.y1 <= value.y0 + 0.35 * h and b.height < 1.5 * h
             and b.x1 > value.x0 - h and b.x0 < value.x1]
    best = None
    for line in line_groups(bounds, above):
        left = min(bounds[k].x0 for k in line)
        if abs(left - value.x0) > 1.5 * h:  # a label belongs to the value below its start, not to a neighbour
            continue
        box = bounds[line[0]]
        for k in line[1:]:
            box = box.union(bounds[k])
        if best is None or box.y1 > best.y1:
            best = box
    if best is not None and best.x0 > value.x0 + 0.5 * h:  # the caption's first word is missing
        best = Box(value.x0 - 0.1 * h, best.y0, best.x1, best.y1)
    return best


def label_strip(value: Box, strip_height: float = 0.75) -> Box:
    """Where a label too small for CRAFT would be: a strip ``strip_height`` value heights high just above
    ``value``, from its left edge, at least eight value heights wide (labels may be longer than names)."""
    h = value.height
    return Box(value.x0 - 0.2 * h, value.y0 - strip_height * h, value.x0 + max(value.width, 8 * h), value.y0)


class NameLabels:
    """``FieldLayout -> FieldLayout`` with the first/last-name fields set by their printed labels.

    Args:
        cfg: tunables.
        extend: ``(extend_x, extend_y)`` of a re-assigned line's box, as fractions of its height, as the
            locator extends its field boxes.
        captions: the caption classifier, asked where no reading of a caption named a field
            (``pipelines/document/captions.py``); ``None``: Tesseract's readings alone decide.
    """

    def __init__(self, cfg: LabelConfig | None = None, extend: tuple[float, float] = (0.35, 0.2),
                 captions: CaptionReader | None = None) -> None:
        self.cfg, self.extend, self.captions = cfg or LabelConfig(), extend, captions
        self._engines = {lang: Tesseract(psm=7, lang=lang) for lang in {r.lang for r in self.cfg.readings}}

    def classify(self, image: np.ndarray, box: Box) -> Field | str | None:
        """The field the label in ``box`` (image pixels) announces (see :func:`read_label`): the first reading
        that names one decides."""
        pad = 0.15 * box.height
        b = box.expand(pad, pad).clip(image.shape[1], image.shape[0])
        crop = image[int(b.y0):int(np.ceil(b.y1)), int(b.x0):int(np.ceil(b.x1))]
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            return None
        for reading in self.cfg.readings:
            text = self._engines[reading.lang].read(preprocess(crop, reading)).text
            if (f := read_label(text, self.cfg.min_similarity)) is not None:
                return f
        return None

    def _candidates(self, layout: FieldLayout) -> list[tuple[tuple[int, ...], float]]:
        """Lines whose words the first- or last-name mask covers: ``(word indices, mean name coverage)``."""
        cover = layout.coverage
        bounds = [w.quad.bounds() for w in layout.words]
        if cover is None or not bounds:
            return []
        name_cover = cover[:, [FIELD_CLASS[f] - 1 for f in NAME_FIELDS]].max(axis=1)
        mine = [k for k in range(len(bounds)) if name_cover[k] >= self.cfg.min_coverage]
        others = layout.word_indices(f for f in layout.fields if f not in NAME_FIELDS)
        free = [k for k in range(len(bounds)) if k not in others]
        out = []
        for line in line_groups(bounds, mine):
            # the whole text line: words the masks missed ("JAN" of "JAN MIKKEL") join their neighbours
            full = next(g for g in line_groups(bounds, free + [k for k in line if k in others]) if line[0] in g)
            full.sort(key=lambda k: bounds[k].x0)
            out.append((tuple(full), float(np.mean(name_cover[line]))))
        return out

    def __call__(self, layout: FieldLayout) -> FieldLayout:
        """The layout with its name fields re-assigned where the labels say so (unchanged otherwise)."""
        if not self.cfg.enabled or layout.image is None:
            return layout
        bounds = [w.quad.bounds() for w in layout.words]
        labelled: dict[Field, list[tuple[tuple[int, ...], float]]] = {f: [] for f in NAME_FIELDS}
        disowned: set[int] = set()  # words of lines under another field's label
        for line, score in self._candidates(layout):
            f = self._label_of(layout.image, bounds, line)
            if f in NAME_FIELDS:
                labelled[f].append((line, score))
            elif f is not None:
                disowned.update(line)
        fields = dict(layout.fields)
        claimed = {k for lines in labelled.values() for line, _ in lines for k in line}
        for f in NAME_FIELDS:
            if labelled[f]:
                line, score = max(labelled[f], key=lambda c: c[1])
                fields[f] = line_field_box(layout, f, line, self.extend, score)
            elif f in fields and (claimed | disowned) & layout.word_indices([f]):
                del fields[f]  # the UNET's line for this field carries the other name's label, or another field's
        if self.cfg.complete_swaps:
            for f, g in zip(NAME_FIELDS, NAME_FIELDS[::-1]):
                # the UNET swapped the names: g's label is on another line than the one it painted as g, and no
                # label names f: the line painted as g is f's
                old = layout.word_indices([g])
                if f not in fields and not labelled[f] and labelled[g] and old and not old & (claimed | disowned):
                    fields[f] = line_field_box(layout, f, tuple(sorted(old, key=lambda k: bounds[k].x0)), self.extend,
                                               layout.fields[g].mask_score)
        out = replace(layout, fields=fields) if fields != layout.fields else layout
        missing = [f for f in SCAN_FIELDS if f not in out.fields]
        if not missing or not layout.fields or self.cfg.scan_lines <= 0:  # no field at all: no front, no labels
            return out
        return self._scan(out, bounds, missing)

    def _label_of(self, image: np.ndarray, bounds: list[Box], line: tuple[int, ...],
                  strip: bool = True) -> Field | str | None:
        """The field (or :data:`OTHER`) the label above the text line ``line`` (word indices) announces;
        with ``strip``, the strip above it is read when CRAFT found no label line there."""
        value = bounds[line[0]]
        for k in line[1:]:
            value = value.union(bounds[k])
        lbox = label_box(bounds, value, self.cfg.max_gap)
        lboxes = [lbox]
        if lbox is not None and 0 < self.cfg.caption_height * value.height <= lbox.height:
            strip = True  # a line as tall as a value: maybe the value above, its caption too small for CRAFT
        if strip:
            lboxes.append(label_strip(value, self.cfg.strip_height))
        for lbox in lboxes:
            if lbox is not None and (f := self.classify(image, lbox)) is not None:
                return f
        if self.captions is not None:  # no reading named a field: the caption classifier reads its shape
            name, _ = self.captions(image, value)
            if name is not None:
                return OTHER if name == OTHER else Field(name)
        return None

    def _scan(self, layout: FieldLayout, bounds: list[Box], missing: list[Field]) -> FieldLayout:
        """``layout`` with each field in ``missing`` set to the first line no field holds whose label names it
        (lines the missing fields' masks touch first, then top to bottom; at most ``scan_lines`` of those
        whose text is about as high as the values the layout holds)."""
        fields = dict(layout.fields)
        lines = text_lines(layout, layout.word_indices(fields), tuple(missing), values_only=True)
        for line in lines[:self.cfg.scan_lines]:
            f = self._label_of(layout.image, bounds, line, strip=False)  # a word-less strip reads too loosely
            if f in missing:
                fields[f] = line_field_box(layout, f, line, self.extend, 0.0)
                missing.remove(f)
                if not missing:
                    break
        return replace(layout, fields=fields) if len(fields) > len(layout.fields) else layout
