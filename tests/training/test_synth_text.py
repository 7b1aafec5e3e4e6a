"""Character-by-character drawing: every inked pixel lies in a recorded character box, and every box holds ink."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.synth_text import FONT_FILES, FontRef, TextLayer, fit_size, text_width

FONTS = Path("/usr/share/fonts")


@pytest.mark.parametrize("role, index", [("sans", 0), ("sans_bold", 1), ("serif", 2), ("mono", 4), ("mrz", 0)])
def test_char_boxes_cover_all_ink(role: str, index: int) -> None:
    font = FontRef(str(FONTS / FONT_FILES[role][index]), 34)
    image = Image.new("RGB", (900, 120), (255, 255, 255))
    layer = TextLayer(image)
    text = "ÅNGSTRÖM Łęcki-Núñez 12/08/1974" if role != "mrz" else "P<UTOERIKSSON<<ANNA<MARIA<<<<"
    union = layer.text(10, 20, text, font, (0, 0, 0), field_name="last_name")
    ink = np.asarray(image).min(axis=2) < 200
    covered = np.zeros_like(ink)
    for word in layer.words:
        for ch in word.chars:
            x0, y0, x1, y1 = ch.box
            box = ink[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))]
            assert box.any(), f"no ink in the box of {ch.c!r}"
            covered[max(int(np.floor(y0)) - 1, 0):int(np.ceil(y1)) + 1, max(int(np.floor(x0)) - 1, 0):int(np.ceil(x1)) + 1] = True
            wx0, wy0, wx1, wy1 = word.box
            assert wx0 <= x0 and wy0 <= y0 and x1 <= wx1 and y1 <= wy1
    assert ink.any() and not (ink & ~covered).any()
    assert [w.text for w in layer.words] == text.split(" ")
    assert all(w.field == "last_name" for w in layer.words)
    ux0, uy0, ux1, uy1 = union
    assert all(ux0 <= w.box[0] and w.box[2] <= ux1 and uy0 <= w.box[1] and w.box[3] <= uy1 for w in layer.words)


def test_fit_size_respects_width() -> None:
    path = str(FONTS / FONT_FILES["sans"][0])
    font = fit_size(path, "STAATSANGEHÖRIGKEIT / NATIONALITY", 40, 200)
    assert font.size < 40 and text_width(font, "STAATSANGEHÖRIGKEIT / NATIONALITY") <= 200
    assert fit_size(path, "M", 40, 200).size == 40
