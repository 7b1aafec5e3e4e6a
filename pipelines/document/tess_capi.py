"""Tesseract through its C API (libtesseract via ctypes): the model stays loaded between calls.

Spawning the ``tesseract`` binary per call (what pytesseract does) reloads the language model every
time; for MRZ lines that start-up dominates. One ``TessBaseAPI`` per thread is kept here (the API
is not thread-safe, and ctypes releases the GIL during a call, so two threads run in parallel).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from functools import lru_cache

import numpy as np

from veid.errors import StageError


@lru_cache(maxsize=1)
def load_library() -> ctypes.CDLL | None:
    """The libtesseract shared library, or ``None`` when it is not installed."""
    for name in (ctypes.util.find_library("tesseract"), "libtesseract.so.5", "libtesseract.so.4"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        lib.TessBaseAPICreate.restype = vp
        lib.TessBaseAPIInit4.argtypes = [vp, cp, cp, ctypes.c_int, ctypes.POINTER(cp), ctypes.c_int,
                                         ctypes.POINTER(cp), ctypes.POINTER(cp), ctypes.c_size_t, ctypes.c_int]
        lib.TessBaseAPIInit4.restype = ctypes.c_int
        lib.TessBaseAPISetVariable.argtypes = [vp, cp, cp]
        lib.TessBaseAPISetPageSegMode.argtypes = [vp, ctypes.c_int]
        lib.TessBaseAPISetImage.argtypes = [vp, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.TessBaseAPISetSourceResolution.argtypes = [vp, ctypes.c_int]
        lib.TessBaseAPIGetUTF8Text.argtypes = [vp]
        lib.TessBaseAPIGetUTF8Text.restype = ctypes.c_void_p
        lib.TessBaseAPIGetBoxText.argtypes = [vp, ctypes.c_int]
        lib.TessBaseAPIGetBoxText.restype = ctypes.c_void_p
        lib.TessBaseAPIMeanTextConf.argtypes = [vp]
        lib.TessBaseAPIMeanTextConf.restype = ctypes.c_int
        lib.TessDeleteText.argtypes = [ctypes.c_void_p]
        lib.TessBaseAPIClear.argtypes = [vp]
        lib.TessBaseAPIDelete.argtypes = [vp]
        return lib
    return None


class CApiEngine:
    """One configured Tesseract (language, engine, page mode, variables), one native instance per thread.

    Args:
        lang: traineddata name.
        oem: engine mode.
        psm: page segmentation mode.
        init_vars: variables that only take effect at initialisation (``load_system_dawg`` ...).
        vars: variables set after initialisation (``tessedit_char_whitelist`` ...).
        dpi: resolution reported for images, dots per inch (the binary assumes 70 for PNGs without one).

    Raises:
        StageError: libtesseract is missing or the language cannot be loaded.
    """

    def __init__(self, lang: str, oem: int, psm: int, init_vars: dict[str, str], vars: dict[str, str],
                 dpi: int = 70) -> None:
        self.lib = load_library()
        if self.lib is None:
            raise StageError("libtesseract is not installed")
        self.lang, self.oem, self.psm, self.dpi = lang, oem, psm, dpi
        self.init_vars, self.vars = dict(init_vars), dict(vars)
        self._local = threading.local()
        self._handles: list[int] = []
        self._lock = threading.Lock()

    def _api(self) -> int:
        api = getattr(self._local, "api", None)
        if api is not None:
            return api
        lib = self.lib
        api = lib.TessBaseAPICreate()
        names = [k.encode() for k in self.init_vars]
        values = [v.encode() for v in self.init_vars.values()]
        arr_t = ctypes.c_char_p * max(len(names), 1)
        rc = lib.TessBaseAPIInit4(api, None, self.lang.encode(), self.oem, None, 0, arr_t(*names), arr_t(*values),
                                  len(names), 0)
        if rc != 0:
            lib.TessBaseAPIDelete(api)
            raise StageError(f"tesseract could not load language '{self.lang}' with engine mode {self.oem}: is its "
                             "traineddata installed? (Debian: tesseract-ocr-eng; 'Latin' is tesseract-ocr-script-latn, "
                             "which `make install` installs)")
        lib.TessBaseAPISetPageSegMode(api, self.psm)
        # Tesseract's diagnostics (blob statistics of a blank crop...) go to stderr unless redirected
        lib.TessBaseAPISetVariable(api, b"debug_file", os.devnull.encode())
        for k, v in self.vars.items():
            lib.TessBaseAPISetVariable(api, k.encode(), v.encode())
        self._local.api = api
        with self._lock:
            self._handles.append(api)
        return api

    def _run(self, image: np.ndarray, fn: str, *args: int) -> tuple[str, int]:
        gray = np.ascontiguousarray(image if image.ndim == 2 else image[..., :3].mean(axis=2).astype(np.uint8))
        if gray.dtype != np.uint8:
            raise StageError(f"tesseract needs uint8 images, got {gray.dtype}")
        api, lib = self._api(), self.lib
        h, w = gray.shape
        lib.TessBaseAPISetImage(api, gray.ctypes.data, w, h, 1, w)
        lib.TessBaseAPISetSourceResolution(api, self.dpi)
        ptr = getattr(lib, fn)(api, *args)
        try:
            text = ctypes.string_at(ptr).decode("utf-8", "replace") if ptr else ""
        finally:
            if ptr:
                lib.TessDeleteText(ptr)
        conf = lib.TessBaseAPIMeanTextConf(api)
        lib.TessBaseAPIClear(api)
        return text, conf

    def text(self, image: np.ndarray) -> tuple[str, int]:
        """UTF-8 text and mean confidence (0-100) of a uint8 image."""
        return self._run(image, "TessBaseAPIGetUTF8Text")

    def boxes(self, image: np.ndarray) -> str:
        """Tesseract's box text (``char left bottom right top page`` per line, origin bottom-left)."""
        return self._run(image, "TessBaseAPIGetBoxText", 0)[0]

    def __del__(self) -> None:
        lib = getattr(self, "lib", None)
        for api in getattr(self, "_handles", []):
            if lib is not None:
                lib.TessBaseAPIDelete(api)
