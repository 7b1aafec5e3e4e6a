"""Passive presentation-attack signals: periodic screen/print texture, and a selfie that is the document portrait itself."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from veid.types import CheckResult


@dataclass(frozen=True)
class LivenessConfig:
    """Signal thresholds (params.yaml ``face.liveness``), chosen on the generator's train-split captures.

    Attributes:
        tile: side (pixels) of the square tiles whose spectra are analysed.
        max_tiles: how many tiles, taken on a centred grid, at most.
        band: ``(low, high)`` spatial frequencies searched for peaks, cycles per pixel.
        periodic_threshold: peak prominence (log10 power above the local median) above which
            the texture counts as periodic (a screen's pixel grid/moire or a halftone print).
        print_max_saturation: median HSV saturation (0-1) of the region at or below which,
            together with a raised black level, the capture is called a print.
        print_min_black_level: 1st percentile of grey (0-255) at or above which the darkest
            ink counts as raised (a print re-photographed has no deep black).
        identical_min_ncc: normalised cross-correlation of the two aligned face chips (grey,
            central 100x100 px) at or above which the selfie is taken to be the document portrait
            itself (a photo of the card), not a second photo of the person. Chosen on the
            generator's val split: the same portrait re-photographed measures median 0.96,
            genuine second photos at most 0.75.
    """

    tile: int = 256
    max_tiles: int = 9
    band: tuple[float, float] = (0.06, 0.45)
    periodic_threshold: float = 2.7
    print_max_saturation: float = 0.06
    print_min_black_level: float = 34.0
    identical_min_ncc: float = 0.8


@dataclass(frozen=True)
class TextureMeasures:
    """Raw texture measurements of one photo."""

    periodic_peak: float
    saturation: float
    black_level: float


def _window(n: int) -> np.ndarray:
    w = np.hanning(n)
    return np.outer(w, w)


def periodic_peak(grey: np.ndarray, cfg: LivenessConfig) -> float:
    """Largest spectral peak prominence over the tiles (log10 units; ~0.5-1 on natural content).

    Each tile's log power spectrum is compared with its own 9x9 median-filtered version, so a
    smooth 1/f spectrum scores low and a periodic pattern (screen pixels, moire bands, halftone
    dots) scores high. JPEG's 8-pixel block grid (frequencies k/8 on the axes) is masked.
    """
    n = cfg.tile
    h, w = grey.shape
    if h < n or w < n:
        grey = cv2.resize(grey, (max(w, n), max(h, n)), interpolation=cv2.INTER_LINEAR)
        h, w = grey.shape
    k = int(np.ceil(np.sqrt(cfg.max_tiles)))
    ys = np.linspace(h * 0.2, h * 0.8 - n, k).clip(0, h - n).astype(int)
    xs = np.linspace(w * 0.2, w * 0.8 - n, k).clip(0, w - n).astype(int)
    freqs = np.fft.fftshift(np.fft.fftfreq(n))
    fy, fx = np.meshgrid(freqs, freqs, indexing="ij")
    radius = np.hypot(fx, fy)
    band = (radius >= cfg.band[0]) & (radius <= cfg.band[1])
    step = 1.0 / n
    for j in range(1, 5):  # JPEG block grid on the axes
        for axis_f, other in ((np.abs(fx), np.abs(fy)), (np.abs(fy), np.abs(fx))):
            band &= ~((np.abs(axis_f - j / 8.0) <= 1.5 * step) & (other <= 1.5 * step))
    win = _window(n)
    best = 0.0
    for y in ys:
        for x in xs:
            t = grey[y:y + n, x:x + n].astype(np.float32)
            t = (t - t.mean()) * win
            spec = np.log10(np.abs(np.fft.fftshift(np.fft.fft2(t))) ** 2 + 1e-3).astype(np.float32)
            base = cv2.medianBlur(spec, 5)
            base = cv2.medianBlur(base, 5)
            prominence = (spec - base)[band]
            best = max(best, float(prominence.max()))
    return best


def texture_measures(image: np.ndarray, cfg: LivenessConfig, quad: np.ndarray | None = None) -> TextureMeasures:
    """Periodic-peak prominence, median saturation and black level of an RGB uint8 photo.

    Args:
        image: the capture.
        quad: optional ``(4, 2)`` corners of the document (or face) region, pixels; saturation
            and black level are measured inside it (whole image when ``None``).
    """
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    sat = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1]
    if quad is not None:
        mask = np.zeros(grey.shape, np.uint8)
        cv2.fillConvexPoly(mask, np.round(np.asarray(quad)).astype(np.int32), 1)
        inside = mask > 0
        if inside.sum() >= 1024:
            return TextureMeasures(periodic_peak(grey, cfg), float(np.median(sat[inside])) / 255.0,
                                   float(np.percentile(grey[inside], 1)))
    return TextureMeasures(periodic_peak(grey, cfg), float(np.median(sat)) / 255.0, float(np.percentile(grey, 1)))


class PresentationAttackSignals:
    """``PresentationAttackSignals(cfg)(rgb) -> (screen_replay, print_attack)`` checks on one capture.

    Screen replay: a periodic texture (pixel grid, moire). Print attack: washed-out colour and
    no deep black. Rates measured on the generator's negatives are printed by `python -m bench face`; these
    are signals tuned on synthetic attacks, not proof of liveness.
    """

    def __init__(self, cfg: LivenessConfig) -> None:
        self.cfg = cfg

    def __call__(self, image: np.ndarray, quad: np.ndarray | None = None) -> tuple[CheckResult, CheckResult]:
        """Both signals for one capture (``quad``: optional document corners, see :func:`texture_measures`)."""
        m = texture_measures(image, self.cfg, quad)
        is_screen = m.periodic_peak > self.cfg.periodic_threshold
        is_print = m.saturation <= self.cfg.print_max_saturation and m.black_level >= self.cfg.print_min_black_level
        score = float(np.clip(self.cfg.periodic_threshold / max(m.periodic_peak, 1e-6), 0.0, 1.0))
        return (
            CheckResult("liveness.screen_replay", not is_screen, score if is_screen else 1.0,
                        f"periodic screen-like texture (peak {m.periodic_peak:.2f} > {self.cfg.periodic_threshold:.2f})"
                        if is_screen else ""),
            CheckResult("liveness.print_attack", not is_print, 0.0 if is_print else 1.0,
                        f"print-like capture: saturation {m.saturation:.2f} <= {self.cfg.print_max_saturation:.2f} and "
                        f"black level {m.black_level:.0f} >= {self.cfg.print_min_black_level:.0f}" if is_print else ""),
        )


def chip_ncc(chip_a: np.ndarray, chip_b: np.ndarray, margin: int = 25) -> float:
    """Normalised cross-correlation (-1..1) of two aligned RGB chips, grey, without a ``margin`` px border."""
    a = cv2.cvtColor(chip_a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    b = cv2.cvtColor(chip_b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    a, b = a[margin:-margin, margin:-margin], b[margin:-margin, margin:-margin]
    a = (a - a.mean()) / (a.std() + 1e-6)
    b = (b - b.mean()) / (b.std() + 1e-6)
    return float((a * b).mean())


def identical_portrait_check(portrait_chip: np.ndarray, selfie_chip: np.ndarray, cfg: LivenessConfig) -> CheckResult:
    """Flag a selfie that is the document portrait itself (someone photographed the card).

    Two photos of the same person taken at different sittings differ in pose, expression and
    light even when their embeddings are close; a re-photographed portrait keeps all three, so
    the aligned chips correlate pixel by pixel.

    Args:
        portrait_chip: aligned chip of the document portrait (``AlignedFace.chip``).
        selfie_chip: aligned chip of the selfie.
    """
    ncc = chip_ncc(portrait_chip, selfie_chip)
    same = ncc >= cfg.identical_min_ncc
    return CheckResult(
        "liveness.selfie_is_document_portrait", not same,
        1.0 if not same else float(np.clip(1.0 - ncc, 0.0, 1.0)),
        f"selfie is the document portrait itself (chip correlation {ncc:.2f} >= {cfg.identical_min_ncc:.2f})"
        if same else "",
    )
