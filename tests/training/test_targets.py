"""Tests for CRAFT target generation: Gaussian region maps, affinity maps, field masks."""

from __future__ import annotations

import numpy as np

from training.targets import (
    TargetConfig,
    affinity_quad,
    char_cells,
    field_mask,
    gaussian_template,
    region_affinity_maps,
    word_gap_mask,
)


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def test_gaussian_template_peaks_at_centre_and_falls_to_edges():
    t = gaussian_template(TargetConfig(sigma=0.25, template=32))
    r, c = np.unravel_index(np.argmax(t), t.shape)
    assert {r, c} <= {15, 16}
    assert t.max() > 0.99
    assert abs(t[16, 0] - np.exp(-2)) < 0.05  # edge midpoint ~ exp(-2)


def test_one_character_gives_gaussian_peaked_at_its_centre():
    region, affinity = region_affinity_maps([[_box(10, 20, 30, 50)]], (64, 64))
    r, c = np.unravel_index(np.argmax(region), region.shape)
    assert abs(c + 0.5 - 20) <= 1 and abs(r + 0.5 - 35) <= 1
    assert region.max() > 0.9
    assert region[0:15, :].max() == 0 and region[:, 35:].max() == 0  # nothing outside the box
    assert affinity.max() == 0  # one character: no affinity


def test_adjacent_pair_gives_affinity_between_them():
    a, b = _box(10, 10, 30, 40), _box(32, 10, 52, 40)
    region, affinity = region_affinity_maps([[a, b]], (64, 64))
    r, c = np.unravel_index(np.argmax(affinity), affinity.shape)
    assert 25 <= c + 0.5 <= 37 and 20 <= r + 0.5 <= 30  # between centres x=20 and x=42
    assert affinity.max() > 0.9
    # region has two peaks, one per character, with a dip between them
    row = region[25]
    assert row[20] > 0.9 and row[41] > 0.9 and row[31] < row[20]
    # affinity does not reach the outer halves of the characters
    assert affinity[:, :15].max() < 0.05 and affinity[:, 48:].max() < 0.05


def test_separate_words_have_no_affinity_between_them():
    w1 = [_box(0, 0, 10, 20), _box(10, 0, 20, 20)]
    w2 = [_box(40, 0, 50, 20), _box(50, 0, 60, 20)]
    _, affinity = region_affinity_maps([w1, w2], (24, 64))
    assert affinity[:, 22:38].max() == 0
    assert affinity[:, 5:15].max() > 0.5 and affinity[:, 45:55].max() > 0.5


def test_affinity_quad_is_clockwise_between_characters():
    q = affinity_quad(_box(0, 0, 12, 12), _box(12, 0, 24, 12))
    assert q.shape == (4, 2)
    assert q[0, 0] < q[1, 0] and q[0, 1] < q[3, 1]  # TL left of TR, TL above BL
    assert 5 < q[:, 0].mean() < 19


def test_field_mask_resizes_with_nearest_neighbour():
    m = np.zeros((40, 80), np.uint8)
    m[10:20, 20:60] = 3
    small = field_mask(m, (20, 40))
    assert small.shape == (20, 40)
    assert set(np.unique(small)) == {0, 3}
    assert (small == 3).sum() == 5 * 20


def test_char_cells_span_the_word_height_and_the_char_width():
    word = _box(0, 0, 40, 22)
    chars = [_box(1, 5, 9, 18), _box(12, 14, 15, 16)]  # a letter and a hyphen (tight glyph boxes)
    cells = char_cells(word, chars)
    assert np.allclose(cells[0], _box(1, 0, 9, 22))
    assert np.allclose(cells[1], _box(12, 0, 15, 22))


def _word(x0: float, y0: float, w: float, h: float) -> np.ndarray:
    return np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]], np.float32)


def test_label_words_are_the_line_right_above_each_fields_value():
    from training.targets import label_words

    quads = [
        _word(10, 5, 60, 14), _word(75, 5, 30, 14),            # title line (no field)
        _word(10, 30, 40, 9), _word(52, 30, 4, 9), _word(58, 30, 20, 9),  # "Surname / Nom"
        _word(10, 41, 50, 12),                                  # its value
        _word(90, 30, 30, 9), _word(90, 41, 40, 12),            # "Sex", "F" (no field) in the same row
        _word(10, 60, 45, 9),                                   # "Given names"
        _word(10, 71, 35, 12), _word(48, 71, 35, 12),           # the two given names
        _word(90, 71, 40, 12),                                  # a field value with no label above it
    ]
    fields = [None, None, None, None, None, "last_name", None, None, None, "first_name", "first_name", "date_of_birth"]
    out = label_words(quads, fields)
    assert out == {"last_name": [2, 3, 4], "first_name": [8]}


def test_word_gap_mask_covers_the_gap_to_the_next_word_on_the_line_only():
    # Two words 2 px apart on one line (the gap is one map pixel at half scale), a word on
    # the next line below, and a word far to the right (gap of 3 heights: not a word gap).
    quads = [_box(10, 10, 30, 20), _box(32, 10, 50, 20), _box(10, 30, 40, 40), _box(110, 10, 130, 20)]
    gaps = word_gap_mask(quads, (32, 80), 0.5)
    assert gaps[5:10, 15].all() and gaps.sum() == 5
    assert not gaps[:, 16:].any() and not gaps[10:].any()


def test_word_gap_mask_is_at_least_one_column_for_touching_words():
    gaps = word_gap_mask([_box(10, 10, 30, 20), _box(30, 10, 50, 20)], (32, 80), 0.5)
    assert gaps[:, 15].sum() == 5 and gaps.sum() == 5
