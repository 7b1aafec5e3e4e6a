"""MRZ text repair: TD2 parsing, layout guessing, and check-digit-guided correction of OCR'd lines.

Builds on :mod:`pipelines.document.icao` (check digits, TD1/TD3 parsing). Correction only uses the
redundancy the MRZ itself carries: the character class of each position (digits in dates, letters in
country codes), the filler runs, and the check digits; a correction is kept only when it makes a
check digit verify that did not verify before.
"""

from __future__ import annotations

import enum
import itertools
import re
from dataclasses import dataclass

from pipelines.document.icao import MrzCheck, MrzFields, MrzFormat, _digit, _names, _strip, parse_mrz
from veid.errors import InputError


class MrzLayout(str, enum.Enum):
    """MRZ layouts: lines x characters."""

    TD1 = "TD1"  # 3 x 30
    TD2 = "TD2"  # 2 x 36
    TD3 = "TD3"  # 2 x 44

    @property
    def shape(self) -> tuple[int, int]:
        """``(lines, characters per line)``."""
        return {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44)}[self.value]


#: Characters OCR confuses between digits and letters (digit -> letter and back).
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "8": "B", "7": "T"}
#: Look-alikes whose ICAO values differ by a multiple of 10 (G 16 / 6, L 21 / 1, U 30 / 0): swapping them never
#: changes a check digit, so no check digit can confirm such a swap.
_UNDETECTABLE = frozenset("GLU")
_TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1", "Z": "2", "S": "5",
             "B": "8", "G": "6", "A": "4", "E": "8"}

# Character class per position: N digit (or '<' filler in optional data), A letter or '<', X anything.
_TD3_CLASSES = ("AA" + "A" * 3 + "A" * 39, "X" * 9 + "N" + "AAA" + "N" * 7 + "A" + "N" * 7 + "X" * 14 + "NN")
_TD2_CLASSES = ("AA" + "A" * 3 + "A" * 31, "X" * 9 + "N" + "AAA" + "N" * 7 + "A" + "N" * 7 + "X" * 7 + "N")
_TD1_CLASSES = ("AA" + "AAA" + "X" * 9 + "N" + "X" * 15, "N" * 7 + "A" + "N" * 7 + "AAA" + "X" * 11 + "N", "A" * 30)
CLASSES = {MrzLayout.TD1: _TD1_CLASSES, MrzLayout.TD2: _TD2_CLASSES, MrzLayout.TD3: _TD3_CLASSES}


@dataclass(frozen=True)
class MrzReading:
    """An MRZ as read: layout, the (corrected) lines, parsed fields and validity.

    Attributes:
        layout: TD1, TD2 or TD3.
        lines: the lines after repair, exactly the layout's shape.
        fields: parsed fields with every check digit (``fields.format`` is ``MrzLayout.TD2`` for TD2,
            because :class:`icao.MrzFormat` has no TD2 member).
        corrections: how many characters the check-digit-guided repair changed.
    """

    layout: MrzLayout
    lines: tuple[str, ...]
    fields: MrzFields
    corrections: int = 0

    @property
    def valid(self) -> bool:
        """True only when every check digit verifies and the zone is plausible (see :attr:`plausible`)."""
        return self.fields.valid and self.plausible

    @property
    def plausible(self) -> bool:
        """Birth and expiry are calendar dates (or all fillers) and the sex is M, F, X or ``<``.

        Check digits pass by chance one time in ten each; a search over several OCR reads tries many
        candidates, and this structural test removes most chance passes (a month 50 verifies as well
        as a month 05).
        """
        f = self.fields
        dates_ok = all(_is_date(d) for d in (f.birth_date, f.expiry_date))
        return dates_ok and (f.sex or "<") in ("M", "F", "X", "<")

    @property
    def passport(self) -> bool:
        """The document code names a passport (``P``), which ICAO 9303 issues as TD3 only (a TD2 document is
        coded A, C or I; a visa V)."""
        return self.fields.document_code.startswith("P")

    @property
    def n_valid_checks(self) -> int:
        """Check digits that verify over real data (an empty optional field's filler digit is not counted)."""
        return sum(_verifies(c) for c in self.fields.checks)

    def verifies(self, check: str) -> bool:
        """Whether check digit ``check`` (``document_number``, ``birth_date``...) is printed as a digit and
        verifies, as :attr:`n_valid_checks` counts them; ``False`` for a layout without it."""
        try:
            return _verifies(self.fields.check(check))
        except KeyError:
            return False


def _verifies(digit: MrzCheck) -> bool:
    """A check digit printed as a digit that verifies (a filler over an empty field proves nothing)."""
    return digit.valid and digit.printed.isdigit()


def _is_date(yymmdd: str) -> bool:
    if set(yymmdd) == {"<"}:
        return True
    if not re.fullmatch(r"\d{6}", yymmdd):
        return False
    mm, dd = int(yymmdd[2:4]), int(yymmdd[4:])
    return 1 <= mm <= 12 and 1 <= dd <= 31


def parse_td2(l1: str, l2: str) -> MrzFields:
    """Parse a TD2 MRZ (2 x 36 characters, ICAO 9303 Part 6) with its four check digits.

    Raises:
        InputError: wrong shape or characters.
    """
    if len(l1) != 36 or len(l2) != 36 or not re.fullmatch(r"[A-Z0-9<]*", l1 + l2):
        raise InputError("TD2 MRZ must be 2 lines of 36 characters A-Z, 0-9, '<'")
    surname, given = _names(l1[5:36])
    checks: tuple[MrzCheck, ...] = (
        _digit("document_number", l2[0:9], l2[9]),
        _digit("birth_date", l2[13:19], l2[19]),
        _digit("expiry_date", l2[21:27], l2[27]),
        _digit("composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35]),
    )
    if l2[9] == "<" and _strip(l2[28:35]):  # long document number continues in the optional data
        extra = l2[28:35].rstrip("<")
        checks = (_digit("document_number", l2[0:9] + extra[:-1], extra[-1]),) + checks[1:]
    return MrzFields(
        MrzLayout.TD2, _strip(l1[0:2]), _strip(l1[2:5]), _strip(l2[0:9]), surname, given,  # type: ignore[arg-type]
        _strip(l2[10:13]), l2[13:19], _strip(l2[20]), l2[21:27], _strip(l2[28:35]), "", checks,
    )


def parse_visa(l1: str, l2: str) -> MrzFields:
    """Parse a machine-readable visa (MRV-A 2 x 44 or MRV-B 2 x 36, ICAO 9303 Part 7).

    Visas carry three check digits (number, birth, expiry) and neither a composite nor an optional-data
    check digit; the optional data runs to the end of line 2.
    """
    width = len(l1)
    surname, given = _names(l1[5:width])
    checks = (
        _digit("document_number", l2[0:9], l2[9]),
        _digit("birth_date", l2[13:19], l2[19]),
        _digit("expiry_date", l2[21:27], l2[27]),
    )
    layout = MrzLayout.TD2 if width == 36 else MrzLayout.TD3
    return MrzFields(
        layout, _strip(l1[0:2]), _strip(l1[2:5]), _strip(l2[0:9]), surname, given,  # type: ignore[arg-type]
        _strip(l2[10:13]), l2[13:19], _strip(l2[20]), l2[21:27], _strip(l2[28:width]), "", checks,
    )


def parse_lines(lines: tuple[str, ...] | list[str]) -> MrzReading:
    """Parse exact-shape TD1, TD2 or TD3 lines.

    Raises:
        InputError: the lines have none of the three shapes.
    """
    lines = tuple(ln.strip().upper() for ln in lines)
    shape = tuple(len(ln) for ln in lines)
    if shape in ((36, 36), (44, 44)) and lines[0].startswith("V"):
        layout = MrzLayout.TD2 if shape[0] == 36 else MrzLayout.TD3
        return MrzReading(layout, lines, parse_visa(*lines))
    if shape == (36, 36):
        return MrzReading(MrzLayout.TD2, lines, parse_td2(*lines))
    fields = parse_mrz(list(lines))
    layout = MrzLayout.TD1 if fields.format == MrzFormat.TD1 else MrzLayout.TD3
    return MrzReading(layout, lines, fields)


def guess_layout(lines: list[str]) -> MrzLayout | None:
    """The layout whose shape is closest to the OCR'd line lengths (``None`` for 1 or > 3 lines)."""
    if len(lines) == 3:
        return MrzLayout.TD1
    if len(lines) != 2:
        return None
    mean = sum(len(ln) for ln in lines) / 2.0
    return MrzLayout.TD2 if abs(mean - 36) < abs(mean - 44) else MrzLayout.TD3


def clean(line: str) -> str:
    """An OCR'd line upper-cased, with everything but the MRZ alphabet (``A-Z``, ``0-9``, ``<``) dropped."""
    return re.sub(r"[^A-Z0-9<]", "", line.upper())


def fit_length(line: str, width: int) -> str:
    """Bring an OCR'd line to ``width`` characters by growing or shrinking its longest filler run.

    OCR miscounts long runs of ``<`` far more often than anything else; a line with no filler run is
    cut or padded at the end.
    """
    line = clean(line)
    diff = width - len(line)
    if diff == 0:
        return line
    runs = [(m.end() - m.start(), m.start(), m.end()) for m in re.finditer(r"<{2,}", line)]
    if runs:
        # prefer the run at the end of the line (names, optional data), else the longest
        _, start, end = max(runs, key=lambda r: (r[2] == len(line), r[0]))
        if diff > 0:
            return line[:end] + "<" * diff + line[end:]
        keep = max(end - start + diff, 1 if end < len(line) else 0)
        line = line[:start] + "<" * keep + line[end:]
        diff = width - len(line)
    return (line + "<" * diff) if diff > 0 else line[:width]


def apply_classes(line: str, classes: str) -> str:
    """Map digit/letter look-alikes to the class each position requires (``N`` digits, ``A`` letters)."""
    out = []
    for ch, cls in zip(line, classes):
        if cls == "N" and ch in _TO_DIGIT:
            ch = _TO_DIGIT[ch]
        elif cls == "A" and ch in _TO_LETTER:
            ch = _TO_LETTER[ch]
        out.append(ch)
    return "".join(out)


_FILLER_LOOKALIKES = "KCELSGRXA"
_CHEVRON_READS = "KCE"  # what Tesseract makes of a chevron most often


#: Free-text spans (names, optional data) that end in filler runs: ``(row, start, end)`` per layout.
_TAILS = {
    MrzLayout.TD3: ((0, 5, 44), (1, 28, 42)),
    MrzLayout.TD2: ((0, 5, 36), (1, 28, 35)),
    MrzLayout.TD1: ((0, 15, 30), (1, 18, 29), (2, 0, 30)),
}


def _reads_as_name(word: str) -> bool:
    """A word of look-alike letters that is a name, not chevrons misread: ``KARL``, ``GRACE``, ``AASA``
    (Å), not ``KKKKEK`` or ``LLL``: two letters or more, not one letter repeated, a vowel, and fewer
    than half of its letters the ``K``/``C``/``E`` a chevron is usually read as."""
    return (len(set(word)) >= 2 and any(c in "AE" for c in word)
            and 2 * sum(c in _CHEVRON_READS for c in word) < len(word))


def clean_fillers(line: str, layout: MrzLayout, row: int) -> str:
    """Turn filler look-alikes back into ``<``.

    Two rules: a lone ``K``/``C``/``E``/``L`` between two fillers, and, in each free-text span, the
    trailing run that starts with ``<``, holds only fillers and look-alikes, and is at least half fillers.
    A word in that run that reads as a name (:func:`_reads_as_name`: ``KARL``, ``CLARA``) ends the
    names before the run instead: the last given name is spelt with look-alikes more often than one
    might think (``GRACE``, ``LEA``, ``ALEX``).
    """
    classes = CLASSES[layout][row]
    chars = list(line)
    _lone_fillers(chars, classes)
    for tail_row, start, end in _TAILS[layout]:
        if tail_row != row:
            continue
        span = chars[start:end]
        i = len(span)
        while i > 0 and span[i - 1] in "<" + _FILLER_LOOKALIKES:
            i -= 1
        while i < len(span) and span[i] != "<":
            i += 1
        names = [m.end() for m in re.finditer(r"[A-Z]+", "".join(span[i:])) if _reads_as_name(m.group())]
        i += names[-1] if names else 0
        tail = span[i:]
        if tail and tail.count("<") * 2 >= len(tail):
            chars[start + i:end] = ["<"] * len(tail)
    _lone_fillers(chars, classes)
    return "".join(chars)


def _lone_fillers(chars: list[str], classes: str) -> None:
    for i in range(1, len(chars) - 1):
        if chars[i] in "KCEL" and chars[i - 1] == "<" and (chars[i + 1] == "<" or classes[i] == "N"):
            chars[i] = "<"


#: Fields guarded by a check digit: ``(row, start, end)``, the check digit sits at ``end``.
_SEGMENTS = {
    MrzLayout.TD3: ((1, 0, 9), (1, 13, 19), (1, 21, 27), (1, 28, 42)),
    MrzLayout.TD2: ((1, 0, 9), (1, 13, 19), (1, 21, 27)),
    MrzLayout.TD1: ((0, 5, 14), (1, 0, 6), (1, 8, 14)),
}


#: First letters of ICAO 9303 document codes (A, C, I: cards; P: passports; V: visas).
_DOCUMENT_CODES = "ACIPV"


def drop_leading_filler(line: str, row: int) -> str:
    """A first row read from one cell too early: ``<P<AUT...`` -> ``P<AUT...``.

    Every layout's first row starts with the document code, a letter: a filler before it is a misplaced
    cell (a speck or the card edge taken for the first character), which would shift the issuing state
    and the names by one (surname ``TGOMEZ`` from ``AUTGOMEZ``). :func:`fit_length` restores the width.
    """
    if row == 0 and len(line) > 1 and line[0] == "<" and line[1] in _DOCUMENT_CODES:
        return line[1:]
    return line


def _normalize(line: str, layout: MrzLayout, row: int) -> str:
    line = drop_leading_filler(clean(line), row)
    return clean_fillers(apply_classes(fit_length(line, layout.shape[1]), CLASSES[layout][row]), layout, row)


def combine(options: list[list[str]], layout: MrzLayout) -> list[str]:
    """Merge several OCR reads of each line into one, field by field.

    For each field guarded by a check digit, the first read whose field verifies wins; every other
    position is a majority vote across reads (ties go to the earlier read).
    """
    merged = []
    for row, opts in enumerate(options):
        norm = [_normalize(o, layout, row) for o in opts]
        vote = []
        classes = CLASSES[layout][row]
        for pos in range(layout.shape[1]):
            counts: dict[str, int] = {}
            for n in norm:
                counts[n[pos]] = counts.get(n[pos], 0) + 1
            if classes[pos] == "N" and (layout, row, pos) != (MrzLayout.TD3, 1, 42) and len(counts) > 1:
                counts.pop("<", None)  # a digit position: a read that dropped the digit does not vote
            vote.append(max(counts, key=lambda c: (counts[c], -[n[pos] for n in norm].index(c))))
        line = "".join(vote)
        for seg_row, start, end in _SEGMENTS[layout]:
            if seg_row != row:
                continue
            good = [n[start:end + 1] for n in norm if _check(n[start:end]) == n[end]]
            if good:  # the verifying value most reads agree on
                pick = max(good, key=lambda g: (good.count(g), -good.index(g)))
                line = line[:start] + pick + line[end + 1:]
        merged.append(line)
    return merged


def _field_spans(layout: MrzLayout) -> list[tuple[int, int, int, int]]:
    """``(line, start, end, check_position)`` of each alphanumeric field guarded by its own check digit."""
    if layout is MrzLayout.TD1:
        return [(0, 5, 14, 14)]
    return [(1, 0, 9, 9), (1, 28, 42, 42)] if layout is MrzLayout.TD3 else [(1, 0, 9, 9)]


def _field_options(line: str, start: int, end: int, max_subs: int) -> list[tuple[str, int]]:
    """Values of one alphanumeric field that verify its check digit, fewest look-alike swaps first.

    Returns the printed value alone (0 swaps) when it verifies or when nothing does; otherwise every
    verifying value at the smallest number of swaps (at most ``max_subs``), with that number.
    """
    field, printed = line[start:end], line[end]
    if not printed.isdigit() or _check(field) == printed:
        return [(field, 0)]
    # numbers are mostly digits after a prefix of up to two letters: read every look-alike after the
    # prefix as a digit (at most three candidates, one per prefix length)
    letters = len(field) - len(field.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    for head in sorted({min(letters, 2), min(letters, 1), 0}, reverse=True):
        digits = field[:head] + "".join(_TO_DIGIT.get(c, c) if c not in _UNDETECTABLE else c for c in field[head:])
        if digits != field and _check(digits) == printed:
            return [(digits, sum(a != b for a, b in zip(digits, field)))]
    swaps = {**_TO_DIGIT, **_TO_LETTER}
    candidates = [i for i, c in enumerate(field) if c in swaps]
    for k in range(1, max_subs + 1):
        found = []
        for idx in itertools.combinations(candidates, k):
            trial = list(field)
            for i in idx:
                trial[i] = swaps[trial[i]]
            if _check("".join(trial)) == printed:
                found.append(("".join(trial), k))
        if found:
            return found
    return [(field, 0)]


def _check(data: str) -> str:
    from pipelines.document.icao import check_digit

    try:
        return check_digit(data)
    except InputError:
        return "?"


def repair(raw_lines: list[str], layout: MrzLayout | None = None, *, max_subs: int = 0) -> MrzReading | None:
    """Turn OCR'd lines into the most plausible MRZ: fit lengths, fix character classes, use check digits.

    Args:
        raw_lines: OCR output lines (spaces and stray characters are dropped).
        layout: force a layout; default guesses it from the lines.
        max_subs: most look-alike substitutions tried per alphanumeric field.

    Returns:
        The reading, or ``None`` when the lines cannot be an MRZ (wrong number of lines).
    """
    cleaned = [clean(ln) for ln in raw_lines]
    cleaned = [ln for ln in cleaned if len(ln) >= 10]
    layout = layout or guess_layout(cleaned)
    if layout is None or len(cleaned) != layout.shape[0]:
        return None
    lines = [_normalize(ln, layout, row) for row, ln in enumerate(cleaned)]
    spans = _field_spans(layout)
    options = [_field_options(lines[row], start, end, max_subs) for row, start, end, _ in spans]
    best: MrzReading | None = None
    for combo in itertools.islice(itertools.product(*options), 64):
        trial = list(lines)
        for (row, start, end, _), (value, _k) in zip(spans, combo):
            trial[row] = trial[row][:start] + value + trial[row][end:]
        try:
            reading = parse_lines(trial)
        except InputError:
            return None
        reading = MrzReading(reading.layout, reading.lines, reading.fields, sum(k for _, k in combo))
        if best is None or (reading.valid, reading.n_valid_checks) > (best.valid, best.n_valid_checks):
            best = reading
        if best.valid:
            break
    return best
