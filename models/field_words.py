"""Field masks -> CRAFT words (design step 7): which detected words make up each key field.

The UNET paints a probability mask per field; CRAFT finds the words. A word joins the field
whose mask covers the largest share of its box (at least ``min_coverage``), so no word is read
twice. A field is one line of text: when its mask spills onto other lines (the UNET hesitating
between the date of birth and the expiry date, say), the words are chained into lines and the
line the mask covers most is kept. The kept words are merged in reading order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veid.types import FIELD_CLASS, Box, Field, Quad

#: Two words are on one line when their vertical extents overlap by this share of the
#: smaller height, the horizontal gap between them is at most ``LINE_GAP`` x the
#: larger height (a space is about 0.3-0.6 x the text height; grid columns are further apart)
#: and the smaller height is at least ``LINE_HEIGHT_RATIO`` x the larger: a tall stamp
#: ("SPECIMEN" across a portrait) beside a column of small lines would otherwise chain the
#: captions and values it overlaps into one "line".
LINE_OVERLAP = 0.5
LINE_GAP = 1.2
LINE_HEIGHT_RATIO = 0.5


@dataclass(frozen=True)
class FieldMatch:
    """The CRAFT words one field's mask selected, and their union box.

    Attributes:
        box: union of the selected word boxes (input pixels, not yet extended).
        words: indices into the word list given to :func:`match_field_words`, reading order.
        coverage: mean fraction of the selected boxes covered by the field's mask.
    """

    box: Box
    words: tuple[int, ...]
    coverage: float


def word_coverage(probs: np.ndarray, bounds: list[Box], scale: float, threshold: float) -> np.ndarray:
    """``(n_words, n_fields)``: share of each word box (on the map grid) inside each field's mask."""
    h, w = probs.shape[:2]
    masks = probs[..., 1:] > threshold
    out = np.zeros((len(bounds), masks.shape[-1]))
    for k, b in enumerate(bounds):
        x0, y0 = max(int(b.x0 / scale), 0), max(int(b.y0 / scale), 0)
        x1, y1 = min(max(x0 + 1, int(np.ceil(b.x1 / scale))), w), min(max(y0 + 1, int(np.ceil(b.y1 / scale))), h)
        if x1 > x0 and y1 > y0:
            out[k] = masks[y0:y1, x0:x1].mean(axis=(0, 1))
    return out


def _beside(a: Box, b: Box, max_gap: float) -> bool:
    """Whether two boxes of similar height overlap vertically and lie at most ``max_gap`` pixels apart."""
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    gap = max(a.x0, b.x0) - min(a.x1, b.x1)
    low, high = sorted((a.height, b.height))
    return overlap >= LINE_OVERLAP * low and gap <= max_gap and low >= LINE_HEIGHT_RATIO * high


def same_line(a: Box, b: Box) -> bool:
    """Whether two word boxes sit side by side on one text line (see :data:`LINE_GAP`)."""
    return _beside(a, b, LINE_GAP * max(a.height, b.height))


def line_groups(bounds: list[Box], idx: list[int]) -> list[list[int]]:
    """Split the words ``idx`` into lines: connected components of :func:`same_line`."""
    parent = {k: k for k in idx}

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i, a in enumerate(idx):
        for b in idx[i + 1:]:
            if same_line(bounds[a], bounds[b]):
                parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for k in idx:
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())


def match_field_words(probs: np.ndarray, words: list[Quad], scale: float, threshold: float = 0.5,
                      min_coverage: float = 0.3, cover: np.ndarray | None = None) -> dict[Field, FieldMatch]:
    """Assign CRAFT word boxes to the fields whose masks cover them (design step 7).

    Args:
        probs: UNET output ``(h, w, 5)`` on the map grid.
        words: CRAFT word boxes in input pixels.
        scale: input pixels per map pixel (``CraftMaps.scale``).
        threshold: probability above which a map pixel belongs to a field.
        min_coverage: least fraction of a word box inside the mask for the word to join the field.
        cover: :func:`word_coverage` of these words when the caller has it already.

    Returns:
        For each field with at least one word: its line's words, merged in reading order
        (left to right), and their union box.
    """
    bounds = [q.bounds() for q in words]
    if not bounds:
        return {}
    if cover is None:
        cover = word_coverage(probs, bounds, scale, threshold)
    best = cover.argmax(axis=1)
    out: dict[Field, FieldMatch] = {}
    for f, c in FIELD_CLASS.items():
        mine = [k for k in range(len(bounds)) if best[k] == c - 1 and cover[k, c - 1] >= min_coverage]
        if not mine:
            continue
        line = max(line_groups(bounds, mine), key=lambda g: sum(cover[k, c - 1] * bounds[k].width for k in g))
        line.sort(key=lambda k: bounds[k].x0)
        box = bounds[line[0]]
        for k in line[1:]:
            box = box.union(bounds[k])
        out[f] = FieldMatch(box, tuple(line), float(np.mean([cover[k, c - 1] for k in line])))
    return out


def whole_lines(matches: dict[Field, FieldMatch], words: list[Quad], fields: tuple[Field, ...],
                max_gap: float = 0.7) -> dict[Field, FieldMatch]:
    """``matches`` with each of ``fields`` grown along its text line: a word no other field holds joins it
    when it overlaps the line vertically (:data:`LINE_OVERLAP`) and lies at most ``max_gap`` line heights
    beside it (a word space; grid columns are further apart), repeatedly. A mask that painted "EMMA" of
    "EMMA AOIFE" loses the second given name otherwise.
    """
    bounds = [q.bounds() for q in words]
    out = dict(matches)
    for f in fields:
        m = matches.get(f)
        if m is None:
            continue
        others = {k for g, o in out.items() if g is not f for k in o.words}
        line, box = set(m.words), m.box
        grown = True
        while grown:
            grown = False
            for k, b in enumerate(bounds):
                if k in line or k in others:
                    continue
                if _beside(box, b, max_gap * box.height):
                    line.add(k)
                    box = box.union(b)
                    grown = True
        if len(line) > len(m.words):
            out[f] = FieldMatch(box, tuple(sorted(line, key=lambda k: bounds[k].x0)), m.coverage)
    return out
