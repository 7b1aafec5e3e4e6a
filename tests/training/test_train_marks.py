"""Training data of the diacritic mark classifier: drawn words, capture crops, labels, and a tiny fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipelines.document.marks import MARKS, N_FEATURES, split_mark
from training.train_marks import (
    Examples, MarkTrainConfig, _examples, _fonts, draw_word, evaluate, field_crops, fit,
)

CFG = MarkTrainConfig()


def test_drawn_words_are_crops_of_letters_with_known_marks():
    rng = np.random.default_rng(3)
    fonts = _fonts(CFG.fonts_dir, None)
    words = [draw_word(rng, CFG, fonts) for _ in range(20)]
    for crop, word in words:
        assert crop.ndim == 3 and crop.shape[2] == 3 and min(crop.shape[:2]) >= 4
        assert word.isalpha() and all(split_mark(c)[1] is not None for c in word)
    assert any(split_mark(c)[1] != "none" for _, w in words for c in w)


def test_held_out_font_family_is_kept_apart():
    seen, unseen = _fonts(CFG.fonts_dir, False), _fonts(CFG.fonts_dir, True)
    assert seen and unseen and not set(seen) & set(unseen)
    assert all("freefont" in f for f in unseen)


def test_examples_have_the_feature_length_and_valid_labels():
    ex = _examples((CFG, 5, 12, None, 96))
    assert ex.words == 12 and len(ex.x) == len(ex.y) > 12
    assert all(x.shape == (N_FEATURES,) for x in ex.x)
    assert set(ex.y) <= set(range(len(MARKS)))


def test_field_crop_follows_the_homography():
    """A flat document shown at half size: the crop is the field's box (grown by its margins) at that scale."""
    image = np.full((400, 600, 3), 255, np.uint8)
    image[100:120, 50:150] = 0  # the field's ink at half scale: flat box (100, 200)-(300, 240)
    record = {"homography": [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1]], "flat_size": [1000, 600],
              "document_quad": [[0, 0], [500, 0], [500, 300], [0, 300]],
              "fields": {"last_name": {"text": "NOVAK", "quad_flat": [[100, 200], [300, 200], [300, 240], [100, 240]]}}}
    (crop, text), = field_crops(record, image, np.random.default_rng(0))
    assert text == "NOVAK"
    assert 100 <= crop.shape[1] <= 115 and 20 < crop.shape[0] <= 40
    assert crop.min() == 0 and crop[0].min() == 255  # ink inside, paper in the top margin


def test_a_tiny_fit_learns_and_scores(tmp_path):
    ex = Examples()
    part = _examples((CFG, 1, 60, None, 96))
    ex.x, ex.y = part.x, part.y
    model = fit(ex, replace(CFG, epochs=2, hidden=8))
    scores = evaluate(model, ex, 0.8)
    assert 0.0 <= scores["accuracy"] <= 1.0 and len(scores["confusion"]) == len(MARKS)
    assert sum(map(sum, scores["confusion"])) == len(ex.y)
