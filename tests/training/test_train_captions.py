"""Training data of the caption classifier: lines from a generated document's words, strips from its capture,
and a tiny fit scored on held-out examples."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipelines.document.captions import CLASSES, INPUT_SHAPE, strip_input
from training.train_captions import CaptionTrainConfig, Examples, capture_strip, evaluate, fit, jittered, text_lines
from veid.types import Box

CFG = CaptionTrainConfig()


def _word(text: str, x0: float, y0: float, x1: float, y1: float, field: str | None = None) -> dict:
    return {"text": text, "field": field, "quad_flat": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]}


def test_words_are_grouped_into_lines_labelled_by_their_field():
    words = [_word("4d", 340, 100, 360, 118), _word("DLN", 366, 100, 395, 118),          # a caption: other
             _word("B1888", 340, 120, 460, 146, "id_number"),                          # its value
             _word("JAN", 340, 180, 380, 206, "first_name"), _word("RAFAEL", 392, 181, 470, 206, "first_name"),
             _word("5'-04\"", 660, 180, 720, 206),                                     # same row, other column
             _word("IDD<<B1888<<<", 30, 400, 900, 430)]                                # MRZ: left out
    lines = text_lines(words)
    assert [name for _, name in lines] == ["other", "id_number", "first_name", "other"]
    assert lines[2][0] == Box(340, 180, 470, 206)  # both given names, not the height in the next column


def test_jitter_grows_the_box_within_the_configured_shares():
    line = Box(100, 100, 200, 120)
    rng = np.random.default_rng(0)
    for _ in range(50):
        b = jittered(line, rng, CFG)
        assert 100 - 0.3 * 20 - 1e-9 <= b.y0 <= 100 + 0.05 * 20 + 1e-9 and b.x1 == 200
        assert 100 - 0.3 * 20 - 1e-9 <= b.x0 <= 100 + 0.1 * 20 + 1e-9


def test_capture_strip_follows_the_homography():
    """A flat document shown at half size: the strip cut from the photo is the one the pipeline would cut from
    the flat page."""
    import cv2

    flat = np.full((400, 800, 3), 255, np.uint8)
    flat[200:240, 100:300] = 0
    flat[166:186, 100:180] = 90  # a caption above the value
    photo = cv2.resize(flat, (400, 200), interpolation=cv2.INTER_AREA)
    record = {"homography": [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1]]}
    line = Box(95, 195, 305, 245)
    got, want = capture_strip(record, photo, line), strip_input(flat, line)
    assert got.shape == want.shape == INPUT_SHAPE
    assert want.max() > 0.5 and np.abs(got - want).mean() < 0.08


def test_a_tiny_fit_learns_and_scores():
    rng = np.random.default_rng(4)
    ex = Examples()
    for k in range(300):  # class c: a bar at a class-specific height of the caption strip
        c = k % len(CLASSES)
        x = rng.random(INPUT_SHAPE).astype(np.float32) * 0.2
        x[2 + 3 * c: 5 + 3 * c, 10:60] = 1.0
        ex.x.append(x)
        ex.y.append(c)
    model = fit(ex, replace(CFG, epochs=15, filters=(4, 8, 8), hidden=16, learning_rate=0.01, batch_size=32))
    scores = evaluate(model, ex, 0.5)
    assert scores["accuracy"] > 0.6, scores
    assert sum(map(sum, scores["confusion"])) == len(ex.y) and len(scores["confusion"]) == len(CLASSES)
