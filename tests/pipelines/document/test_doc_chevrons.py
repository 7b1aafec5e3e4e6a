"""Chevron-aware MRZ line reading: the cell grid and the ink mask under uneven light."""

from __future__ import annotations

import cv2
import numpy as np

from pipelines.document.chevrons import _fit_grid, count_chevrons


def test_grid_fit_recovers_the_pitch_from_character_centres():
    true_x0, true_pitch = 20.0, 25.0
    cells = np.array([0, 1, 2, 3, 5, 6, 8, 9, 10, 20, 30, 40, 43])
    rng = np.random.default_rng(0)
    centres = true_x0 + (cells + 0.5) * true_pitch + rng.normal(0, 0.8, cells.size)
    centres = np.append(centres, true_x0 + 11.1 * true_pitch)  # one broken glyph off its cell centre
    x0, pitch = _fit_grid(np.sort(centres), 17.0, 25.25)  # a first guess that drifts a third of a cell
    assert abs(pitch - true_pitch) < 0.1 and abs(x0 - true_x0) < 1.5
    assert _fit_grid(centres[:3], 17.0, 25.25) == (17.0, 25.25)  # too few characters: guess kept


def _chevron_line(n: int = 20) -> np.ndarray:
    img = np.full((60, 40 * n + 40), 235, np.uint8)
    for i in range(n):  # "<" glyphs: two strokes meeting at the left, mid-height
        x = 30 + 40 * i
        cv2.line(img, (x + 24, 14), (x + 4, 30), 20, 4)
        cv2.line(img, (x + 4, 30), (x + 24, 46), 20, 4)
    return img


def test_chevrons_are_found_under_a_strong_light_gradient():
    flat = _chevron_line()
    assert count_chevrons(flat) >= 18
    gradient = np.linspace(0.35, 1.0, flat.shape[1])[None, :]
    shaded = (flat.astype(np.float32) * gradient).astype(np.uint8)  # left end in deep shadow
    assert count_chevrons(shaded) >= 18


def _mrz_like_line(n_cells: int, n_fillers: int, pitch: int = 30) -> np.ndarray:
    """``n_cells`` monospaced cells: bars for characters, then ``n_fillers`` chevrons at the end of the line."""
    img = np.full((60, pitch * n_cells + 60), 235, np.uint8)
    for i in range(n_cells):
        x = 30 + pitch * i
        if i < n_cells - n_fillers:
            cv2.rectangle(img, (x + 8, 14), (x + 16, 46), 20, -1)
        else:
            cv2.line(img, (x + 22, 14), (x + 4, 30), 20, 4)
            cv2.line(img, (x + 4, 30), (x + 22, 46), 20, 4)
    return img


def test_line_width_from_the_chevron_pitch_tells_td3_from_td2():
    from pipelines.document.chevrons import line_width

    assert line_width(_mrz_like_line(44, 16)) == 44
    assert line_width(_mrz_like_line(36, 8)) == 36
    assert line_width(_mrz_like_line(36, 0)) is None  # no chevrons: nothing to measure


def test_grid_keeps_the_chevron_pitch_when_glare_erases_the_last_fillers():
    from pipelines.document.chevrons import find_grid

    img = _mrz_like_line(44, 16)
    img[:, 30 + 30 * 37:] = 235  # the last seven fillers faded away: the ink spans 37 of 44 cells
    ink = np.where(img < 128, 255, 0).astype(np.uint8)
    grid = find_grid(ink, (44,))  # a TD3 names row: the format is known from the other line
    assert grid is not None and len(grid.chevrons) == 44
    assert abs(grid.pitch - 30) < 1.0  # extent / 44 would give 25.2 and shift every later cell
    assert grid.chevrons[28:37] == (True,) * 9 and not any(grid.chevrons[:28])


def test_characters_keep_their_order_and_fill_the_cells_between_the_chevrons():
    from pipelines.document.chevrons import CellGrid, _place

    # "AB<CD" on a 5-cell grid whose pitch is a little off: B's and D's centres drift into the next cell
    grid = CellGrid(0.0, 10.0, (False, False, True, False, False))
    chars = [("A", 5.0), ("B", 20.5), ("C", 33.0), ("D", 51.0)]
    assert _place(grid, chars) == "AB<CD"  # by centre alone: B falls in the chevron's cell, D off the line
    # two letters in one cell: both kept, in order, in neighbouring cells
    grid = CellGrid(0.0, 10.0, (False, False, False, True))
    assert _place(grid, [("K", 12.0), ("A", 18.0), ("Y", 26.0)]) == "KAY<"
    # more characters than free cells: the one farthest from a cell is dropped, the others stay put
    grid = CellGrid(0.0, 10.0, (False, True, False))
    assert _place(grid, [("P", 5.0), ("X", 11.0), ("Q", 25.0)]) == "P<Q"


def test_grid_starts_at_the_first_letter_on_a_line_of_mostly_fillers():
    from pipelines.document.chevrons import find_grid

    # a TD1 names row: 9 letters, then 21 fillers; the chevrons (32 px) are shorter than the letters (46 px),
    # so the median glyph is a chevron's height and a letter is more than 1.4x of it
    pitch = 30
    img = np.full((70, pitch * 30 + 60), 235, np.uint8)
    for i in range(30):
        x = 30 + pitch * i
        if i < 9:
            cv2.rectangle(img, (x + 8, 12), (x + 18, 58), 20, -1)
        else:
            cv2.line(img, (x + 22, 19), (x + 4, 35), 20, 4)
            cv2.line(img, (x + 4, 35), (x + 22, 51), 20, 4)
    ink = np.where(img < 128, 255, 0).astype(np.uint8)
    grid = find_grid(ink, (30,))
    assert grid is not None and abs(grid.x0 - 30) < pitch / 3
    assert not any(grid.chevrons[:9]) and all(grid.chevrons[9:])


def test_a_letter_the_block_read_doubled_is_recognised():
    from pipelines.document.mrz_reader import _doubled

    assert _doubled("SOERENSEN<<OOMAR<<<<", "SOERENSEN<<OMAR<<<<<")
    assert not _doubled("COOPER<<ANNA<<", "COOPER<<ANNA<<")  # a real double letter both reads agree on
    assert not _doubled("SOERENSEN<<OMAR<<", "SOERENSEN<<OMAK<<")  # a different letter, not a doubled one
    assert not _doubled("KELLY<<<", "KELY<<<<")  # the cell read lost a letter: the block read is the better
