"""Bad input gives a clear InputError, never a crash or a silent empty result."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from pipelines.document.image_io import ImageLimits, decode_image
from pipelines.document.perspective import DocumentWarper
from pipelines.document.pipeline import DocumentConfig, DocumentStages, verify_document
from veid.errors import InputError


def _png(w: int, h: int, color=(200, 200, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG whose IHDR declares ``w x h`` pixels, followed by a tiny (wrong) data stream."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def test_not_an_image():
    with pytest.raises(InputError, match="not a decodable image"):
        decode_image(b"%PDF-1.4 this is not an image at all")


def test_empty_bytes():
    with pytest.raises(InputError, match="empty"):
        decode_image(b"")


def test_truncated_file():
    data = _png(300, 200)
    with pytest.raises(InputError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2])


def test_one_pixel_image():
    with pytest.raises(InputError, match="1x1 pixels"):
        decode_image(_png(1, 1))


def test_huge_declared_size_is_refused_before_decoding():
    with pytest.raises(InputError, match="declares"):
        decode_image(_png_header_only(20000, 20000))


def test_declared_size_over_our_limit_is_named():
    with pytest.raises(InputError, match="declares 9000x9000 pixels"):
        decode_image(_png_header_only(9000, 9000))


def test_file_too_many_bytes(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(_png(300, 200))
    with pytest.raises(InputError, match="bytes"):
        decode_image(path, ImageLimits(max_bytes=100))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        decode_image(tmp_path / "nope.jpg")


def test_a_good_image_decodes_to_rgb():
    rgb = decode_image(_png(300, 200, (10, 20, 30)))
    assert rgb.shape == (200, 300, 3) and rgb.dtype == np.uint8 and tuple(rgb[0, 0]) == (10, 20, 30)


def test_no_document_in_view():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (400, 400, 3), dtype=np.uint8)  # square: no card outline, not card-shaped
    with pytest.raises(InputError, match="no document in view"):
        DocumentWarper()(noise, allow_whole_frame=True)


class _NoFaces:
    def detect_faces(self, image, **kwargs):
        return []


def test_no_face_and_no_barcode_is_an_input_error():
    cfg = DocumentConfig()
    stages = DocumentStages.build(cfg, None, face_detector=_NoFaces())
    with pytest.raises(InputError, match="no face"):
        verify_document(np.full((480, 640, 3), 230, np.uint8), cfg, stages)


def test_pipeline_refuses_a_tiny_array():
    cfg = DocumentConfig()
    stages = DocumentStages.build(cfg, None, face_detector=_NoFaces())
    with pytest.raises(InputError, match="pixels"):
        verify_document(np.zeros((1, 1, 3), np.uint8), cfg, stages)


def test_pipeline_refuses_bytes_that_are_not_an_image():
    cfg = DocumentConfig()
    stages = DocumentStages.build(cfg, None, face_detector=_NoFaces())
    with pytest.raises(InputError):
        verify_document(b"GIF89a-but-broken", cfg, stages)
