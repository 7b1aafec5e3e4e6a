"""The document templates: TD1 ID card front, TD3 passport data page, driver licence front and back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from PIL import Image

from training.synth_layout import TITLES, FieldText, Item, Page, Style, format_date, random_style
from training.synth_text import BoxT, FontRef, WordBox, fit_size, font_path, text_width

ID1_SIZE = (1012, 638)  # ID-1 card, about 300 dpi
TD3_SIZE = (1250, 880)  # passport data page (125 x 88 mm), about 254 dpi


@dataclass(frozen=True)
class DocContent:
    """What one document prints (values as printed, which a tampered document changes)."""

    family: str
    side: str
    first_name: str
    last_name: str
    birth_date: dt.date
    sex: str
    nationality: str
    issuing_state: str
    state_name: str
    language: str
    id_number: str
    issue_date: dt.date
    expiry_date: dt.date
    place_of_birth: str
    address: str
    mrz_lines: tuple[str, ...] | None
    barcode_payload: str | None
    portrait: np.ndarray | None  # RGB uint8; None on licence backs


@dataclass(frozen=True)
class RenderedDoc:
    """A flat document and its ground truth in flat pixel coordinates."""

    image: np.ndarray
    words: tuple[WordBox, ...]
    fields: dict[str, FieldText]
    portrait_box: BoxT | None
    mrz_box: BoxT | None
    barcode_box: BoxT | None
    date_style: str


def render(content: DocContent, rng: np.random.Generator, fonts_dir: Path) -> RenderedDoc:
    """Render ``content`` with a random layout of its family."""
    if content.family == "id_card_td1":
        return _td1(content, rng, fonts_dir)
    if content.family == "passport_td3":
        return _td3(content, rng, fonts_dir)
    if content.side == "back":
        return _dl_back(content, rng, fonts_dir)
    return _dl_front(content, rng, fonts_dir)


def _header(page: Page, title: str, subtitle: str, height: float, margin: float) -> None:
    style, rng = page.style, page.rng
    colour: tuple[int, ...] = style.accent
    if rng.random() < 0.5:
        page.band((0, 0, page.width, height), style.accent, int(rng.integers(140, 235)))
        colour = (255, 255, 255)
    centred = rng.random() < 0.5
    big = page.fitted(style.sans_bold if rng.random() < 0.7 else style.serif_bold, title, int(height * 0.42),
                      page.width - 2 * margin)
    small = page.fitted(style.sans, subtitle, int(height * 0.28), page.width - 2 * margin)
    order = [(subtitle, small), (title, big)] if rng.random() < 0.5 else [(title, big), (subtitle, small)]
    y = height * 0.08
    for text, font in order:
        x = (page.width - text_width(font, text)) / 2 if centred else margin
        page.text(x, y, text, font, colour)
        y += page.layer.line_height(font) + height * 0.04


def _portrait_and_region(page: Page, top: float, bottom: float, margin: float,
                         width_frac: float) -> tuple[BoxT, BoxT]:
    """A portrait box (3:4-ish, left or right) between ``top`` and ``bottom``, and the field region beside it."""
    rng = page.rng
    pw = page.width * width_frac
    ph = min(bottom - top, pw * 1.3)
    pw = ph / 1.3
    left = rng.random() < 0.75
    py = top + (bottom - top - ph) * float(rng.uniform(0, 1))
    px = margin if left else page.width - margin - pw
    pbox = (px, py, px + pw, py + ph)
    region = (px + pw + margin, top, page.width - margin, bottom) if left else (margin, top, px - margin, bottom)
    return pbox, region


def _finish_portrait(page: Page, content: DocContent, pbox: BoxT, region: BoxT) -> None:
    rng = page.rng
    assert content.portrait is not None
    if rng.random() < 0.5:  # ghost image in the corner of the field region (drawn before the text)
        gw = (region[2] - region[0]) * 0.22
        page.ghost(content.portrait, (region[2] - gw, region[3] - gw * 1.3, region[2], region[3]))
    page.portrait(content.portrait, pbox, grey=bool(rng.random() < 0.3))


def _specimen_and_hologram(page: Page, pbox: BoxT) -> np.ndarray:
    rng = page.rng
    x0, y0, x1, y1 = pbox
    h = y1 - y0
    sy = y0 + h * float(rng.uniform(0.6, 0.8))
    page.specimen((x0 - 4, sy, x1 + 4, sy + h * 0.16))
    cx, cy = (x0, y0) if rng.random() < 0.5 else (x1, y1)
    r = (x1 - x0) * float(rng.uniform(0.3, 0.55))
    return page.finish((cx - r, cy - r, cx + r, cy + r) if rng.random() < 0.85 else None)


def _shuffle(rng: np.random.Generator, items: list[Item]) -> list[Item]:
    order = rng.permutation(len(items))
    if rng.random() < 0.5:  # names first, as on most documents
        order = sorted(order, key=lambda i: 0 if items[i].field_name in ("last_name", "first_name") else 1)
    return [items[int(i)] for i in order]


def _done(page: Page, image: np.ndarray, mrz: BoxT | None = None, barcode: BoxT | None = None) -> RenderedDoc:
    return RenderedDoc(image, tuple(page.words), dict(page.fields), page.portrait_box, mrz, barcode,
                       page.style.date_style)


def _td1(content: DocContent, rng: np.random.Generator, fonts_dir: Path) -> RenderedDoc:
    w, h = ID1_SIZE
    style = random_style(rng, fonts_dir, content.language)
    page = Page(rng, w, h, style)
    m = w * 0.03
    head = h * float(rng.uniform(0.12, 0.16))
    _header(page, TITLES["id"][content.language], content.state_name, head, m)
    mrz_top = h * 0.72
    if rng.random() < 0.6:
        page.band((0, mrz_top - m * 0.3, w, h), (255, 255, 255), int(rng.integers(90, 200)))
    pbox, region = _portrait_and_region(page, head + m * 0.5, mrz_top - m * 0.6, m,
                                        float(rng.uniform(0.24, 0.29)))
    _finish_portrait(page, content, pbox, region)
    date = lambda d: format_date(d, style.date_style)  # noqa: E731
    items = [
        Item(style.label("surname", "1"), content.last_name.upper(), "last_name", True),
        Item(style.label("given", "2"), _case(rng, content.first_name), "first_name", True),
        Item(style.label("dob", "3"), date(content.birth_date), "date_of_birth"),
        Item(style.label("sex", "4"), content.sex),
        Item(style.label("nationality", "5"), content.nationality),
        Item(style.label("docno", "6"), content.id_number, "id_number"),
        Item(style.label("expiry", "7"), date(content.expiry_date)),
    ]
    page.grid(_shuffle(rng, items), region, int(rng.integers(15, 20)), int(rng.integers(24, 32)),
              int(rng.integers(2, 4)))
    assert content.mrz_lines is not None
    mrz = page.mrz(content.mrz_lines, (m, mrz_top, w - m, h - m * 0.4))
    return _done(page, _specimen_and_hologram(page, pbox), mrz=mrz)


def _td3(content: DocContent, rng: np.random.Generator, fonts_dir: Path) -> RenderedDoc:
    w, h = TD3_SIZE
    style = random_style(rng, fonts_dir, content.language)
    page = Page(rng, w, h, style)
    m = w * 0.025
    head = h * float(rng.uniform(0.1, 0.13))
    _header(page, TITLES["passport"][content.language], content.state_name, head, m)
    mrz_top = h * 0.8
    page.band((0, mrz_top - m * 0.3, w, h), (255, 255, 255), int(rng.integers(120, 220)))
    pbox, region = _portrait_and_region(page, head + m * 0.6, mrz_top - m * 0.8, m,
                                        float(rng.uniform(0.24, 0.28)))
    _finish_portrait(page, content, pbox, region)
    date = lambda d: format_date(d, style.date_style)  # noqa: E731
    items = [
        Item(style.label("type"), "P"), Item(style.label("code"), content.issuing_state),
        Item(style.label("passno"), content.id_number, "id_number"),
        Item(style.label("surname"), content.last_name.upper(), "last_name", True),
        Item(style.label("given"), _case(rng, content.first_name), "first_name", True),
        Item(style.label("nationality"), content.nationality), Item(style.label("dob"), date(content.birth_date),
                                                                    "date_of_birth"),
        Item(style.label("sex"), content.sex), Item(style.label("pob"), content.place_of_birth),
        Item(style.label("issue"), date(content.issue_date)), Item(style.label("expiry"), date(content.expiry_date)),
        Item(style.label("authority"), content.state_name),
    ]
    page.grid(_shuffle(rng, items), region, int(rng.integers(15, 20)), int(rng.integers(24, 32)),
              int(rng.integers(2, 4)))
    assert content.mrz_lines is not None
    mrz = page.mrz(content.mrz_lines, (m, mrz_top, w - m, h - m * 0.5))
    return _done(page, _specimen_and_hologram(page, pbox), mrz=mrz)


DL_LABELS = {  # key -> (AAMVA number style, abbreviation style, word style)
    "dln": ("4d DLN", "DLN", "LICENSE NO"), "last": ("1", "LN", "LAST NAME"), "first": ("2", "FN", "FIRST NAME"),
    "address": ("8", "ADDR", "ADDRESS"), "dob": ("3 DOB", "DOB", "DATE OF BIRTH"), "iss": ("4a ISS", "ISS", "ISSUED"),
    "exp": ("4b EXP", "EXP", "EXPIRES"), "sex": ("15 SEX", "SEX", "SEX"), "hgt": ("16 HGT", "HGT", "HEIGHT"),
    "eyes": ("18 EYES", "EYES", "EYES"), "class": ("9 CLASS", "CLASS", "CLASS"),
}


def _dl_style(rng: np.random.Generator, fonts_dir: Path) -> Style:
    style = random_style(rng, fonts_dir, "en")
    return Style(**{**style.__dict__, "languages": ("en",), "date_style": "mdy_slash", "numbered": False})


def _dl_front(content: DocContent, rng: np.random.Generator, fonts_dir: Path) -> RenderedDoc:
    w, h = ID1_SIZE
    style = _dl_style(rng, fonts_dir)
    page = Page(rng, w, h, style)
    m = w * 0.03
    head = h * float(rng.uniform(0.14, 0.19))
    title = str(rng.choice(["DRIVER LICENSE", "DRIVER'S LICENSE", "DRIVER LICENCE"]))
    _header(page, content.state_name, f"{title} USA", head, m)
    pbox, region = _portrait_and_region(page, head + m * 0.5, h - m, m, float(rng.uniform(0.26, 0.31)))
    _finish_portrait(page, content, pbox, region)
    k = int(rng.integers(0, 3))
    lab = lambda key: DL_LABELS[key][k]  # noqa: E731
    date = lambda d: format_date(d, "mdy_slash")  # noqa: E731
    items = [
        Item(lab("dln"), content.id_number, "id_number"),
        Item(lab("last"), content.last_name.upper(), "last_name", True),
        Item(lab("first"), content.first_name.upper(), "first_name", True),
        Item(lab("address"), content.address, None, True),
        Item(lab("dob"), date(content.birth_date), "date_of_birth"), Item(lab("exp"), date(content.expiry_date)),
        Item(lab("iss"), date(content.issue_date)), Item(lab("sex"), content.sex),
        Item(lab("hgt"), str(rng.choice(["5'-04\"", "5'-08\"", "6'-00\"", "5'-11\""]))),
        Item(lab("eyes"), str(rng.choice(["BRO", "BLU", "GRN", "HAZ"]))), Item(lab("class"), "D"),
    ]
    page.grid(_shuffle(rng, items), region, int(rng.integers(14, 18)), int(rng.integers(22, 30)),
              int(rng.integers(2, 4)))
    return _done(page, _specimen_and_hologram(page, pbox))


def _dl_back(content: DocContent, rng: np.random.Generator, fonts_dir: Path) -> RenderedDoc:
    w, h = ID1_SIZE
    style = _dl_style(rng, fonts_dir)
    page = Page(rng, w, h, style)
    m = w * 0.04
    assert content.barcode_payload is not None
    symbol = zxingcpp.create_barcode(content.barcode_payload, zxingcpp.BarcodeFormat.PDF417, ec_level="5")
    bits = np.array(symbol.to_image(scale=1, add_quiet_zones=True))
    sx = max(1, int((w - 2 * m) // bits.shape[1]))
    bw = bits.shape[1] * sx
    bh = int(min(h * 0.55, bits.shape[0] * sx * float(rng.uniform(0.8, 1.0))))
    top = h * float(rng.uniform(0.08, 0.32))
    x0 = (w - bw) / 2
    big = cv2.resize(bits, (bw, bh), interpolation=cv2.INTER_NEAREST)
    page.image.paste(Image.fromarray(np.repeat(big[..., None], 3, axis=2)), (int(x0), int(top)))
    box = (float(int(x0)), float(int(top)), float(int(x0) + bw), float(int(top) + bh))
    font = FontRef(font_path(fonts_dir, "sans", int(rng.integers(0, 5))), int(rng.integers(16, 22)))
    lines = [f"{content.state_name} DEPARTMENT OF MOTOR VEHICLES", "RESTRICTIONS: NONE   ENDORSEMENTS: NONE",
             f"CLASS D   DD {content.id_number[-4:]}{int(rng.integers(1000, 9999))}"]
    y = box[3] + m * 0.5 if top < h * 0.2 else m * 0.5
    for line in lines:
        f = fit_size(font.path, line, font.size, w - 2 * m)
        page.text(m, y, line, f, style.value_colour)
        y += page.layer.line_height(f) + 4
    if y < h - m * 2.2 or top > h * 0.2:
        sy = h - m * 2.0 if y < h - m * 2.2 else box[1] - m * 1.6
        page.specimen((m, sy, w * 0.5, sy + m * 1.4))
    else:
        page.specimen((w * 0.55, m * 0.2, w - m, m * 1.3))
    return _done(page, page.finish(None), barcode=box)


def _case(rng: np.random.Generator, name: str) -> str:
    return name.upper() if rng.random() < 0.7 else name
