"""Barcode decoding: PDF417 with zxing-cpp, QR and 1-D codes with pyzbar; AAMVA payloads parsed."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

import numpy as np

from pipelines.document.aamva import AamvaData, parse_payload
from pipelines.document.perspective import WarpedDocument
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
        rectify_scale: when zxing-cpp locates a PDF417 but cannot decode it (too many codeword errors,
            typically a symbol bent by perspective), warp the located quadrilateral flat at this scale and
            decode again (0: off).
        rectify_margin: quiet zone added around the flattened symbol, as a fraction of its width.
        turn_degrees: when no barcode is found in a photo nor on its flattened document, the photo turned
            by each of these angles in turn is searched for a PDF417 (zxing-cpp's PDF417 detector gives up
            on symbols a few degrees off its axes: a licence back held 4-6 degrees askew with some
            perspective decoded only once turned by 4-10 degrees). Empty: off.
    """

    try_rotate: bool = True
    try_downscale: bool = True
    use_pyzbar: bool = True
    rectify_scale: float = 1.5
    rectify_margin: float = 0.08
    turn_degrees: tuple[float, ...] = (3.0, -3.0, 6.0, -6.0, 9.0, -9.0)


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


def _corners(pos) -> np.ndarray:
    """zxing-cpp's position as a ``4x2`` array, clockwise from the symbol's top-left corner."""
    return np.asarray([[pos.top_left.x, pos.top_left.y], [pos.top_right.x, pos.top_right.y],
                       [pos.bottom_right.x, pos.bottom_right.y], [pos.bottom_left.x, pos.bottom_left.y]], np.float64)


def symbol_angle(quad: Quad) -> int:
    """The clockwise rotation (0, 90, 180 or 270 degrees) of a symbol in an image (y down), from its corners
    listed clockwise from the symbol's own top-left: the direction of its top edge, to the nearest quarter turn."""
    c = quad.to_array()
    dx, dy = c[1] - c[0]
    return int(round(float(np.degrees(np.arctan2(dy, dx))) / 90.0)) * 90 % 360


class BarcodeReader:
    """Finds and decodes every barcode in an image (uint8 RGB or grey); exact payload bytes kept."""

    def __init__(self, cfg: BarcodeConfig | None = None) -> None:
        self.cfg = cfg or BarcodeConfig()

    def __call__(self, image: np.ndarray) -> list[Barcode]:
        """All symbols found, PDF417 first.

        Raises:
            StageError: a decoder library is missing or failed on a valid image.
        """
        zxingcpp = _zxingcpp()
        found: list[Barcode] = []
        rectify = self.cfg.rectify_scale > 0
        try:
            results = zxingcpp.read_barcodes(image, try_rotate=self.cfg.try_rotate,
                                             try_downscale=self.cfg.try_downscale, return_errors=rectify)
            for r in results:
                if r.valid:
                    found.append(Barcode(_zxing_format(str(r.format)), bytes(r.bytes), r.text,
                                         Quad.from_array(_corners(r.position))))
            if rectify and not any(b.format is BarcodeFormat.PDF417 for b in found):
                for r in results:
                    if not r.valid and _zxing_format(str(r.format)) is BarcodeFormat.PDF417:
                        found += self._rectified(zxingcpp, image, _corners(r.position))
                        if found:
                            break
        except (RuntimeError, ValueError) as exc:
            raise StageError(f"zxing-cpp failed: {exc}") from exc
        if self.cfg.use_pyzbar and not any(b.format is not BarcodeFormat.PDF417 for b in found):
            found += self._pyzbar(image, known={b.payload for b in found})
        return sorted(found, key=lambda b: b.format is not BarcodeFormat.PDF417)

    def turned_pdf417(self, image: np.ndarray) -> list[Barcode]:
        """The PDF417 symbols of ``image`` turned by the first of ``turn_degrees`` that shows one (corners
        mapped back to ``image``); ``[]`` when none does."""
        import cv2

        zxingcpp = _zxingcpp()
        h, w = image.shape[:2]
        for degrees in self.cfg.turn_degrees:
            # turned about the centre on a canvas large enough to keep every corner
            m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
            cos, sin = abs(m[0, 0]), abs(m[0, 1])
            tw, th = int(np.ceil(w * cos + h * sin)), int(np.ceil(w * sin + h * cos))
            m[:, 2] += ((tw - w) / 2, (th - h) / 2)
            turned = cv2.warpAffine(image, m, (tw, th), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            try:
                found = _pdf417s(zxingcpp, turned, np.vstack([cv2.invertAffineTransform(m), [0.0, 0.0, 1.0]]),
                                 try_rotate=self.cfg.try_rotate, try_downscale=self.cfg.try_downscale)
            except (RuntimeError, ValueError) as exc:
                raise StageError(f"zxing-cpp failed: {exc}") from exc
            if found:
                return found
        return []

    def _rectified(self, zxingcpp, image: np.ndarray, corners: np.ndarray) -> list[Barcode]:
        """The PDF417 symbols read from the quadrilateral ``corners`` warped flat (corners mapped back)."""
        import cv2

        width = float(np.linalg.norm(corners[1] - corners[0]))
        height = float(np.linalg.norm(corners[3] - corners[0]))
        if min(width, height) < 8:  # a degenerate location (corners on the image edge)
            return []
        w, h = round(width * self.cfg.rectify_scale), round(height * self.cfg.rectify_scale)
        m = round(self.cfg.rectify_margin * w)
        flat_corners = np.float32([[m, m], [w + m, m], [w + m, h + m], [m, h + m]])
        matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), flat_corners)
        flat = cv2.warpPerspective(image, matrix, (w + 2 * m, h + 2 * m), flags=cv2.INTER_CUBIC,
                                   borderMode=cv2.BORDER_REPLICATE)
        return _pdf417s(zxingcpp, flat, np.linalg.inv(matrix), try_downscale=False)

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


def _zxingcpp():
    try:
        import zxingcpp
    except ImportError as exc:
        raise StageError("zxing-cpp is not installed") from exc
    return zxingcpp


def _pdf417s(zxingcpp, image: np.ndarray, to_source: np.ndarray, **options) -> list[Barcode]:
    """The valid PDF417 symbols zxing-cpp decodes in ``image`` (a view made of the source image), their corners
    mapped back through the ``3x3`` homography ``to_source``; ``options`` go to ``read_barcodes``."""
    import cv2

    out = []
    for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.PDF417, **options):
        if r.valid:
            pts = cv2.perspectiveTransform(_corners(r.position)[None].astype(np.float64), to_source)[0]
            out.append(Barcode(BarcodeFormat.PDF417, bytes(r.bytes), r.text, Quad.from_array(pts)))
    return out


def _sharpened(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.addWeighted(image, 1.8, cv2.GaussianBlur(image, (0, 0), 2), -0.8, 0)


def find_barcodes(reader: BarcodeReader, photo: np.ndarray, warped: WarpedDocument | None) -> tuple[Barcode, ...]:
    """The barcodes of ``photo``, else of the flattened document at 1x, 1.5x, then 1.5x sharpened (a blurred
    capture), else a PDF417 in ``photo`` turned by a few degrees (``BarcodeConfig.turn_degrees``); quads always
    in ``photo`` pixels (mapped back through the warp or the turn)."""
    import cv2

    found = reader(photo)
    if found:
        return tuple(found)
    for scale, sharpen in ((1.0, False), (1.5, False), (1.5, True)) if warped is not None else ():
        image = _sharpened(warped.image) if sharpen else warped.image
        if scale != 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        found = reader(image)
        if found:
            to_photo = warped.homography @ np.diag([1 / scale, 1 / scale, 1.0])
            return tuple(b if b.quad is None else replace(b, quad=Quad.from_array(cv2.perspectiveTransform(
                b.quad.to_array()[None].astype(np.float64), to_photo)[0])) for b in found)
    return tuple(reader.turned_pdf417(photo))
