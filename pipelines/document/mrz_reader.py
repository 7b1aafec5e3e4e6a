"""Find and read a machine-readable zone in a photo: line blobs -> deskewed crops -> Tesseract -> check digits."""

from __future__ import annotations

import itertools
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from pipelines.document.chevrons import ChevronLineReader, count_chevrons, line_width
from pipelines.document.mrz import MrzLayout, MrzReading, combine, fit_length, guess_layout, repair
from pipelines.document.tesseract import MRZ_WHITELIST, Tesseract


@dataclass(frozen=True)
class MrzReaderConfig:
    """Tunables of the MRZ reader (``params.yaml`` section ``document_mrz``).

    Attributes:
        work_size: longest image side, pixels, at which MRZ lines are located.
        min_aspect: least length/height ratio of a text-line blob to be an MRZ line candidate.
        min_length: least line length as a fraction of the working image's longer side.
        char_height: character height, pixels, that crops are rescaled to before OCR.
        close_width: horizontal gap, as a fraction of ``work_size``, bridged to join characters into lines.
        max_groups: most candidate line groups sent to OCR per orientation.
        max_subs: most blind look-alike substitutions tried per alphanumeric field (0: only values some OCR
            read produced, plus the all-digits reading of a number). Each blind swap that makes a check digit
            verify has a 1 in 10 chance of being wrong, and the composite digit does not guard the document
            number (same weights), so the default is 0.
        binarize_variants: also try Otsu and adaptive binarization when the plain read fails.
        min_chevrons: fewest filler chevrons a line group must show to be read as an MRZ.
        extra_reads: when the first two reads fail, read the lines with check digits again under
            binarization variants and cut in halves (slower; more MRZs verify).
        max_calls: most Tesseract calls per image (bounds the worst-case time).
        workers: Tesseract processes run at once.
        try_rotations: also search the image rotated by 90/180/270 degrees when nothing valid is found.
        prefer_td3: a two-line reading valid as TD2 that is also valid as TD3, or coded as a passport, is
            reported as TD3 (see :meth:`MrzReader._prefer_td3`).
    """

    work_size: int = 1000
    min_aspect: float = 8.0
    min_length: float = 0.2
    char_height: int = 34
    close_width: float = 0.028
    max_groups: int = 3
    max_subs: int = 0
    binarize_variants: bool = True
    try_rotations: bool = True
    max_calls: int = 24
    extra_reads: bool = True
    min_chevrons: int = 2
    workers: int = 2
    prefer_td3: bool = True


@dataclass(frozen=True)
class MrzLine:
    """A text-line blob in original-image pixels: centre, size (length along the line, height), angle (deg)."""

    cx: float
    cy: float
    length: float
    height: float
    angle: float

    def corners(self) -> np.ndarray:
        """The four corners ``(4, 2)`` of the rotated rectangle."""
        return cv2.boxPoints(((self.cx, self.cy), (self.length, self.height), self.angle))


@dataclass(frozen=True)
class MrzDetection:
    """The reading and where it was found: the lines' rotated rectangles and the rotation tried (deg, cw)."""

    reading: MrzReading
    lines: tuple[MrzLine, ...]
    rotation: int
    ocr_calls: int


def _line_blobs(gray: np.ndarray, cfg: MrzReaderConfig) -> list[MrzLine]:
    """Long, thin, dense text lines in a grey image (dark text on a light background)."""
    h, w = gray.shape
    scale = cfg.work_size / max(h, w)
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    k = max(9, cfg.work_size // 60)
    blackhat = cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    _, bw = cv2.threshold(blackhat, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    gap = max(5, round(cfg.work_size * cfg.close_width))
    lines = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    lines = cv2.morphologyEx(lines, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 2)))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    side = max(small.shape)
    for c in contours:
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
        if rw < rh:
            rw, rh, ang = rh, rw, ang - 90.0
        if ang < -45:
            ang += 180
        if ang > 45:
            ang -= 180
        if rh < 4 or rw / max(rh, 1e-6) < cfg.min_aspect or rw < cfg.min_length * side or abs(ang) > 30:
            continue
        fill = cv2.contourArea(c) / max(rw * rh, 1.0)
        if fill < 0.5:
            continue
        out.append(MrzLine(cx / scale, cy / scale, rw / scale, rh / scale, ang))
    return _merge_collinear(out)


def _merge_collinear(lines: list[MrzLine]) -> list[MrzLine]:
    """Join pieces of one text line split by glare or a fold: same row and height, a short gap apart."""
    merged: list[MrzLine] = []
    for ln in sorted(lines, key=lambda item: -item.length):
        for j, m in enumerate(merged):
            t = np.deg2rad(m.angle)
            d = np.array([np.cos(t), np.sin(t)])
            off = np.array([ln.cx - m.cx, ln.cy - m.cy])
            along, across = float(off @ d), float(off @ np.array([-d[1], d[0]]))
            gap = abs(along) - (m.length + ln.length) / 2
            if (abs(across) < 0.5 * m.height and abs(ln.angle - m.angle) < 5 and gap < 4 * m.height
                    and max(ln.height, m.height) < 1.6 * min(ln.height, m.height)):
                lo = min(-m.length / 2, along - ln.length / 2)
                hi = max(m.length / 2, along + ln.length / 2)
                c = np.array([m.cx, m.cy]) + d * (lo + hi) / 2
                merged[j] = MrzLine(float(c[0]), float(c[1]), hi - lo, max(m.height, ln.height), m.angle)
                break
        else:
            merged.append(ln)
    return merged


def _align(group: list[MrzLine]) -> tuple[MrzLine, ...]:
    """Stretch every line of a group to the group's common extent along the text direction.

    MRZ lines all have the same length; a line whose ends were lost to glare or a gap is restored.
    """
    angle = float(np.median([ln.angle for ln in group]))
    t = np.deg2rad(angle)
    d = np.array([np.cos(t), np.sin(t)])
    starts = [float(np.array([ln.cx, ln.cy]) @ d) - ln.length / 2 for ln in group]
    ends = [float(np.array([ln.cx, ln.cy]) @ d) + ln.length / 2 for ln in group]
    lo, hi = min(starts), max(ends)
    out = []
    for ln in group:
        c = np.array([ln.cx, ln.cy])
        c = c + d * ((lo + hi) / 2 - float(c @ d))
        out.append(MrzLine(float(c[0]), float(c[1]), hi - lo, ln.height, angle))
    return tuple(out)


def _groups(lines: list[MrzLine], max_groups: int) -> list[tuple[MrzLine, ...]]:
    """Runs of 2-3 parallel, stacked, similarly sized lines, most MRZ-like (lowest, longest) first."""
    lines = sorted(lines, key=lambda ln: ln.cy)
    found = []
    for size in (3, 2):
        for combo in itertools.combinations(range(len(lines)), size):
            g = [lines[i] for i in combo]
            hs = [ln.height for ln in g]
            ls = [ln.length for ln in g]
            gaps = [b.cy - a.cy for a, b in zip(g, g[1:])]
            mh = float(np.median(hs))
            if max(hs) > 2.0 * min(hs) or min(ls) < 0.75 * max(ls):
                continue
            if any(gp < 0.9 * mh or gp > 3.0 * mh for gp in gaps):
                continue
            if max(abs(a.cx - b.cx) for a, b in zip(g, g[1:])) > 0.25 * max(ls):
                continue
            if max(ln.angle for ln in g) - min(ln.angle for ln in g) > 5:
                continue
            score = float(np.mean(ls)) * (1.0 + 0.1 * size) + 0.5 * float(np.mean([ln.cy for ln in g]))
            found.append((score, tuple(g)))
    found.sort(key=lambda s: -s[0])
    return [g for _, g in found[:max_groups]]


def _crop_line(gray: np.ndarray, line: MrzLine, char_height: int) -> np.ndarray:
    """Deskewed crop of one line, padded, rescaled so the line height is about ``char_height`` pixels."""
    pad_y = line.height * 0.45
    pad_x = line.height * 2.0
    w, h = line.length + 2 * pad_x, line.height + 2 * pad_y
    m = cv2.getRotationMatrix2D((line.cx, line.cy), line.angle, 1.0)
    m[0, 2] += w / 2 - line.cx
    m[1, 2] += h / 2 - line.cy
    s = char_height / max(line.height, 1.0)
    m *= s
    out = cv2.warpAffine(gray, m, (max(1, round(w * s)), max(1, round(h * s))), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REPLICATE)
    return out


def _halves(crop: np.ndarray, line: MrzLine, n_chars: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The crop cut between characters ``n // 2 - 1`` and ``n // 2`` (monospaced: pitch = length / n)."""
    scale = crop.shape[0] / (line.height * 1.9)
    pad = line.height * 2.0 * scale
    pitch = line.length * scale / n_chars
    cut = round(pad + pitch * (n_chars // 2))
    return crop[:, :cut], crop[:, cut:], n_chars // 2


def _variants(crop: np.ndarray) -> list[np.ndarray]:
    """Binarized alternatives of a line crop: Otsu, then adaptive mean."""
    blur = cv2.GaussianBlur(crop, (3, 3), 0)
    _, otsu = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    block = max(15, (crop.shape[0] // 2) | 1)
    adaptive = cv2.adaptiveThreshold(blur, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 10)
    return [otsu, adaptive]


def _stack(crops: list[np.ndarray]) -> np.ndarray:
    width = max(c.shape[1] for c in crops)
    rows = []
    for c in crops:
        pad = np.full((c.shape[0], width - c.shape[1]), int(np.median(c)), dtype=np.uint8)
        rows.append(np.hstack([c, pad]))
    return np.vstack(rows)


def _doubled(block: str, cells: str) -> bool:
    """Whether the block read's names are the cell read's with an ``O`` read twice: one wide OCR-B ``O``
    comes out of Tesseract as ``O0`` (``OOMAR``, ``OOLAF`` once the digit is taken for a letter), where
    the cell read, one glyph per cell, cannot insert one. Other doubled letters are left to the counts
    (``KELLY``: the block read is the one that drops letters in runs)."""
    b, c = block.rstrip("<"), cells.rstrip("<")
    return len(b) == len(c) + 1 and any(b[k] == b[k - 1] == "O" and b[:k] + b[k + 1:] == c for k in range(1, len(b)))


def _passport_as_td2(reading: MrzReading) -> bool:
    """A TD2 reading coded as a passport (:attr:`MrzReading.passport`): a TD3 whose filler runs OCR shortened."""
    return reading.layout is MrzLayout.TD2 and reading.passport


def _better(a: MrzReading | None, b: MrzReading | None) -> MrzReading | None:
    """The better of two readings: valid first, then not a passport read as TD2, then more check digits
    verified, then fewer corrections (ties keep ``a``)."""
    if a is None:
        return b
    if b is None:
        return a

    def key(r: MrzReading) -> tuple:
        return r.valid, not _passport_as_td2(r), r.n_valid_checks, -r.corrections

    return b if key(b) > key(a) else a


class MrzReader:
    """Locates the MRZ in an RGB or grey photo and reads it, stopping at the first fully valid reading.

    Strategy, cheapest first: for each candidate group of lines, one Tesseract call on the stacked
    deskewed lines; if a check digit fails, the lines that carry check digits are read again one by one
    under binarization variants (two Tesseract processes at a time) and the reads are merged field by
    field (:func:`pipelines.document.mrz.combine`). Other rotations are searched only when the upright
    image gives nothing with a single valid check digit.
    """

    def __init__(self, cfg: MrzReaderConfig | None = None) -> None:
        self.cfg = cfg or MrzReaderConfig()
        self._block = Tesseract(psm=6, whitelist=MRZ_WHITELIST)
        self._line = Tesseract(psm=7, whitelist=MRZ_WHITELIST)
        self._chevron = ChevronLineReader(self._line, self._block)
        # kept across images: each worker thread keeps its own loaded Tesseract instance
        self._pool = ThreadPoolExecutor(max_workers=self.cfg.workers, thread_name_prefix="veid-mrz")

    def __call__(self, image: np.ndarray) -> MrzDetection | None:
        """Read the MRZ of ``image`` (uint8, HxW or HxWx3 RGB); ``None`` when no MRZ-like text is found."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        best: MrzDetection | None = None
        calls = 0
        rotations = (0, 180, 90, 270) if self.cfg.try_rotations else (0,)
        pool = self._pool
        for rot in rotations:
            if rot and best is not None and (best.reading.n_valid_checks >= 3
                                             or best.reading.fields.check("birth_date").valid):
                break  # the upright read is an MRZ, only misread: turning it will not help
            g = gray if rot == 0 else np.ascontiguousarray(np.rot90(gray, k=-rot // 90))
            for group in _groups(_line_blobs(g, self.cfg), self.cfg.max_groups):
                if calls >= self.cfg.max_calls:
                    break
                reading, n = self._read_group(g, group, pool)
                calls += n
                if reading is not None and (best is None or _better(best.reading, reading) is reading):
                    best = MrzDetection(reading, group, rot, calls)
                if best is not None and best.reading.valid:
                    return MrzDetection(best.reading, best.lines, best.rotation, calls)
        return None if best is None else MrzDetection(best.reading, best.lines, best.rotation, calls)

    def _read_group(self, gray: np.ndarray, group: tuple[MrzLine, ...],
                    pool: ThreadPoolExecutor) -> tuple[MrzReading | None, int]:
        """Read one candidate group of lines (``(reading, Tesseract calls)``), a TD2 reading checked for a TD3."""
        crops = [_crop_line(gray, ln, self.cfg.char_height) for ln in group]
        if sum(count_chevrons(c) for c in crops) < self.cfg.min_chevrons:
            return None, 0  # no filler chevrons: ordinary text, not an MRZ
        reading, calls = self._read_crops(group, crops, pool)
        return self._prefer_td3(reading, crops), calls

    def _read_crops(self, group: tuple[MrzLine, ...], crops: list[np.ndarray],
                    pool: ThreadPoolExecutor) -> tuple[MrzReading | None, int]:
        """Read a group's line crops in up to three stages, stopping once every digit verifies."""
        # stage 1: the stacked lines in one call
        text = self._block.text(_stack(crops))
        raw = [ln.replace(" ", "") for ln in text.splitlines() if len(ln.strip()) >= 10]
        layout = MrzLayout.TD1 if len(group) == 3 else guess_layout(raw) if len(raw) == 2 else None
        best = repair(raw, layout, max_subs=self.cfg.max_subs) if layout else None
        calls = 1
        if best is not None and best.valid:
            return self._names_again(best, crops), calls + 1
        options: list[list[str]] = [[raw[i]] if len(raw) == len(group) else [] for i in range(len(group))]
        # stage 2: chevron-aware reads of all lines in one call, the character count from the pitch
        widths = (30,) if len(group) == 3 else (44, 36)
        chev = self._chevron.read_block(crops, widths)
        calls += 1
        for i, line in enumerate(chev):
            if line is not None:
                options[i].insert(0, line)
        n_found = next((len(line) for line in chev if line is not None), None)
        if n_found is not None:
            layout = {30: MrzLayout.TD1, 36: MrzLayout.TD2, 44: MrzLayout.TD3}[n_found]
        best, done = self._decide(options, layout, best)
        if done:
            return best, calls
        if not self.cfg.extra_reads:
            return best, calls
        # stage 3: lines with check digits again, under binarization variants and cut in halves
        check_rows = {0, 1} if len(group) == 3 else {1}
        n_chars = (layout or MrzLayout.TD3).shape[1]
        jobs, halves = [], []
        for i, crop in enumerate(crops):
            if i in check_rows or not options[i]:
                images = [crop] + (_variants(crop) if self.cfg.binarize_variants and i in check_rows else [])
                jobs += [(i, pool.submit(self._line.text, img)) for img in images]
        singles = [(i, pool.submit(self._chevron, crops[i], (n_chars,))) for i in sorted(check_rows)]
        for i in sorted(check_rows):
            left, right, n_left = _halves(crops[i], group[i], n_chars)
            halves.append((i, n_left, pool.submit(self._line.text, left), pool.submit(self._line.text, right)))
        for i, fut in jobs:
            txt = fut.result().strip().replace(" ", "")
            calls += 1
            if len(txt) >= 10:
                options[i].append(txt)
        for i, fut in singles:
            calls += 1
            line = fut.result()
            if line is not None:
                options[i].append(line)
        for i, n_left, f_left, f_right in halves:
            left = fit_length(f_left.result().strip().replace(" ", ""), n_left)
            right = fit_length(f_right.result().strip().replace(" ", ""), n_chars - n_left)
            calls += 2
            options[i].append(left + right)
        best, _ = self._decide(options, layout, best)
        return best, calls

    def _prefer_td3(self, reading: MrzReading | None, crops: list[np.ndarray]) -> MrzReading | None:
        """A valid TD2 reading re-read as TD3 when it is valid as TD3 too; else unchanged.

        Line 2 of a TD3 holds the fields of a TD2's line 2 at the same positions, and with the optional
        data empty (fillers count 0) the composite check digit comes out the same: a TD3 whose filler
        runs OCR shortened verifies as a TD2, and its names line is then cut to 36 cells, losing letters
        (``KAYA`` read ``AA``). The pitch between the filler chevrons tells the two apart (a TD3 line
        holds 44 cells, a TD2 line 36, at one character size): a reading valid under both layouts whose
        chevrons say 44 cells on a line, and 36 on none, is a TD3, and its names line is read again at
        44 cells. On the sample's 97 passports 22 had been read as TD2, 1 still is; PassportEye's real
        TD2 specimen measures 36 cells on both lines and stays a TD2.

        A TD2 reading coded as a passport (``P``, which ICAO 9303 issues as TD3 only) is re-read as TD3 whatever
        the pitch says (the names line's long filler run can measure 36), valid or not, unless that verifies
        fewer check digits: on seed-2 train+val 13 of 230 passports had been reported as TD2 documents.
        """
        if not self.cfg.prefer_td3 or reading is None or reading.layout is not MrzLayout.TD2 or len(crops) != 2:
            return reading
        if not _passport_as_td2(reading):
            if not reading.valid:
                return reading
            widths = [line_width(c, (44, 36)) for c in crops]
            if 44 not in widths or 36 in widths:  # the chevrons' pitch must say 44 cells, and nothing 36
                return reading
        td3 = repair(list(reading.lines), MrzLayout.TD3, max_subs=0)
        if td3 is None or (td3.valid, td3.n_valid_checks) < (reading.valid, reading.n_valid_checks):
            return reading
        return self._names_again(td3, crops) if td3.valid else td3

    def _names_again(self, reading: MrzReading, crops: list[np.ndarray]) -> MrzReading:
        """Re-read the names line chevron-aware and keep its name field when it is the better read.

        Names carry no check digit, so nothing else catches a misread there. The block read of the
        stacked lines drops letters in runs (``KELLY`` -> ``KELY``, ``SCHNEIDER`` -> ``SCHEIDE``) and
        turns ``<`` into ``K``; the chevron-aware read keeps every glyph in its cell. Its name field
        replaces the block read's when the block read shows filler look-alikes, when it holds more
        letters (a dropped letter leaves its cell empty, not its neighbours), or when the block read has
        one letter twice where it has it once (:func:`_doubled`). On the validation split
        of the synthetic captures this took exact name fields from 16 to 20 of 25 MRZs.
        """
        row = 2 if reading.layout is MrzLayout.TD1 else 0
        start = 0 if reading.layout is MrzLayout.TD1 else 5  # TD2/TD3: document code and state come first
        line = self._chevron(crops[row], (reading.layout.shape[1],)) if row < len(crops) else None
        if line is None:
            return reading
        old = reading.lines[row]
        look_alikes = re.search(r"<[KCE]|[KCE]<|[KCEGSLRX]{4}", old[start:]) is not None
        if (not look_alikes and not _doubled(old[start:], line[start:])
                and sum(map(str.isalpha, line[start:])) <= sum(map(str.isalpha, old[start:]))):
            return reading
        lines = list(reading.lines)
        lines[row] = old[:start] + line[start:]
        again = repair(lines, reading.layout, max_subs=0)
        return again if again is not None and again.valid else reading

    def _decide(self, options: list[list[str]], layout: MrzLayout | None,
                best: MrzReading | None) -> tuple[MrzReading | None, bool]:
        """Best reading from per-line candidate reads: field-wise merge first, then whole combinations."""
        if any(not opt for opt in options):
            return best, False
        for lay in [layout] if layout else [MrzLayout.TD3, MrzLayout.TD2]:
            merged = combine(options, lay)
            best = _better(best, repair(merged, lay, max_subs=self.cfg.max_subs))
            if best is not None and best.valid:
                return best, True
            # one line at a time from a single read, the others from the merge
            for row, opts in enumerate(options):
                for opt in opts:
                    trial = list(merged)
                    trial[row] = opt
                    best = _better(best, repair(trial, lay, max_subs=self.cfg.max_subs))
                    if best is not None and best.valid:
                        return best, True
            for combo in itertools.islice(itertools.product(*options), 16):
                best = _better(best, repair(list(combo), lay, max_subs=self.cfg.max_subs))
                if best is not None and best.valid:
                    return best, True
        return best, False
