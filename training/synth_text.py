"""Character-by-character text drawing with exact character and word boxes (CRAFT ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from veid.errors import InputError

#: Font files by role, relative to /usr/share/fonts (Debian fonts-dejavu, -liberation, -freefont-ttf, -ocr-b).
FONT_FILES = {
    "sans": ("truetype/dejavu/DejaVuSans.ttf", "truetype/liberation/LiberationSans-Regular.ttf",
             "truetype/freefont/FreeSans.ttf", "truetype/dejavu/DejaVuSansCondensed.ttf",
             "truetype/liberation/LiberationSansNarrow-Regular.ttf"),
    "sans_bold": ("truetype/dejavu/DejaVuSans-Bold.ttf", "truetype/liberation/LiberationSans-Bold.ttf",
                  "truetype/freefont/FreeSansBold.ttf", "truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
                  "truetype/liberation/LiberationSansNarrow-Bold.ttf"),
    "serif": ("truetype/dejavu/DejaVuSerif.ttf", "truetype/liberation/LiberationSerif-Regular.ttf",
              "truetype/freefont/FreeSerif.ttf", "truetype/dejavu/DejaVuSerifCondensed.ttf"),
    "serif_bold": ("truetype/dejavu/DejaVuSerif-Bold.ttf", "truetype/liberation/LiberationSerif-Bold.ttf",
                   "truetype/freefont/FreeSerifBold.ttf", "truetype/dejavu/DejaVuSerifCondensed-Bold.ttf"),
    "mono": ("truetype/dejavu/DejaVuSansMono.ttf", "truetype/liberation/LiberationMono-Regular.ttf",
             "truetype/freefont/FreeMonoBold.ttf", "truetype/dejavu/DejaVuSansMono-Bold.ttf",
             "truetype/liberation/LiberationMono-Bold.ttf"),
    # MRZ: OCR-B (Debian fonts-ocr-b) most of the time, other monospace fonts for variety
    "mrz": ("opentype/ocr-b/OCRB.otf", "opentype/ocr-b/OCRBS.otf", "opentype/ocr-b/OCRB.otf",
            "truetype/dejavu/DejaVuSansMono.ttf", "opentype/ocr-b/OCRBS.otf", "truetype/liberation/LiberationMono-Regular.ttf",
            "opentype/ocr-b/OCRB.otf", "truetype/dejavu/DejaVuSansMono-Bold.ttf"),
}

BoxT = tuple[float, float, float, float]  # x0, y0, x1, y1 in flat-document pixels


@dataclass(frozen=True)
class CharBox:
    """One drawn non-space character and its ink box."""

    c: str
    box: BoxT


@dataclass(frozen=True)
class WordBox:
    """One drawn word: text, the key field it belongs to (or ``None``), its box and its characters."""

    text: str
    field: str | None
    box: BoxT
    chars: tuple[CharBox, ...]


@dataclass(frozen=True)
class FontRef:
    """A font file and pixel size."""

    path: str
    size: int


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached FreeType font (cache is per process)."""
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise InputError(f"cannot load font {path}: {exc}") from exc


@lru_cache(maxsize=65536)
def _glyph(path: str, size: int, c: str) -> tuple[BoxT, float]:
    font = load_font(path, size)
    return font.getbbox(c, anchor="ls"), font.getlength(c)


def font_path(fonts_dir: Path, role: str, choice: int) -> str:
    """The ``choice``-th font file of ``role`` (wrapping around)."""
    files = FONT_FILES[role]
    return str(fonts_dir / files[choice % len(files)])


def text_width(font: FontRef, text: str) -> float:
    """Width in pixels of ``text`` drawn character by character."""
    return sum(_glyph(font.path, font.size, c)[1] for c in text)


def fit_size(path: str, text: str, size: int, max_width: float, min_size: int = 8) -> FontRef:
    """The largest size not above ``size`` at which ``text`` fits in ``max_width`` pixels."""
    font = FontRef(path, size)
    while size > min_size and text_width(font, text) > max_width:
        size = max(min_size, int(size * max_width / max(text_width(font, text), 1.0)))
        font = FontRef(path, size)
        if text_width(font, text) > max_width:
            size -= 1
            font = FontRef(path, size)
    return font


@dataclass
class TextLayer:
    """Draws text on a PIL image one character at a time and records every word and character box."""

    image: Image.Image
    words: list[WordBox] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.draw = ImageDraw.Draw(self.image, "RGBA")

    def line_height(self, font: FontRef) -> int:
        ascent, descent = load_font(font.path, font.size).getmetrics()
        return ascent + descent

    def text(self, x: float, y: float, text: str, font: FontRef, fill: tuple[int, ...],
             field_name: str | None = None, tracking: float = 0.0) -> BoxT:
        """Draw ``text`` with its top (ascender line) at ``y``; return the union box of its words.

        Args:
            x, y: top-left of the line in pixels.
            text: words separated by single spaces.
            font: font file and size.
            fill: RGB or RGBA colour.
            field_name: key field the words belong to (``"last_name"`` ...), or ``None``.
            tracking: extra pixels after every character.
        """
        pil_font = load_font(font.path, font.size)
        ascent, descent = pil_font.getmetrics()
        baseline = round(y + ascent)
        pen = float(x)
        union: list[float] = [1e9, 1e9, -1e9, -1e9]
        current: list[CharBox] = []
        start = pen

        def close_word() -> None:
            if not current:
                return
            x0 = min(c.box[0] for c in current)
            x1 = max(c.box[2] for c in current)
            y0 = min([baseline - ascent] + [c.box[1] for c in current])
            y1 = max([baseline + descent] + [c.box[3] for c in current])
            box = (float(min(x0, start)), float(y0), float(x1), float(y1))
            self.words.append(WordBox("".join(c.c for c in current), field_name, box, tuple(current)))
            for i, v in enumerate(box):
                union[i] = min(union[i], v) if i < 2 else max(union[i], v)
            current.clear()

        for c in text:
            (l, t, r, b), advance = _glyph(font.path, font.size, c)
            if c == " ":
                close_word()
                pen += advance + tracking
                start = pen
                continue
            px = round(pen)
            self.draw.text((px, baseline), c, font=pil_font, fill=fill, anchor="ls")
            if r > l and b > t:
                current.append(CharBox(c, (float(px + l), float(baseline + t), float(px + r), float(baseline + b))))
            pen += advance + tracking
        close_word()
        return (union[0], union[1], union[2], union[3])
