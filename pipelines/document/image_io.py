"""Safe image decoding: size limits checked from the header before any pixel is decoded."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from veid.errors import InputError


@dataclass(frozen=True)
class ImageLimits:
    """Bounds on accepted uploads (``params.yaml`` section ``document_input``).

    Attributes:
        max_bytes: largest encoded file, bytes.
        max_pixels: largest width x height declared in the header, pixels.
        min_side: smallest accepted width and height, pixels.
    """

    max_bytes: int = 25_000_000
    max_pixels: int = 40_000_000
    min_side: int = 64


def decode_image(data: bytes | str | Path, limits: ImageLimits | None = None) -> np.ndarray:
    """Decode an uploaded photo into an ``HxWx3`` uint8 RGB array, upright per its EXIF orientation.

    The header is read first (Pillow does not decode pixels on open), so a file declaring
    20000 x 20000 pixels is refused before any memory is spent on it.

    Args:
        data: encoded bytes or a file path.
        limits: size limits (defaults: :class:`ImageLimits`).

    Raises:
        InputError: not an image, truncated, too large, too small, or unreadable.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    limits = limits or ImageLimits()
    if isinstance(data, (str, Path)):
        path = Path(data)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read image file {path.name}: {exc.strerror}") from exc
        if size > limits.max_bytes:
            raise InputError(f"image file is {size} bytes, more than the {limits.max_bytes} allowed")
        data = path.read_bytes()
    if not isinstance(data, (bytes, bytearray)) or len(data) == 0:
        raise InputError("empty image data")
    if len(data) > limits.max_bytes:
        raise InputError(f"image is {len(data)} bytes, more than the {limits.max_bytes} allowed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > limits.max_pixels:
                raise InputError(f"image declares {w}x{h} pixels, more than the {limits.max_pixels} allowed")
            if min(w, h) < limits.min_side:
                raise InputError(f"image is {w}x{h} pixels; at least {limits.min_side} on each side is needed")
            img.load()  # decodes; raises on truncated data
            img = ImageOps.exif_transpose(img)
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard, raised on open from the header, before any pixel is decoded
        raise InputError(f"image declares more than the {limits.max_pixels} pixels allowed ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"not a decodable image: {exc}") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow reports truncation and corruption this way
        raise InputError(f"image data is truncated or corrupt: {exc}") from exc
    return np.ascontiguousarray(rgb)
