"""Barcode decoding: PDF417 with zxing-cpp, QR and 1-D codes with pyzbar; AAMVA payloads parsed."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from pipelines.document.aamva import AamvaData, parse_payload
from veid.errors import InputError, StageError
from veid.types import Quad


class BarcodeFormat(str, enum.Enum):
    """Symbologies the pipeline reads."""

    PDF417 = "PDF417"
    QR = "QR"
    CODE128 = "CODE128"
    CODE39 = "CODE39"
    OTHER = "OTHER"


@dataclass(frozen=True)
class Barcode:
    """One decoded symbol: format, exact payload bytes, its text, and where it is (image pixels)."""

    format: BarcodeFormat
    payload: bytes
    text: str
    quad: Quad | None

    def aamva(self) -> AamvaData | None:
        """The AAMVA licence data the payload carries, or ``None`` when it is not an AAMVA payload."""
        try:
            return parse_payload(self.payload)
        except InputError:
            return None


@dataclass(frozen=True)
class BarcodeConfig:
    """Barcode reader settings (``params.yaml`` section ``document_barcode``).

    Attributes:
        try_rotate: let zxing-cpp also try 90/270 degree rotations.
        try_downscale: let zxing-cpp also try downscaled images (large photos).
        use_pyzbar: also run pyzbar for QR and 1-D codes.
    """

    try_rotate: bool = True
    try_downscale: bool = True
    use_pyzbar: bool = True


def _zxing_format(name: str) -> BarcodeFormat:
    name = name.upper().replace("-", "").replace(" ", "")
    if "PDF417" in name:
        return BarcodeFormat.PDF417
    if "QR" in name:
        return BarcodeFormat.QR
    if "128" in name:
        return BarcodeFormat.CODE128
    if "39" in name:
        return BarcodeFormat.CODE39
    return BarcodeFormat.OTHER


class BarcodeReader:
    """Finds and decodes every barcode in an image (uint8 RGB or grey); exact payload bytes kept."""

    def __init__(self, cfg: BarcodeConfig | None = None) -> None:
        self.cfg = cfg or BarcodeConfig()

    def __call__(self, image: np.ndarray) -> list[Barcode]:
        """All symbols found, PDF417 first.

        Raises:
            StageError: a decoder library is missing or failed on a valid image.
        """
        try:
            import zxingcpp
        except ImportError as exc:
            raise StageError("zxing-cpp is not installed") from exc
        found: list[Barcode] = []
        try:
            results = zxingcpp.read_barcodes(image, try_rotate=self.cfg.try_rotate,
                                             try_downscale=self.cfg.try_downscale)
        except (RuntimeError, ValueError) as exc:
            raise StageError(f"zxing-cpp failed: {exc}") from exc
        for r in results:
            if not r.valid:
                continue
            pos = r.position
            quad = Quad.from_array([[pos.top_left.x, pos.top_left.y], [pos.top_right.x, pos.top_right.y],
                                    [pos.bottom_right.x, pos.bottom_right.y], [pos.bottom_left.x, pos.bottom_left.y]])
            found.append(Barcode(_zxing_format(str(r.format)), bytes(r.bytes), r.text, quad))
        if self.cfg.use_pyzbar and not any(b.format is not BarcodeFormat.PDF417 for b in found):
            found += self._pyzbar(image, known={b.payload for b in found})
        return sorted(found, key=lambda b: b.format is not BarcodeFormat.PDF417)

    @staticmethod
    def _pyzbar(image: np.ndarray, known: set[bytes]) -> list[Barcode]:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError):  # libzbar missing: QR/1-D via zxing only
            return []
        out = []
        for sym in pyzbar.decode(image):
            if sym.data in known:
                continue
            pts = sym.polygon
            quad = Quad.from_array([[p.x, p.y] for p in pts[:4]]) if len(pts) >= 4 else None
            fmt = {"QRCODE": BarcodeFormat.QR, "CODE128": BarcodeFormat.CODE128,
                   "CODE39": BarcodeFormat.CODE39}.get(sym.type, BarcodeFormat.OTHER)
            out.append(Barcode(fmt, bytes(sym.data), sym.data.decode("latin-1"), quad))
        return out
