"""Training data of the low-mark classifier (marks through or below letters): drawn words, labels, a tiny fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipelines.document.low_marks import LOW_MARKS, LowMarkModel, split_low
from training.train_low_marks import LOW, LOW_ALPHABET, pick_low
from training.train_marks import Examples, MarkTrainConfig, _examples, _fonts, _with_glyphs, evaluate, fit

CFG = MarkTrainConfig()


def test_every_low_mark_is_drawn_on_letters_that_carry_it():
    assert LOW_ALPHABET["stroke"] == ["Đ", "Ł", "Ø"] and LOW_ALPHABET["ogonek"] == ["Ą", "Ę"]
    assert "Ç" in LOW_ALPHABET["cedilla"] and "Ę" in LOW_ALPHABET["ogonek"]
    rng = np.random.default_rng(0)
    drawn = [split_low(pick_low(rng, 0.5))[1] for _ in range(400)]
    assert set(drawn) == set(LOW_MARKS)


def test_fonts_without_the_letters_are_not_drawn_in():
    fonts = _fonts(CFG.fonts_dir, None)
    usable = _with_glyphs(fonts, LOW.needs_glyphs)
    assert usable and not any("OCRB" in f for f in usable)  # OCR-B has no Ł or Ç
    assert _with_glyphs(fonts, "") == fonts


def test_examples_are_labelled_with_their_low_marks_and_a_tiny_fit_scores():
    ex = _examples((CFG, 5, 40, None, 96, LOW))
    assert ex.words == 40 and len(ex.x) == len(ex.y) > 40
    assert all(x.shape == (LowMarkModel.n_features(),) for x in ex.x)
    assert set(ex.y) <= set(range(len(LOW_MARKS))) and len(set(ex.y)) > 1
    model = fit(ex, replace(CFG, epochs=2, hidden=8), recipe=LOW)
    assert isinstance(model, LowMarkModel)
    scores = evaluate(model, ex, 0.8)
    assert len(scores["confusion"]) == len(LOW_MARKS) and sum(map(sum, scores["confusion"])) == len(ex.y)
