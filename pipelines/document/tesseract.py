"""Tesseract OCR calls: one configured engine per field kind, single-threaded, errors mapped to ours."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from veid.errors import StageError

MRZ_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


@dataclass(frozen=True)
class OcrText:
    """Text Tesseract read and its mean word confidence in ``[0, 1]`` (0 when it reported none)."""

    text: str
    confidence: float


class Tesseract:
    """Runs the ``tesseract`` binary through pytesseract with a fixed mode and whitelist.

    Args:
        psm: page segmentation mode (6 block, 7 single line, 8 single word, 13 raw line).
        oem: engine mode (1 LSTM; Debian's eng data has no legacy engine, so 0 fails).
        whitelist: allowed characters ('' allows all).
        lang: traineddata name.
        threads: OpenMP threads per call (1 keeps parallel calls from fighting over 2 cores).
    """

    def __init__(self, psm: int = 7, oem: int = 1, whitelist: str = "", lang: str = "eng", threads: int = 1,
                 backend: str = "auto") -> None:
        self.psm, self.oem, self.whitelist, self.lang = psm, oem, whitelist, lang
        os.environ.setdefault("OMP_THREAD_LIMIT", str(threads))
        self._capi = None
        if backend in ("auto", "capi"):
            from pipelines.document.tess_capi import CApiEngine, load_library

            if load_library() is not None:
                self._capi = CApiEngine(lang, oem, psm, {"load_system_dawg": "0", "load_freq_dawg": "0"},
                                        {"tessedit_char_whitelist": whitelist} if whitelist else {})
            elif backend == "capi":
                raise StageError("libtesseract is not installed")

    @property
    def backend(self) -> str:
        """``"capi"`` (libtesseract, model kept loaded) or ``"cli"`` (the binary via pytesseract)."""
        return "capi" if self._capi is not None else "cli"

    def _config(self) -> str:
        cfg = f"--oem {self.oem} --psm {self.psm} -c load_system_dawg=0 -c load_freq_dawg=0"
        if self.whitelist:
            cfg += f" -c tessedit_char_whitelist={self.whitelist}"
        return cfg

    def text(self, image: np.ndarray) -> str:
        """Plain text of a uint8 grey or RGB image.

        Raises:
            StageError: the tesseract binary is missing or failed.
        """
        if self._capi is not None:
            return self._capi.text(image)[0]
        import pytesseract

        try:
            return pytesseract.image_to_string(image, lang=self.lang, config=self._config())
        except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, OSError) as exc:
            raise StageError(f"tesseract failed: {exc}") from exc

    def words(self, image: np.ndarray) -> list[tuple[str, int, int]]:
        """Words with their horizontal extent: ``(text, left, width)`` in pixels, left to right.

        Raises:
            StageError: the tesseract binary is missing or failed.
        """
        import pytesseract

        try:
            data = pytesseract.image_to_data(image, lang=self.lang, config=self._config(),
                                             output_type=pytesseract.Output.DICT)
        except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, OSError) as exc:
            raise StageError(f"tesseract failed: {exc}") from exc
        out = [(str(t).strip(), int(x), int(w)) for t, x, w in zip(data["text"], data["left"], data["width"])
               if str(t).strip()]
        return sorted(out, key=lambda item: item[1])

    def chars(self, image: np.ndarray) -> list[tuple[str, int, int]]:
        """Characters with their horizontal extent: ``(char, left, right)`` in pixels, in reading order."""
        return [(c, x0, x1) for c, x0, x1, _, _ in self.char_boxes(image)]

    def char_boxes(self, image: np.ndarray) -> list[tuple[str, int, int, int, int]]:
        """Characters with their boxes: ``(char, left, right, top, bottom)``, pixels, y down, reading order.

        Raises:
            StageError: the tesseract binary is missing or failed.
        """
        if self._capi is not None:
            boxes = self._capi.boxes(image)
        else:
            import pytesseract

            try:
                boxes = pytesseract.image_to_boxes(image, lang=self.lang, config=self._config())
            except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, OSError) as exc:
                raise StageError(f"tesseract failed: {exc}") from exc
        height = image.shape[0]
        out = []
        for row in boxes.splitlines():
            parts = row.split(" ")
            if len(parts) >= 5 and parts[0].strip():  # tesseract's origin is the bottom-left corner
                out.append((parts[0], int(parts[1]), int(parts[3]), height - int(parts[4]), height - int(parts[2])))
        return out

    def read(self, image: np.ndarray) -> OcrText:
        """Text and mean confidence (one Tesseract call, via its TSV output)."""
        if self._capi is not None:
            text, conf = self._capi.text(image)
            lines = [" ".join(ln.split()) for ln in text.splitlines() if ln.strip()]
            return OcrText("\n".join(lines), max(conf, 0) / 100.0 if lines else 0.0)
        import pytesseract

        try:
            data = pytesseract.image_to_data(image, lang=self.lang, config=self._config(),
                                             output_type=pytesseract.Output.DICT)
        except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, OSError) as exc:
            raise StageError(f"tesseract failed: {exc}") from exc
        words, confs, lines, last = [], [], [], None
        for txt, conf, blk, par, ln in zip(data["text"], data["conf"], data["block_num"], data["par_num"],
                                           data["line_num"]):
            key = (blk, par, ln)
            if not str(txt).strip():
                continue
            if last is not None and key != last:
                lines.append(" ".join(words))
                words = []
            words.append(str(txt))
            last = key
            if float(conf) >= 0:
                confs.append(float(conf))
        if words:
            lines.append(" ".join(words))
        return OcrText("\n".join(lines), float(np.mean(confs)) / 100.0 if confs else 0.0)
