"""Chevron-aware MRZ line reading: find the ``<`` fillers by shape, OCR only the real characters.

Tesseract's English model misreads runs of OCR-B chevrons as ``K``, ``C`` or ``E`` and often stops
reading after a long run, losing the check digit that ends the line. An MRZ is monospaced, so the
line is cut into ``n`` cells; chevrons are recognised by their shape (ink on the left only at mid
height, on the right only at top and bottom), erased, and Tesseract reads what is left; each word
is placed back into cells by its pixel position.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipelines.document.tesseract import Tesseract


@dataclass(frozen=True)
class CellGrid:
    """A line's character grid: left edge and pitch in pixels, and which cells hold a chevron."""

    x0: float
    pitch: float
    chevrons: tuple[bool, ...]
    components: tuple[int, ...] = ()  # labels of the chevron components in ``labels``
    labels: np.ndarray | None = None


def _is_chevron(mask: np.ndarray) -> bool:
    h, w = mask.shape
    if h < 6 or w < 3 or not 0.3 <= w / h <= 1.3:
        return False
    band = max(1, w // 5)
    left, right = mask[:, :band].any(axis=1), mask[:, -band:].any(axis=1)
    q = max(1, h // 4)
    mid = slice(h // 3, max(h // 3 + 1, 2 * h // 3))
    return (left[:q].mean() < 0.2 and left[-q:].mean() < 0.2 and left[mid].mean() > 0.5
            and right[mid].mean() < 0.25 and right[:q].mean() > 0.5 and right[-q:].mean() > 0.5)


def find_grid(binary: np.ndarray, widths: tuple[int, ...]) -> CellGrid | None:
    """Cell grid of a binarized line crop (ink = 255); ``None`` when no line of characters is seen.

    Args:
        binary: the crop, ink 255.
        widths: allowed numbers of characters per line (30, 36, 44); the one that best fits the
            pitch measured between neighbouring chevrons is used.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary)
    if n < 3:
        return None
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    tall = [i for i in range(1, n) if heights[i] > 0.35 * binary.shape[0]]
    if len(tall) < 3:
        return None

    def shape(i: int) -> bool:
        return _is_chevron(labels[stats[i, 1]:stats[i, 1] + stats[i, 3], stats[i, 0]:stats[i, 0] + stats[i, 2]] == i)

    shaped = {i for i in tall if shape(i)}
    # the glyphs' height; a chevron is about two thirds of a letter's, and on a line of mostly fillers the
    # median of every glyph is a chevron's, which would leave the letters out (``SOERENSEN<<OMAR<<<...``
    # read as ``<<OMAR``: the grid started at the first chevron): there the letters' height is taken
    letters = [heights[i] for i in tall if i not in shaped]
    mostly_fillers = 2 * len(shaped) > len(tall) and len(letters) >= 3
    hm = float(np.median(letters if mostly_fillers else heights[tall]))
    chars = [i for i in range(1, n) if 0.5 * hm <= heights[i] <= 1.4 * hm or (mostly_fillers and i in shaped)]
    if len(chars) < 3:
        return None
    x0 = float(min(stats[i, cv2.CC_STAT_LEFT] for i in chars))
    x1 = float(max(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] for i in chars))
    chevrons = [i for i in chars if i in shaped or (i not in tall and shape(i))]
    centres = sorted(float(stats[i, 0] + stats[i, 2] / 2) for i in chevrons)
    steps = np.diff(centres)
    step = None
    if steps.size:
        near = steps[steps < 1.5 * float(np.min(steps))]
        step = float(np.median(near))
        # the ink must fit in the line's cells: glare that erases the last fillers shortens the
        # extent, never lengthens it, so a width too short for the ink at this pitch is out
        fits = [n for n in widths if (x1 - x0) <= 1.05 * n * step] or [max(widths)]
        n_chars = min(fits, key=lambda n: abs((x1 - x0) / n - step))
    else:
        n_chars = widths[0]
    pitch = (x1 - x0) / n_chars
    if step is not None and pitch < 0.94 * step:
        pitch = step  # the extent is cut short (faded fillers): the chevrons' spacing is the pitch
    if pitch <= 1:
        return None
    x0, pitch = _fit_grid(np.asarray(sorted(float(stats[i, 0] + stats[i, 2] / 2) for i in chars)), x0, pitch)
    flags = [False] * n_chars
    found = []
    for i in chevrons:
        cell = int((stats[i, 0] + stats[i, 2] / 2 - x0) / pitch)
        if 0 <= cell < n_chars:
            flags[cell] = True
            found.append(i)
    return CellGrid(x0, pitch, tuple(flags), tuple(found), labels)


def _fit_grid(centres: np.ndarray, x0: float, pitch: float) -> tuple[float, float]:
    """Refine the grid from the characters' centres: monospaced glyphs sit in the middle of their cells.

    The first estimate (line extent / characters) drifts by a fraction of a cell over the line when
    the outermost characters are clipped or touch noise, and a character then lands in its
    neighbour's cell. Two rounds of least squares through (cell index, centre), dropping centres
    more than a third of a cell off the line (broken or touching glyphs), fix that; a fit that
    moves the pitch by 10 % or more is refused.
    """
    keep = np.ones(centres.size, bool)
    x, p = x0, pitch
    for _ in range(2):
        cells = np.floor((centres - x) / p)
        if keep.sum() < 4 or np.ptp(cells[keep]) < 3:
            return x0, pitch
        slope, intercept = np.polyfit(cells[keep], centres[keep], 1)
        if not 0.9 * pitch <= slope <= 1.1 * pitch:
            return x0, pitch
        x, p = float(intercept - 0.5 * slope), float(slope)
        keep = np.abs(centres - (x + (cells + 0.5) * p)) < p / 3
    return x, p


def _ink(crop: np.ndarray) -> np.ndarray:
    """Ink mask (255) of a grey line crop, dark text on a light background.

    The background is flattened first (divided by its grey closing, a structuring element wider
    than a glyph), so that a shadow or glare gradient along the line does not push one end of it
    entirely to ink or to paper under the single Otsu threshold.
    """
    blur = cv2.GaussianBlur(crop, (3, 3), 0)
    k = max(3, (crop.shape[0] // 2) | 1)
    background = cv2.morphologyEx(blur, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    flat = np.clip(blur.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0) * 255.0, 0, 255)
    _, ink = cv2.threshold(flat.astype(np.uint8), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def count_chevrons(crop: np.ndarray) -> int:
    """How many filler chevrons a grey line crop shows (no OCR; a cheap test that a line is MRZ)."""
    ink = _ink(crop)
    grid = find_grid(ink, (44,))
    return 0 if grid is None else len(grid.components)


def line_width(crop: np.ndarray, widths: tuple[int, ...] = (44, 36)) -> int | None:
    """How many character cells a grey line crop holds, of ``widths``, as the pitch between its filler
    chevrons says; ``None`` when it shows too few chevrons to measure."""
    grid = find_grid(_ink(crop), widths)
    return None if grid is None or len(grid.components) < 2 else len(grid.chevrons)


@dataclass(frozen=True)
class CleanLine:
    """A line crop with its chevrons erased (binary, text black on white) and its cell grid."""

    image: np.ndarray
    grid: CellGrid


def clean_line(crop: np.ndarray, widths: tuple[int, ...]) -> CleanLine | None:
    """Binarize a grey line crop, find its grid, erase the chevrons; ``None`` without grid or chevron."""
    ink = _ink(crop)
    grid = find_grid(ink, widths)
    if grid is None or not any(grid.chevrons):
        return None
    clean = 255 - ink
    for i in grid.components:
        clean[grid.labels == i] = 255
    return CleanLine(clean, grid)


def _place(grid: CellGrid, chars: list[tuple[str, float]], drop: float = 1.0) -> str:
    """Put OCR'd characters (char, x-centre) into the grid's cells; chevron and empty cells become ``<``.

    The characters keep their order and take distinct cells that hold no chevron, as near their centres as
    can be (least total distance, in cells; a character no cell is left for is dropped at ``drop`` cells).
    Placing each by its own centre alone let two neighbours fall into one cell, or one into a chevron's,
    where a grid a fraction of a cell off lost a letter and opened a gap (``ERIKSS<ON``); the chevrons found
    by their shape pin the letters between them.
    """
    n = len(grid.chevrons)
    free = [k for k in range(n) if not grid.chevrons[k]]
    chars = sorted(chars, key=lambda c: c[1])
    pos = [(x - grid.x0) / grid.pitch - 0.5 for _, x in chars]
    m, f = len(chars), len(free)
    inf = float("inf")
    # cost[i][j]: first i characters placed into (or dropped before) the first j free cells
    cost = [[inf] * (f + 1) for _ in range(m + 1)]
    move = [[0] * (f + 1) for _ in range(m + 1)]  # 0: cell j-1 left empty, 1: char i-1 in cell j-1, 2: char dropped
    for j in range(f + 1):
        cost[0][j] = 0.0
    for i in range(1, m + 1):
        cost[i][0], move[i][0] = cost[i - 1][0] + drop, 2
        for j in range(1, f + 1):
            options = (cost[i][j - 1], cost[i - 1][j - 1] + abs(pos[i - 1] - free[j - 1]), cost[i - 1][j] + drop)
            k = min(range(3), key=options.__getitem__)
            cost[i][j], move[i][j] = options[k], k
    cells = ["<"] * n
    i, j = m, f
    while i > 0:
        if move[i][j] == 0:
            j -= 1
        elif move[i][j] == 1:
            cells[free[j - 1]] = chars[i - 1][0]
            i, j = i - 1, j - 1
        else:
            i -= 1
    return "".join(cells)


class ChevronLineReader:
    """Reads deskewed MRZ line crops (grey, dark text) into exactly as many characters as their grid has.

    Args:
        ocr: a Tesseract engine with the MRZ whitelist (single line mode for :meth:`__call__`).
        block_ocr: a Tesseract engine in block mode for :meth:`read_block` (one call for all lines).
    """

    def __init__(self, ocr: Tesseract, block_ocr: Tesseract | None = None) -> None:
        self.ocr = ocr
        self.block_ocr = block_ocr or ocr

    def __call__(self, crop: np.ndarray, widths: tuple[int, ...] = (44, 36, 30)) -> str | None:
        """The line text, or ``None`` when no grid or no chevron could be found.

        Args:
            crop: grey line crop, dark text on a light background.
            widths: allowed characters per line; the measured pitch picks one.
        """
        line = clean_line(crop, widths)
        if line is None:
            return None
        if all(line.grid.chevrons):
            return "<" * len(line.grid.chevrons)
        return _place(line.grid, [(ch, (x0 + x1) / 2) for ch, x0, x1 in self.ocr.chars(line.image)])

    def read_block(self, crops: list[np.ndarray], widths: tuple[int, ...]) -> list[str | None]:
        """All lines of an MRZ in one Tesseract call: chevrons erased, lines stacked, characters placed
        back by their boxes (row by the box's vertical centre, cell by its horizontal centre)."""
        lines = [clean_line(c, widths) for c in crops]
        good = [ln for ln in lines if ln is not None]
        if not good:
            return [None] * len(crops)
        n = max(len(ln.grid.chevrons) for ln in good)
        lines = [ln if ln is not None and len(ln.grid.chevrons) == n else None for ln in lines]
        width = max(ln.image.shape[1] for ln in lines if ln is not None)
        rows, spans, y = [], [], 0
        for ln in lines:
            if ln is None:
                spans.append(None)
                continue
            img = ln.image
            rows.append(np.hstack([img, np.full((img.shape[0], width - img.shape[1]), 255, np.uint8)]))
            spans.append((y, y + img.shape[0]))
            y += img.shape[0]
        placed: list[list[tuple[str, float]]] = [[] for _ in lines]
        for ch, x0, x1, top, bottom in self.block_ocr.char_boxes(np.vstack(rows)):
            yc = (top + bottom) / 2
            for i, span in enumerate(spans):
                if span is not None and span[0] <= yc < span[1]:
                    placed[i].append((ch, (x0 + x1) / 2))
        return [None if ln is None else _place(ln.grid, placed[i]) for i, ln in enumerate(lines)]
