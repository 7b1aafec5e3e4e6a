"""Words into text lines (models/field_words.py): what sits side by side on one line, and what does not."""

from __future__ import annotations

from models.field_words import line_groups, same_line
from veid.types import Box


def test_words_of_one_line_join_and_grid_columns_do_not():
    a, b = Box(100, 200, 180, 224), Box(190, 201, 260, 225)  # a word space apart
    far = Box(500, 200, 580, 224)  # the next grid column
    assert same_line(a, b)
    assert not same_line(a, far)
    assert sorted(map(sorted, line_groups([a, b, far], [0, 1, 2]))) == [[0, 1], [2]]


def test_a_tall_stamp_does_not_chain_the_small_lines_beside_it():
    # "SPECIMEN" across a portrait, 60 px high, 40 px left of a caption, a value and the next caption
    stamp = Box(150, 390, 306, 452)
    caption, value, below = Box(347, 380, 430, 396), Box(347, 399, 484, 423), Box(347, 440, 420, 456)
    assert not same_line(stamp, value)
    groups = line_groups([stamp, caption, value, below], [0, 1, 2, 3])
    assert sorted(map(sorted, groups)) == [[0], [1], [2], [3]]
