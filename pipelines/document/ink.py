"""Where the ink of a one-line crop lies: the text line's rows, found by projecting ink onto the rows."""

from __future__ import annotations

import cv2
import numpy as np


def longest_run(mask: np.ndarray) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) of the longest run of True in a 1-D mask."""
    best, start = None, None
    for i, v in enumerate(np.append(mask, False)):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def stretch_contrast(gray: np.ndarray, low_pct: float = 2.0, high_pct: float = 98.0) -> np.ndarray:
    """Grey levels mapped so the ``low_pct`` percentile is black and the ``high_pct`` one white (uint8)."""
    lo, hi = np.percentile(gray, low_pct), np.percentile(gray, high_pct)
    out = (gray.astype(np.float32) - lo) * (255.0 / max(float(hi - lo), 1.0))
    return np.clip(out, 0, 255).astype(np.uint8)


def text_rows(gray: np.ndarray, min_ink: float = 0.08, min_contrast: int = 16) -> tuple[int, int] | None:
    """Rows ``(top, bottom)`` (bottom exclusive) of the text line of a dark-on-light grey crop: the longest
    run of rows where more than ``min_ink`` of the pixels are ink (Otsu's threshold). ``None``: no ink (a
    crop whose grey levels span less than ``min_contrast`` is blank)."""
    if gray.size == 0 or int(gray.max()) - int(gray.min()) < min_contrast:
        return None
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return longest_run(ink.mean(axis=1) > min_ink)
