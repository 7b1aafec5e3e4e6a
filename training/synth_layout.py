"""Layout building blocks for synthetic documents: labels in several languages, dates, field grids, MRZ, portrait."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from training import synth_texture as tex
from training.synth_text import BoxT, FontRef, TextLayer, WordBox, fit_size, font_path, text_width

#: Label texts: key -> language -> label.
LABELS: dict[str, dict[str, str]] = {
    "surname": {"en": "Surname", "fr": "Nom", "de": "Name", "es": "Apellidos", "it": "Cognome", "nl": "Naam",
                "pt": "Apelido", "pl": "Nazwisko", "sv": "Efternamn"},
    "given": {"en": "Given names", "fr": "Prénoms", "de": "Vornamen", "es": "Nombre", "it": "Nome",
              "nl": "Voornamen", "pt": "Nome", "pl": "Imiona", "sv": "Förnamn"},
    "dob": {"en": "Date of birth", "fr": "Date de naissance", "de": "Geburtsdatum", "es": "Fecha de nacimiento",
            "it": "Data di nascita", "nl": "Geboortedatum", "pt": "Data de nascimento", "pl": "Data urodzenia",
            "sv": "Födelsedatum"},
    "sex": {"en": "Sex", "fr": "Sexe", "de": "Geschlecht", "es": "Sexo", "it": "Sesso", "nl": "Geslacht",
            "pt": "Sexo", "pl": "Płeć", "sv": "Kön"},
    "nationality": {"en": "Nationality", "fr": "Nationalité", "de": "Staatsangehörigkeit", "es": "Nacionalidad",
                    "it": "Cittadinanza", "nl": "Nationaliteit", "pt": "Nacionalidade", "pl": "Obywatelstwo",
                    "sv": "Nationalitet"},
    "docno": {"en": "Document No.", "fr": "N° du document", "de": "Ausweisnummer", "es": "N.º de documento",
              "it": "N. documento", "nl": "Documentnummer", "pt": "N.º do documento", "pl": "Numer dokumentu",
              "sv": "Dokumentnummer"},
    "passno": {"en": "Passport No.", "fr": "N° du passeport", "de": "Pass-Nr.", "es": "N.º de pasaporte",
               "it": "N. passaporto", "nl": "Paspoortnummer", "pt": "N.º do passaporte", "pl": "Nr paszportu",
               "sv": "Passnummer"},
    "expiry": {"en": "Date of expiry", "fr": "Date d'expiration", "de": "Gültig bis", "es": "Fecha de caducidad",
               "it": "Scadenza", "nl": "Geldig tot", "pt": "Data de validade", "pl": "Data ważności",
               "sv": "Giltig till"},
    "issue": {"en": "Date of issue", "fr": "Date de délivrance", "de": "Ausstellungsdatum",
              "es": "Fecha de expedición", "it": "Data di rilascio", "nl": "Datum van afgifte",
              "pt": "Data de emissão", "pl": "Data wydania", "sv": "Utfärdandedatum"},
    "pob": {"en": "Place of birth", "fr": "Lieu de naissance", "de": "Geburtsort", "es": "Lugar de nacimiento",
            "it": "Luogo di nascita", "nl": "Geboorteplaats", "pt": "Local de nascimento",
            "pl": "Miejsce urodzenia", "sv": "Födelseort"},
    "authority": {"en": "Authority", "fr": "Autorité", "de": "Behörde", "es": "Autoridad", "it": "Autorità",
                  "nl": "Autoriteit", "pt": "Autoridade", "pl": "Organ wydający", "sv": "Myndighet"},
    "type": {"en": "Type", "fr": "Type", "de": "Typ", "es": "Tipo", "it": "Tipo", "nl": "Soort", "pt": "Tipo",
             "pl": "Typ", "sv": "Typ"},
    "code": {"en": "Code", "fr": "Code", "de": "Kode", "es": "Código", "it": "Codice", "nl": "Code",
             "pt": "Código", "pl": "Kod", "sv": "Kod"},
}
TITLES = {
    "id": {"en": "IDENTITY CARD", "fr": "CARTE NATIONALE D'IDENTITÉ", "de": "PERSONALAUSWEIS",
           "es": "DOCUMENTO NACIONAL DE IDENTIDAD", "it": "CARTA D'IDENTITÀ", "nl": "IDENTITEITSKAART",
           "pt": "CARTÃO DE CIDADÃO", "pl": "DOWÓD OSOBISTY", "sv": "IDENTITETSKORT"},
    "passport": {"en": "PASSPORT", "fr": "PASSEPORT", "de": "REISEPASS", "es": "PASAPORTE", "it": "PASSAPORTO",
                 "nl": "PASPOORT", "pt": "PASSAPORTE", "pl": "PASZPORT", "sv": "PASS"},
}
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "pl", "sv")
MONTHS_EN = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS_FR = ("JANV", "FÉVR", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOÛT", "SEPT", "OCT", "NOV", "DÉC")
DATE_STYLES = ("dmy_dot", "dmy_slash", "d_mon_y", "iso", "dmy_dash", "d_mon_fr_y", "dmy_space")


def format_date(date: dt.date, style: str) -> str:
    """``date`` printed in one of :data:`DATE_STYLES` (or ``"mdy_slash"`` for US licences)."""
    d, m, y = f"{date.day:02d}", f"{date.month:02d}", f"{date.year:04d}"
    return {
        "dmy_dot": f"{d}.{m}.{y}", "dmy_slash": f"{d}/{m}/{y}", "d_mon_y": f"{d} {MONTHS_EN[date.month - 1]} {y}",
        "iso": f"{y}-{m}-{d}", "dmy_dash": f"{d}-{m}-{y}", "dmy_space": f"{d} {m} {y}", "mdy_slash": f"{m}/{d}/{y}",
        "d_mon_fr_y": f"{d} {MONTHS_EN[date.month - 1]}/{MONTHS_FR[date.month - 1]} {y[2:]}",
    }[style]


@dataclass(frozen=True)
class Item:
    """One labelled value in a field grid."""

    label: str
    value: str
    field_name: str | None = None
    wide: bool = False


@dataclass(frozen=True)
class FieldText:
    """A key field as printed: text and the union box of its words."""

    text: str
    box: BoxT


@dataclass(frozen=True)
class Style:
    """Per-document random style: fonts, colours, label language(s), date style, case."""

    sans: str
    sans_bold: str
    serif_bold: str
    mono: str
    value_path: str
    label_colour: tuple[int, int, int]
    value_colour: tuple[int, int, int]
    accent: tuple[int, int, int]
    languages: tuple[str, ...]
    date_style: str
    upper_labels: bool
    numbered: bool

    def label(self, key: str, number: str = "") -> str:
        text = " / ".join(LABELS[key][lang] for lang in self.languages)
        text = text.upper() if self.upper_labels else text
        return f"{number}. {text}" if self.numbered and number else text


def random_style(rng: np.random.Generator, fonts_dir: Path, language: str) -> Style:
    """A random style whose first label language is ``language``."""
    languages = [language]
    if rng.random() < 0.6:
        other = "en" if language != "en" and rng.random() < 0.7 else str(rng.choice(LANGUAGES))
        if other != language:
            languages.append(other)
    choice = lambda: int(rng.integers(0, 16))  # noqa: E731
    value_role = str(rng.choice(["sans_bold", "sans", "serif_bold", "mono"], p=[0.45, 0.25, 0.2, 0.1]))
    return Style(
        sans=font_path(fonts_dir, "sans", choice()), sans_bold=font_path(fonts_dir, "sans_bold", choice()),
        serif_bold=font_path(fonts_dir, "serif_bold", choice()), mono=font_path(fonts_dir, "mrz", choice()),
        value_path=font_path(fonts_dir, value_role, choice()),
        label_colour=tex.ink(rng, 0.45), value_colour=tuple(int(v) for v in rng.integers(0, 50, 3)),  # type: ignore[arg-type]
        accent=tex.ink(rng, 0.55), languages=tuple(languages),
        date_style=str(rng.choice(DATE_STYLES)), upper_labels=bool(rng.random() < 0.35),
        numbered=bool(rng.random() < 0.2),
    )


@dataclass
class Page:
    """A flat document under construction: background array, then text on a PIL image, with ground truth."""

    rng: np.random.Generator
    width: int
    height: int
    style: Style
    fields: dict[str, FieldText] = field(default_factory=dict)
    portrait_box: BoxT | None = None

    def __post_init__(self) -> None:
        base = tex.ground(self.rng, self.width, self.height)
        tex.guilloche(base, self.rng, int(self.rng.integers(2, 5)))
        if self.rng.random() < 0.6:
            tex.microlines(base, self.rng, float(self.rng.uniform(4, 12)))
        self.image = Image.fromarray(base)
        self.layer = TextLayer(self.image)

    @property
    def words(self) -> list[WordBox]:
        return self.layer.words

    def band(self, box: BoxT, colour: tuple[int, int, int], alpha: int = 255) -> None:
        """Fill a rectangle (header band, MRZ zone) with ``colour``."""
        self.layer.draw.rectangle([round(v) for v in box], fill=(*colour, alpha))

    def text(self, x: float, y: float, text: str, font: FontRef, fill: tuple[int, ...],
             field_name: str | None = None) -> BoxT:
        box = self.layer.text(x, y, text, font, fill, field_name)
        if field_name is not None:
            self.fields[field_name] = FieldText(text, box)
        return box

    def fitted(self, path: str, text: str, size: int, max_width: float) -> FontRef:
        return fit_size(path, text, size, max_width)

    def portrait(self, face: np.ndarray, box: BoxT, grey: bool) -> None:
        """Paste ``face`` (RGB) centre-cropped to ``box``; record the portrait box."""
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        w, h = x1 - x0, y1 - y0
        fh, fw = face.shape[:2]
        scale = max(w / fw, h / fh)
        resized = cv2.resize(face, (max(w, int(np.ceil(fw * scale))), max(h, int(np.ceil(fh * scale)))),
                             interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        oy, ox = (resized.shape[0] - h) // 2, (resized.shape[1] - w) // 2
        crop = resized[oy:oy + h, ox:ox + w]
        if grey:
            crop = np.repeat(crop.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
        self.image.paste(Image.fromarray(crop), (x0, y0))
        self.portrait_box = (float(x0), float(y0), float(x1), float(y1))

    def ghost(self, face: np.ndarray, box: BoxT, alpha: float = 0.22) -> None:
        """A faded grey copy of the portrait (second security image), blended into ``box``."""
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return
        small = cv2.resize(face, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA).mean(axis=2, keepdims=True)
        arr = np.asarray(self.image).copy()
        patch = arr[y0:y1, x0:x1].astype(np.float32)
        arr[y0:y1, x0:x1] = np.clip(patch * (1 - alpha) + small * alpha, 0, 255).astype(np.uint8)
        self.image.paste(Image.fromarray(arr))

    def grid(self, items: list[Item], region: BoxT, label_size: int, value_size: int, columns: int) -> None:
        """Lay out labelled values in ``region``: wide items take a row, others share rows of ``columns``."""
        x0, y0, x1, y1 = region
        for scale in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.42):
            ls, vs = max(9, int(label_size * scale)), max(10, int(value_size * scale))
            rows = _rows(items, columns)
            lab_h = self.layer.line_height(FontRef(self.style.sans, ls))
            val_h = self.layer.line_height(FontRef(self.style.value_path, vs))
            gap = max(2, int(vs * 0.35))
            need = len(rows) * (lab_h + val_h + gap + 1) - gap
            if need <= y1 - y0:
                break
        spare = (y1 - y0) - need
        y = y0 + max(0.0, spare * float(self.rng.uniform(0.0, 0.6)))
        extra = max(0.0, spare * 0.4 / max(len(rows), 1))
        for row in rows:
            col_w = (x1 - x0) / len(row)
            for j, item in enumerate(row):
                cx = x0 + j * col_w
                label_font = self.fitted(self.style.sans, item.label, ls, col_w - 6)
                self.layer.text(cx, y, item.label, label_font, self.style.label_colour)
                value_font = self.fitted(self.style.value_path, item.value, vs, col_w - 6)
                self.text(cx, y + lab_h + 1, item.value, value_font, self.style.value_colour, item.field_name)
            y += lab_h + val_h + gap + 1 + extra

    def mrz(self, lines: tuple[str, ...], region: BoxT) -> BoxT:
        """Draw MRZ lines filling ``region`` width with the monospace font; return their union box."""
        x0, y0, x1, y1 = region
        font = fit_size(self.style.mono, lines[0], int((y1 - y0) / len(lines)), x1 - x0)
        lh = (y1 - y0) / len(lines)
        boxes = []
        for i, line in enumerate(lines):
            pad = (x1 - x0 - text_width(font, line)) / 2
            boxes.append(self.layer.text(x0 + pad, y0 + i * lh + (lh - self.layer.line_height(font)) / 2, line,
                                         font, (20, 20, 20)))
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))

    def specimen(self, box: BoxT) -> None:
        """Print ``SPECIMEN`` in red across ``box`` (the generated documents are specimens)."""
        x0, y0, x1, y1 = box
        font = fit_size(self.style.sans_bold, "SPECIMEN", int(y1 - y0), (x1 - x0) * 0.95)
        w = text_width(font, "SPECIMEN")
        self.layer.text(x0 + (x1 - x0 - w) / 2, y0, "SPECIMEN", font, (200, 20, 30, 215))

    def finish(self, hologram_box: BoxT | None) -> np.ndarray:
        """The flat document as an RGB array, with an optional hologram blended in."""
        arr = np.array(self.image.convert("RGB"))
        if hologram_box is not None:
            tex.hologram(arr, self.rng, tuple(int(v) for v in hologram_box), float(self.rng.uniform(0.15, 0.3)))
        return arr


def _rows(items: list[Item], columns: int) -> list[list[Item]]:
    rows: list[list[Item]] = []
    current: list[Item] = []
    for item in items:
        if item.wide:
            if current:
                rows.append(current)
                current = []
            rows.append([item])
            continue
        current.append(item)
        if len(current) == columns:
            rows.append(current)
            current = []
    if current:
        rows.append(current)
    return rows
