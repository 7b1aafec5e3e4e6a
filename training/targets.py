"""CRAFT training targets: Gaussian region maps, affinity maps and field masks from quads.

Following Baek et al. 2019 (Fig. 3): a 2-D isotropic Gaussian is drawn on a square
template and warped by a perspective transform onto every character box (region score).
For each pair of adjacent characters of a word, each box is split by its diagonals into
four triangles; the centres of the upper and lower triangles of both characters span the
*affinity box*, onto which the same Gaussian is warped (affinity score). Overlaps take
the maximum. All coordinates are pixels of the target map (x right, y down).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TargetConfig:
    """How targets are drawn (mirrors ``params.yaml: doc_data.targets``).

    Attributes:
        sigma: Gaussian standard deviation as a fraction of the box side (0.25 puts the
            box edge midpoints at exp(-2) = 0.14 of the peak).
        template: side of the square template the Gaussian is drawn on (pixels).
    """

    sigma: float = 0.25
    template: int = 64


def gaussian_template(cfg: TargetConfig = TargetConfig()) -> np.ndarray:
    """Isotropic Gaussian on a ``template x template`` float32 square, peak 1 at the centre."""
    n = cfg.template
    u = (np.arange(n, dtype=np.float64) + 0.5) / n - 0.5
    d2 = u[None, :] ** 2 + u[:, None] ** 2
    return np.exp(-d2 / (2.0 * cfg.sigma**2)).astype(np.float32)


def draw_quad_gaussian(canvas: np.ndarray, quad: np.ndarray, template: np.ndarray) -> None:
    """Warp ``template`` onto the quad (4x2, clockwise from top-left) and max it into ``canvas``.

    Works inside the quad's bounding box only, so a character costs O(its area).
    """
    import cv2

    quad = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    h, w = canvas.shape
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 1
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    n = template.shape[0]
    src = np.array([[0, 0], [n, 0], [n, n], [0, n]], dtype=np.float32)
    # Pixel (r, c) samples the continuous point (c + 0.5, r + 0.5); shift by -0.5 so that
    # warpPerspective (which maps integer pixel indices) lands the template on the quad.
    dst = quad - np.array([cx0, cy0], dtype=np.float32) - 0.5
    src_c = src - 0.5
    m = cv2.getPerspectiveTransform(src_c, dst)
    patch = cv2.warpPerspective(
        template, m, (cx1 - cx0, cy1 - cy0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    view = canvas[cy0:cy1, cx0:cx1]
    np.maximum(view, patch, out=view)


def affinity_quad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Affinity box between adjacent character quads ``a`` then ``b`` (each 4x2 clockwise from TL).

    Corners: centres of the upper and lower triangles (formed with the box centre) of
    ``a`` and ``b``, ordered clockwise from the top-left.
    """
    a = np.asarray(a, dtype=np.float64).reshape(4, 2)
    b = np.asarray(b, dtype=np.float64).reshape(4, 2)

    def tri_centres(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = q.mean(axis=0)
        top = (q[0] + q[1] + c) / 3.0
        bottom = (q[2] + q[3] + c) / 3.0
        return top, bottom

    ta, ba = tri_centres(a)
    tb, bb = tri_centres(b)
    return np.array([ta, tb, bb, ba], dtype=np.float32)


def char_cells(word_quad: np.ndarray, char_quads: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Character *cells*: each character's extent along the word, the word's full height.

    The generator's character quads are tight glyph boxes (a hyphen is 2 px tall, an
    "x" shorter than an "H"), while the evaluated word boxes span the whole line height.
    Drawing the Gaussians on cells -- the character's span projected on the word's
    baseline direction, between the word quad's top and bottom edges -- gives every
    character of a word the same height, keeps punctuation visible at half resolution,
    and lets the decoder recover the word box with one expansion ratio.

    Args:
        word_quad: 4x2 word quad, clockwise from the top-left.
        char_quads: the word's character quads (4x2 each).

    Returns:
        one 4x2 float32 quad per character, clockwise from the top-left.
    """
    w = np.asarray(word_quad, np.float64).reshape(4, 2)
    origin, axis = w[0], w[1] - w[0]
    length2 = float(axis @ axis)
    if length2 <= 0:
        return [np.asarray(q, np.float32).reshape(4, 2) for q in char_quads]
    out = []
    for q in char_quads:
        t = (np.asarray(q, np.float64).reshape(4, 2) - origin) @ axis / length2
        t0, t1 = float(np.clip(t.min(), 0, 1)), float(np.clip(t.max(), 0, 1))
        top0, top1 = w[0] + t0 * (w[1] - w[0]), w[0] + t1 * (w[1] - w[0])
        bot0, bot1 = w[3] + t0 * (w[2] - w[3]), w[3] + t1 * (w[2] - w[3])
        out.append(np.array([top0, top1, bot1, bot0], np.float32))
    return out


def region_affinity_maps(
    words: Sequence[Sequence[np.ndarray]],
    shape: tuple[int, int],
    cfg: TargetConfig = TargetConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """Region and affinity target maps.

    Args:
        words: for each word, its character quads in reading order (each 4x2, target-map
            pixels, clockwise from the top-left).
        shape: ``(height, width)`` of the maps.
        cfg: Gaussian parameters.

    Returns:
        ``(region, affinity)`` float32 arrays of ``shape`` with values in [0, 1].
    """
    template = gaussian_template(cfg)
    region = np.zeros(shape, dtype=np.float32)
    affinity = np.zeros(shape, dtype=np.float32)
    for chars in words:
        for q in chars:
            draw_quad_gaussian(region, q, template)
        for a, b in zip(chars[:-1], chars[1:]):
            draw_quad_gaussian(affinity, affinity_quad(a, b), template)
    return region, affinity


def field_mask(class_mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 class-index mask to ``(height, width)`` by nearest neighbour."""
    import cv2

    h, w = shape
    return cv2.resize(class_mask, (w, h), interpolation=cv2.INTER_NEAREST)


def label_words(quads: Sequence[np.ndarray], fields: Sequence[str | None]) -> dict[str, list[int]]:
    """Indices of the printed label words ("Surname / Nom", "3 DOB") of each field's value.

    The generator writes every labelled item as its label words, then its value words, with
    the label on the line just above the value and starting at the same left edge. Walking
    back from a field's first value word, the label is the run of unfielded words on one
    line directly above it. A field whose preceding words do not look like that (no label)
    gets none, so this never guesses.

    Args:
        quads: word quads in generation order (4x2, any consistent pixel unit).
        fields: each word's field name, or ``None`` for words that are not a key field.

    Returns:
        field name -> indices of its label words, in reading order.
    """
    out: dict[str, list[int]] = {}
    boxes = [np.asarray(q, np.float64).reshape(4, 2) for q in quads]
    for i, f in enumerate(fields):
        if f is None or f in out or (i > 0 and fields[i - 1] == f):
            continue
        value = boxes[i]
        top, height, left = value[:, 1].min(), np.ptp(value[:, 1]), value[:, 0].min()
        run: list[int] = []
        line_y = None
        for j in range(i - 1, -1, -1):
            b = boxes[j]
            cy, bottom, h = b[:, 1].mean(), b[:, 1].max(), max(np.ptp(b[:, 1]), 1e-6)
            if fields[j] is not None:
                break
            if line_y is None:  # the label's last word: right above the value
                if not (bottom <= top + 0.3 * height and top - bottom <= 0.8 * height):
                    break
                line_y = cy
            elif abs(cy - line_y) > 0.5 * h:
                break
            run.append(j)
        if run and abs(boxes[run[-1]][:, 0].min() - left) <= 0.5 * height:
            out[f] = sorted(run)
    return out


def word_gap_mask(quads: Sequence[np.ndarray], shape: tuple[int, int], scale: float, max_gap: float = 1.0) -> np.ndarray:
    """Pixels between each word and its nearest right neighbour on the same line.

    A word's gap to the next is often a single target-map pixel (0.14-0.25 of the text
    height at half resolution), where the region score dips only a little and affinity
    is what tells words apart; these pixels are a tiny share of the map, so a loss
    weighted on them (``craft.gap_weight``) asks the network to get them right.

    Args:
        quads: word quads (4x2, upright documents), in pixels of the source image.
        shape: ``(height, width)`` of the target map.
        scale: target-map pixels per source pixel.
        max_gap: largest gap, as a fraction of the smaller word's height, still counted.

    Returns:
        A bool array of ``shape``: True on the columns from one word's right edge to the
        next word's left edge (at least one), over the rows both words share.
    """
    out = np.zeros(shape, dtype=bool)
    boxes = np.array([[q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()] for q in quads]) * scale
    for i, (_, y0, x1, y1) in enumerate(boxes):
        height = y1 - y0
        top, bottom = np.maximum(boxes[:, 1], y0), np.minimum(boxes[:, 3], y1)
        smaller = np.minimum(boxes[:, 3] - boxes[:, 1], height)  # the smaller word's height
        gap = boxes[:, 0] - x1
        beside = (bottom - top >= 0.5 * smaller) & (gap >= -0.1 * smaller) & (gap <= max_gap * smaller)
        beside[i] = False
        if not beside.any():
            continue
        j = int(np.flatnonzero(beside)[np.argmin(gap[beside])])
        c0 = int(np.floor(x1))
        c1 = max(int(np.ceil(boxes[j, 0])), c0 + 1)
        out[max(int(np.floor(top[j])), 0) : int(np.ceil(bottom[j])), max(c0, 0) : c1] = True
    return out
