"""ICAO 9303 machine-readable zones: check digits, transliteration, composing and parsing TD1/TD3 lines.

Conventions: MRZ dates are ``YYMMDD`` strings as printed; :func:`expand_date` turns them into
:class:`datetime.date` with the usual century windows. Composing validates its inputs and raises
:class:`~veid.errors.InputError`; parsing never raises for bad check digits (a wrong digit is data,
reported per digit in :class:`MrzCheck`), only for lines of the wrong shape.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from dataclasses import dataclass

from veid.errors import InputError

_WEIGHTS = (7, 3, 1)
_ALLOWED = re.compile(r"^[A-Z0-9<]*$")

#: ICAO 9303 Part 3, section 6 (recommended transliterations of Latin multi-letter forms).
_TRANSLIT = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Ü": "UE", "ß": "SS", "Þ": "TH",
    "Ð": "D", "Đ": "D", "Ł": "L", "Ŀ": "L", "Ħ": "H", "Ŧ": "T", "Ŋ": "N", "Œ": "OE", "Ĳ": "IJ", "ı": "I",
}


class MrzFormat(str, enum.Enum):
    """Machine-readable zone layouts."""

    TD1 = "TD1"  # ID-1 cards: 3 lines of 30 characters
    TD3 = "TD3"  # passports: 2 lines of 44 characters


def char_value(c: str) -> int:
    """The ICAO value of one MRZ character: digits 0-9, ``A``-``Z`` 10-35, filler ``<`` 0.

    Raises:
        InputError: ``c`` is not an MRZ character.
    """
    if c.isdigit() and c.isascii():
        return int(c)
    if "A" <= c <= "Z":
        return ord(c) - ord("A") + 10
    if c == "<":
        return 0
    raise InputError(f"not an MRZ character: {c!r}")


def check_digit(data: str) -> str:
    """The ICAO 9303 check digit (weights 7, 3, 1 repeating; sum modulo 10) of ``data``, as a string."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


def transliterate(text: str) -> str:
    """Upper-case MRZ form of a name part: ICAO transliteration, spaces and hyphens to ``<``, others dropped.

    ``"Müller-Lüdenscheidt"`` -> ``"MUELLER<LUEDENSCHEIDT"``; ``"O'Brien"`` -> ``"OBRIEN"``.
    """
    out = []
    for ch in text.upper():
        if ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if len(base) == 1 and ("A" <= base <= "Z" or base.isdigit()):
            out.append(base)
        elif ch in " -,":
            out.append("<")
        # apostrophes and other punctuation are omitted
    return re.sub("<+", "<", "".join(out)).strip("<")


def name_field(surname: str, given_names: str, width: int) -> str:
    """``SURNAME<<GIVEN<NAMES`` transliterated, truncated and padded with ``<`` to ``width``."""
    primary = transliterate(surname)
    secondary = transliterate(given_names)
    value = f"{primary}<<{secondary}" if secondary else primary
    return _pad(value[:width].rstrip("<") if len(value) > width else value, width)


def _pad(value: str, width: int) -> str:
    if len(value) > width:
        raise InputError(f"MRZ field longer than {width} characters")
    if not _ALLOWED.match(value):
        raise InputError("MRZ field contains characters outside A-Z, 0-9 and '<'")
    return value + "<" * (width - len(value))


def _mrz_field(value: str, width: int) -> str:
    return _pad(value.upper().replace(" ", "<"), width)


def format_date(date: dt.date) -> str:
    """``YYMMDD`` as printed in an MRZ."""
    return date.strftime("%y%m%d")


def expand_date(yymmdd: str, *, expiry: bool, today: dt.date | None = None) -> dt.date | None:
    """Turn an MRZ ``YYMMDD`` into a date: birth dates lie in the past, expiry dates within 50 years ahead.

    Args:
        yymmdd: six digits; anything else (fillers, impossible dates) gives ``None``.
        expiry: choose the expiry window instead of the birth window.
        today: reference date (injectable for tests; default: today).
    """
    if not re.fullmatch(r"\d{6}", yymmdd):
        return None
    today = today or dt.date.today()
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    century = today.year // 100 * 100
    year = century + yy
    if expiry and year < today.year - 50:
        year += 100
    if not expiry and year > today.year:
        year -= 100
    try:
        return dt.date(year, mm, dd)
    except ValueError:
        return None


def compose_td3(
    *, document_code: str, issuing_state: str, surname: str, given_names: str, document_number: str,
    nationality: str, birth_date: dt.date, sex: str, expiry_date: dt.date, personal_number: str = "",
) -> tuple[str, str]:
    """Two 44-character passport MRZ lines (ICAO 9303 Part 4) with all five check digits.

    Args:
        document_code: ``"P"`` or ``"P<"``-style code, padded to 2.
        issuing_state, nationality: three-letter codes (``"UTO"``, ``"D<<"``).
        document_number: up to 9 characters.
        sex: ``"M"``, ``"F"`` or ``"<"``.
        personal_number: optional data, up to 14 characters.
    """
    line1 = _mrz_field(document_code, 2) + _mrz_field(issuing_state, 3) + name_field(surname, given_names, 39)
    doc = _mrz_field(document_number, 9)
    dob = format_date(birth_date)
    exp = format_date(expiry_date)
    opt = _mrz_field(personal_number, 14)
    opt_check = check_digit(opt) if personal_number else "<"
    head = doc + check_digit(doc)
    body = dob + check_digit(dob)
    tail = exp + check_digit(exp) + opt + opt_check
    composite = check_digit(head + body + tail)
    line2 = head + _mrz_field(nationality, 3) + body + _mrz_field(sex, 1) + tail + composite
    return line1, line2


def compose_td1(
    *, document_code: str, issuing_state: str, surname: str, given_names: str, document_number: str,
    nationality: str, birth_date: dt.date, sex: str, expiry_date: dt.date, optional1: str = "", optional2: str = "",
) -> tuple[str, str, str]:
    """Three 30-character ID-card MRZ lines (ICAO 9303 Part 5) with all four check digits.

    Args:
        document_code: for example ``"I"``, ``"ID"``, ``"AC"``, padded to 2.
        document_number: up to 9 characters (longer numbers are not generated here).
        optional1: optional data of line 1, up to 15 characters.
        optional2: optional data of line 2, up to 11 characters.
    """
    doc = _mrz_field(document_number, 9)
    line1 = _mrz_field(document_code, 2) + _mrz_field(issuing_state, 3) + doc + check_digit(doc) + _mrz_field(optional1, 15)
    dob = format_date(birth_date)
    exp = format_date(expiry_date)
    opt2 = _mrz_field(optional2, 11)
    line2_core = dob + check_digit(dob) + _mrz_field(sex, 1) + exp + check_digit(exp) + _mrz_field(nationality, 3) + opt2
    composite = check_digit(line1[5:30] + line2_core[0:7] + line2_core[8:15] + line2_core[18:29])
    line2 = line2_core + composite
    line3 = name_field(surname, given_names, 30)
    return line1, line2, line3


@dataclass(frozen=True)
class MrzCheck:
    """One check digit: which data it covers, the digit printed and the digit computed."""

    name: str
    printed: str
    computed: str

    @property
    def valid(self) -> bool:
        return self.printed == self.computed


@dataclass(frozen=True)
class MrzFields:
    """The fields of a parsed MRZ, as printed (fillers stripped), and every check digit."""

    format: MrzFormat
    document_code: str
    issuing_state: str
    document_number: str
    surname: str
    given_names: str
    nationality: str
    birth_date: str  # YYMMDD as printed
    sex: str
    expiry_date: str  # YYMMDD as printed
    optional1: str
    optional2: str
    checks: tuple[MrzCheck, ...]

    @property
    def valid(self) -> bool:
        """Whether every check digit verifies."""
        return all(c.valid for c in self.checks)

    def check(self, name: str) -> MrzCheck:
        """The check digit called ``name`` (``document_number``, ``birth_date``, ``expiry_date``, ``composite``...)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)


def _strip(value: str) -> str:
    return value.replace("<", " ").strip()


def _names(field: str) -> tuple[str, str]:
    """``(surname, given names)`` of an MRZ names field. Name parts are separated by one filler and the
    surname from the given names by two, so the names end at the first run of three or more fillers:
    a letter after it is a speck on the padding (``SOERENSEN<<OMAR<<<<<<<<<<<<<<B``)."""
    primary, _, secondary = field.partition("<<")
    secondary = re.split("<{3,}", secondary, maxsplit=1)[0]
    return _strip(primary), " ".join(secondary.replace("<", " ").split())


def _digit(name: str, data: str, printed: str) -> MrzCheck:
    try:
        computed = check_digit(data)
    except InputError:
        computed = "?"
    return MrzCheck(name, printed, computed)


def parse_mrz(lines: list[str] | tuple[str, ...]) -> MrzFields:
    """Parse TD1 (3x30) or TD3 (2x44) MRZ lines into fields with per-digit validity.

    Raises:
        InputError: the lines have neither shape or contain non-MRZ characters.
    """
    lines = [ln.strip().upper() for ln in lines]
    if any(not _ALLOWED.match(ln) for ln in lines):
        raise InputError("MRZ lines contain characters outside A-Z, 0-9 and '<'")
    shape = [len(ln) for ln in lines]
    if shape == [44, 44]:
        return _parse_td3(*lines)
    if shape == [30, 30, 30]:
        return _parse_td1(*lines)
    raise InputError(f"MRZ must be 2x44 (TD3) or 3x30 (TD1) characters, got line lengths {shape}")


def _parse_td3(l1: str, l2: str) -> MrzFields:
    surname, given = _names(l1[5:44])
    opt_printed = l2[42]
    if set(l2[28:42]) == {"<"}:  # empty personal number: the digit may be '<' or '0'
        opt_check = MrzCheck("optional", opt_printed, opt_printed if opt_printed in "<0" else "<")
    else:
        opt_check = _digit("optional", l2[28:42], opt_printed)
    checks = (
        _digit("document_number", l2[0:9], l2[9]),
        _digit("birth_date", l2[13:19], l2[19]),
        _digit("expiry_date", l2[21:27], l2[27]),
        opt_check,
        _digit("composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43]),
    )
    return MrzFields(
        MrzFormat.TD3, _strip(l1[0:2]), _strip(l1[2:5]), _strip(l2[0:9]), surname, given, _strip(l2[10:13]),
        l2[13:19], _strip(l2[20]), l2[21:27], _strip(l2[28:42]), "", checks,
    )


def _parse_td1(l1: str, l2: str, l3: str) -> MrzFields:
    surname, given = _names(l3)
    doc, doc_check_pos, opt1 = l1[5:14], l1[14], l1[15:30]
    doc_data, doc_printed = doc, doc_check_pos
    if doc_check_pos == "<" and _strip(opt1):  # long document number continues in optional data
        extra = opt1.rstrip("<")
        doc_data, doc_printed = doc + extra[:-1], extra[-1]
        opt1 = ""
    checks = (
        _digit("document_number", doc_data, doc_printed),
        _digit("birth_date", l2[0:6], l2[6]),
        _digit("expiry_date", l2[8:14], l2[14]),
        _digit("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29]),
    )
    return MrzFields(
        MrzFormat.TD1, _strip(l1[0:2]), _strip(l1[2:5]), _strip(doc_data), surname, given, _strip(l2[15:18]),
        l2[0:6], _strip(l2[7]), l2[8:14], _strip(opt1), _strip(l2[18:29]), checks,
    )
