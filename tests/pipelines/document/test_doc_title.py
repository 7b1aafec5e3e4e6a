"""The document family from its printed title: the title lexicon, and the reader on a rendered card read by Tesseract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.document.fields import FieldLayout, TextBox
from pipelines.document.title import TitleConfig, TitleReader, classify_title
from veid.types import Box, DocumentFamily, Field, Quad

AAMVA = DocumentFamily.DRIVER_LICENSE_AAMVA
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@pytest.mark.parametrize("text", [
    "DRIVER LICENSE USA", "Driver's License", "DRIVER LICENCE", "CALIFORNIA DRIVER LICENSE",
    "DRIVERS LICENSE", "DRIVFR LICENSE USA",  # one letter misread still counts
])
def test_us_licence_titles_name_the_aamva_family(text):
    assert classify_title(text) is AAMVA


@pytest.mark.parametrize("text", [
    "DRIVING LICENCE", "PERMIS DE CONDUIRE", "IDENTITY CARD", "PASSPORT", "DRIVER", "LICENSE NO", "", "4d DLN",
    "DRIVER / CONDUCTEUR",
])
def test_other_titles_name_no_family(text):
    assert classify_title(text) is None


def _card(lines: list[tuple[str, int, int]], size=(856, 540)) -> tuple[np.ndarray, FieldLayout]:
    """A white card with text ``(text, y, font size)``; its word boxes as a field-less layout."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    words = []
    for text, y, px in lines:
        font, x = ImageFont.truetype(str(FONT), px), 30
        for word in text.split():
            x0, y0, x1, y1 = draw.textbbox((x, y), word, font=font)
            draw.text((x, y), word, font=font, fill="black")
            b = Box(x0, y0, x1, y1)
            words.append(TextBox(Quad.from_array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]),
                                 (b.center[0] / size[0], b.center[1] / size[1])))
            x = x1 + px // 3
    image = np.asarray(img)
    return image, FieldLayout(tuple(words), {}, 0.0, image, None, image.shape[:2])


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_the_title_at_the_top_of_a_card_gives_the_family():
    image, layout = _card([("NEW JERSEY", 15, 40), ("DRIVER LICENSE USA", 70, 26), ("LN", 200, 18),
                           ("DOE", 225, 30)])
    assert TitleReader(TitleConfig())(image, layout) is AAMVA
    assert TitleReader(TitleConfig(enabled=False))(image, layout) is None


@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans missing: run `make install`")
def test_a_title_lower_down_or_another_title_says_nothing():
    image, layout = _card([("IDENTITY CARD", 15, 40), ("DRIVER LICENSE", 400, 26)])
    assert TitleReader(TitleConfig())(image, layout) is None  # the licence words are not in the top band
    image, layout = _card([("PASSPORT", 15, 40)])
    assert TitleReader(TitleConfig())(image, layout) is None


def test_an_mrz_no_check_digit_of_which_verifies_leaves_the_family_to_the_title():
    from pipelines.document.mrz import parse_lines
    from pipelines.document.pipeline import _family, _mrz_values

    # lines of a licence front read as a TD2: nothing verifies, it names no family (the title will) and gives
    # no field values
    junk = parse_lines(("YSTISNJONUSAIWCG<<<<<<<<<<<<<<<<<<<<", "OV<<D<<<<<<<<<<<<<01<0<<<<<<<<<<<<<<"))
    assert junk.n_valid_checks == 0
    assert _family(junk, (), is_card=True) is None
    assert _mrz_values(junk, None) == {} and _mrz_values(None, None) == {}
    # a misread passport MRZ whose dates still verify names the passport family
    misread = parse_lines(("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                           "L898902C35UTO7408122F1204159ZE184226B<<<<<10"))
    assert not misread.valid and misread.n_valid_checks > 0
    assert _family(misread, (), is_card=False) is DocumentFamily.PASSPORT_TD3
    assert _mrz_values(misread, None)[Field.LAST_NAME] == "ERIKSSON"
    # a passport's MRZ read short as a TD2 (its document code P) still names the passport family
    short = parse_lines(("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L898902C36UTO7408122F1204159<<<<<<<8"))
    assert short.layout.value == "TD2" and _family(short, (), is_card=False) is DocumentFamily.PASSPORT_TD3
    card = parse_lines(("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L898902C36UTO7408122F1204159<<<<<<<8"))
    assert _family(card, (), is_card=True) is DocumentFamily.ID_CARD_TD1
    assert _family(None, (), is_card=True) is DocumentFamily.DRIVER_LICENSE_AAMVA  # a card with no MRZ
    assert _family(None, (), is_card=False) is None
