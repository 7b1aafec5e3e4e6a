"""Decode face photos (path, bytes or array) into RGB uint8 arrays, rejecting bad input with InputError."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from veid.errors import InputError

#: Smallest side (pixels) of an image in which a face could be judged at all.
MIN_SIDE_PX = 32
#: Largest image accepted (pixels in total) so that a hostile upload cannot exhaust memory.
MAX_PIXELS = 40_000_000


def load_rgb(source: str | Path | bytes | np.ndarray) -> np.ndarray:
    """Return ``source`` as an ``(H, W, 3)`` RGB ``uint8`` array.

    Args:
        source: a file path, encoded image bytes (JPEG/PNG/...), or an array that is
            already ``(H, W)`` grayscale, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, ``uint8``.

    Raises:
        InputError: unreadable or empty file, not an image, truncated, wrong shape or dtype,
            smaller than :data:`MIN_SIDE_PX` or larger than :data:`MAX_PIXELS`.
    """
    if isinstance(source, np.ndarray):
        image = _from_array(source)
    else:
        if isinstance(source, (str, Path)):
            path = Path(source)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read image file {path.name!r}: {exc.strerror}") from exc
            what = f"file {path.name!r}"
        elif isinstance(source, (bytes, bytearray, memoryview)):
            data, what = bytes(source), "image bytes"
        else:
            raise InputError(f"expected a path, bytes or numpy array, got {type(source).__name__}")
        if not data:
            raise InputError(f"{what} is empty")
        buf = np.frombuffer(data, dtype=np.uint8)
        bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if bgr is None:
            raise InputError(f"{what} is not a decodable image (JPEG, PNG, WebP, BMP, TIFF)")
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE_PX:
        raise InputError(f"image is {w}x{h} px; each side must be at least {MIN_SIDE_PX} px")
    if h * w > MAX_PIXELS:
        raise InputError(f"image is {w}x{h} px; at most {MAX_PIXELS} pixels are accepted")
    return np.ascontiguousarray(image)


def _from_array(arr: np.ndarray) -> np.ndarray:
    if arr.dtype != np.uint8:
        raise InputError(f"image array must be uint8, got {arr.dtype}")
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr
    if arr.ndim == 3 and arr.shape[2] == 4:
        return cv2.cvtColor(arr, cv2.COLOR_RGBA2RGB)
    raise InputError(f"image array must be (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
