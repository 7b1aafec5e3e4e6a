"""Normalization and validation of read fields, and cross-checks against the MRZ and the barcode."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace

from pipelines.document.aamva import AamvaData
from pipelines.document.icao import expand_date, transliterate
from pipelines.document.mrz import MrzReading
from veid.types import CheckResult, DocumentFamily, Field

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_MONTHS.update({"MAI": 5, "JUIN": 6, "JUIL": 7, "AOUT": 8, "AOU": 8, "OKT": 10, "DEZ": 12, "MRZ": 3, "FEV": 2,
                "AVR": 4, "DIC": 12, "ENE": 1, "ABR": 4, "AGO": 8, "SET": 9, "GEN": 1, "MAG": 5, "LUG": 7, "OTT": 10})

#: ID number shapes per document family (after upper-casing and removing spaces); every one holds a
#: digit (a word read as the number, "CALIFORNIA", is not one).
ID_FORMATS = {
    DocumentFamily.ID_CARD_TD1: re.compile(r"^(?=.*\d)[A-Z0-9]{6,9}$"),
    DocumentFamily.PASSPORT_TD3: re.compile(r"^(?=.*\d)[A-Z0-9]{6,9}$"),
    DocumentFamily.DRIVER_LICENSE_AAMVA: re.compile(r"^(?=.*\d)[A-Z0-9]{4,25}$"),
}


@dataclass(frozen=True)
class ValidationConfig:
    """Plausibility bounds (``params.yaml`` section ``document_validation``).

    Attributes:
        min_age_years: youngest plausible holder, years.
        max_age_years: oldest plausible holder, years.
        name_similarity: least similarity (1 - normalized edit distance) for an OCR name to match the MRZ.
        min_name_confidence: least Tesseract confidence (0..1) for a printed name to be reported
            over a disagreeing MRZ name (MRZ names have no check digit; see ``resolve.py``).
        sure_name_confidence: least Tesseract confidence for a printed name to be reported over an MRZ
            name of as many letters that differs by a few substitutions (below it, the MRZ's reads better).
    """

    min_age_years: int = 0
    max_age_years: int = 120
    name_similarity: float = 0.85
    min_name_confidence: float = 0.5
    sure_name_confidence: float = 0.88


def normalize_name(text: str) -> str:
    """Upper-case, NFC, single spaces, no punctuation or digits at the ends; diacritics kept
    (``"andrés  björn"`` -> ``"ANDRÉS BJÖRN"``)."""
    text = unicodedata.normalize("NFC", text).upper()
    text = re.sub(r"[^\w\s'\-]", " ", text)
    text = " ".join(text.replace("_", " ").split())
    return re.sub(r"^[\W\d_]+|[\W\d_]+$", "", text)  # OCR debris at the ends ("-CHLOÉ", "JANSEN'")


def mrz_form(name: str) -> str:
    """A name as the MRZ writes it (ICAO transliteration, ``<`` as space): for comparing with MRZ names."""
    return transliterate(name).replace("<", " ")


def dropped_letters_only(mrz_name: str, printed: str, max_dropped: int = 2) -> bool:
    """True when ``mrz_name`` is ``printed`` (both in MRZ form) with a few letters left out.

    Names in the MRZ carry no check digit, and its OCR loses letters far more often than it
    invents them (``KELLY`` read as ``KELY``): a printed name that contains every MRZ letter in
    order, plus at most ``max(max_dropped, len // 3)`` more, agrees with it. An MRZ name of fewer than
    three letters (``AA``) is too little to go on: many short names hold its letters.
    """
    a, b = mrz_name.replace(" ", ""), printed.replace(" ", "")
    extra = len(b) - len(a)
    if len(a) < 3 or extra <= 0 or extra > max(max_dropped, len(a) // 3):
        return False
    rest = iter(b)
    return all(ch in rest for ch in a)


def normalize_id(text: str) -> str:
    """Upper-case alphanumerics only (``"x 123-45"`` -> ``"X12345"``)."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


_YEAR_FIRST = re.compile(r"(\d{4})[-./ ](\d{1,2})[-./ ](\d{1,2})")  # 1972-04-15
_NUMERIC = re.compile(r"(\d{1,2})[-./ ]+(\d{1,2})[-./ ]+(\d{2,4})")  # 15/04/1972 or, US, 04/15/1972
#: the same with separators OCR lost (15041972, 1504/1972, 15/041972): two digits, two digits, a 19xx/20xx year
_COMPACT = re.compile(r"(?<!\d)(\d{2})[-./ ]?(\d{2})[-./ ]?((?:19|20)\d{2})(?!\d)")


def _numeric(t: str) -> re.Match | None:
    """The day/month/year groups of an all-numeric date, with its separators or without."""
    return _NUMERIC.search(t) or _COMPACT.search(t)


def parse_date(text: str, *, us_order: bool = False) -> dt.date | None:
    """Parse a printed date: ``15/04/1972``, ``15.04.1972``, ``15 04 1972``, ``1972-04-15``, ``12 AUG 74``,
    ``12 AUGUST/AOUT 74``, ``04/15/1972`` (``us_order``), and those whose separators OCR lost
    (``15041972``, ``1504/1972``). Two-digit years fall in the past century window.

    Returns:
        The date, or ``None`` when the text is no date or an impossible one.
    """
    t = text.upper().strip()
    m = _YEAR_FIRST.search(t)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return _date(y, mo, d)
    m = _numeric(t)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        return _date(y, a, b) if us_order else _date(y, b, a)
    m = re.search(r"(\d{1,2})\s*([A-Z]{3,9})(?:/[A-Z]+)?\s*(\d{2,4})", t)
    if m is None:
        return None
    mon = _MONTHS.get(m.group(2)[:4]) or _MONTHS.get(m.group(2)[:3])
    return _date(_year(m.group(3)), mon, int(m.group(1))) if mon else None


def date_order_ambiguous(text: str) -> bool:
    """Whether a printed all-numeric date reads both day-first and month-first (``08/04/1943``:
    8 April or August 4). Year-first dates, spelled-out months and ``13/04`` are unambiguous."""
    t = text.upper().strip()
    m = None if _YEAR_FIRST.search(t) else _numeric(t)
    if m is None:
        return False
    a, b = int(m.group(1)), int(m.group(2))
    return a != b and 1 <= a <= 12 and 1 <= b <= 12


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        this = dt.date.today().year % 100
        y += 2000 if y <= this else 1900
    return y


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / longer length (1.0 for equal strings, 0 for nothing in common)."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b))


class FieldValidator:
    """Checks each field on its own: date plausible, ID number shaped as the family requires, name present."""

    def __init__(self, cfg: ValidationConfig | None = None, today: dt.date | None = None) -> None:
        self.cfg = cfg or ValidationConfig()
        self.today = today

    def __call__(self, values: dict, family: DocumentFamily | None) -> list[CheckResult]:
        """``values``: Field -> normalized string (dates ISO ``YYYY-MM-DD``)."""
        today = self.today or dt.date.today()
        checks = []
        dob = values.get(Field.DATE_OF_BIRTH)
        if dob:
            d = dt.date.fromisoformat(dob)
            age = (today - d).days / 365.25
            ok = d <= today and self.cfg.min_age_years <= age <= self.cfg.max_age_years
            checks.append(CheckResult("field.date_of_birth.plausible", ok, 1.0 if ok else 0.0,
                                      "birth date in the past and age within range" if ok else
                                      f"age {age:.0f} years outside [{self.cfg.min_age_years}, {self.cfg.max_age_years}]"
                                      if d <= today else "birth date lies in the future"))
        idn = values.get(Field.ID_NUMBER)
        if idn and family is not None:
            ok = bool(ID_FORMATS[family].match(idn))
            checks.append(CheckResult("field.id_number.format", ok, 1.0 if ok else 0.0,
                                      f"matches the {family.value} number format" if ok else
                                      f"does not match the {family.value} number format"))
        for f in (Field.LAST_NAME, Field.FIRST_NAME):
            if f in values:
                if not re.fullmatch(r"[^\W\d_]+(?:[ '\-][^\W\d_]+)*", values[f]):
                    reason = "contains digits or symbols"
                elif re.search(r"(\w)\1\1", values[f]):  # no name has one; MRZ fillers read as letters do
                    reason = "one letter three times in a row (MRZ fillers?)"
                else:
                    reason = None
                checks.append(CheckResult(f"field.{f.value}.letters", reason is None, 1.0 if reason is None else 0.0,
                                          reason or "letters only"))
        return checks


def mrz_values(reading: MrzReading, today: dt.date | None = None) -> dict:
    """Field -> normalized value from a parsed MRZ (names in MRZ form, birth date ISO)."""
    f = reading.fields
    out = {Field.ID_NUMBER: normalize_id(f.document_number), Field.LAST_NAME: f.surname.replace("<", " "),
           Field.FIRST_NAME: f.given_names}
    d = expand_date(f.birth_date, expiry=False, today=today)
    if d is not None:
        out[Field.DATE_OF_BIRTH] = d.isoformat()
    return {k: v for k, v in out.items() if v}


def mrz_evidence(reading: MrzReading, values: dict) -> dict:
    """The MRZ values (from :func:`mrz_values`) the printed fields may be held to: all of a valid MRZ's; of
    one that fails a check digit, only an ID number and a birth date that are each proven by their own.

    Names carry no check digit, so an MRZ that does not verify as a whole says nothing sure about them: the
    reader may have taken ordinary text for an MRZ, or misread it (``NJONUSAIWCG`` for a surname). Holding a
    printed field to such a value flags honest documents; it proves nothing about forged ones. A field's own
    digit proves it when it is printed as a digit and verifies, and the value is well formed: a birth date
    that is a calendar date, a number with no filler inside (``SAN105<<J`` verifies by chance, one time in ten).
    """
    if reading.valid:
        return dict(values)
    out = {}
    if Field.ID_NUMBER in values and reading.verifies("document_number") and " " not in reading.fields.document_number:
        out[Field.ID_NUMBER] = values[Field.ID_NUMBER]
    if Field.DATE_OF_BIRTH in values and reading.verifies("birth_date"):
        out[Field.DATE_OF_BIRTH] = values[Field.DATE_OF_BIRTH]
    return out


def read_off_expiry(birth_iso: str, expiry: dt.date | None) -> bool:
    """Whether a printed birth date reading is the document's expiry date (another source's): the field
    models painted the expiry date's line as the birth date (``08 DEC/DEC 34`` read as 1934-12-08 where the
    MRZ's expiry is 2034-12-08). Such a reading says nothing about the printed birth date; holding it to
    the MRZ's birth date flags an honest document. Day, month and the year's last two digits are
    compared, as a birth date's century is guessed."""
    if expiry is None:
        return False
    try:
        born = dt.date.fromisoformat(birth_iso)
    except ValueError:
        return False
    return (born.day, born.month, born.year % 100) == (expiry.day, expiry.month, expiry.year % 100)


def mrz_expiry(reading: MrzReading, today: dt.date | None = None) -> dt.date | None:
    """The MRZ's expiry date when its own check digit verifies, else ``None``."""
    return expand_date(reading.fields.expiry_date, expiry=True, today=today) if reading.verifies("expiry_date") else None


def barcode_values(data: AamvaData) -> dict:
    """Field -> normalized value from an AAMVA payload."""
    out = {Field.ID_NUMBER: normalize_id(data.customer_id), Field.LAST_NAME: normalize_name(data.family_name),
           Field.FIRST_NAME: normalize_name(" ".join(p for p in (data.first_name, data.middle_name) if p))}
    if data.birth_date is not None:
        out[Field.DATE_OF_BIRTH] = data.birth_date.isoformat()
    return {k: v for k, v in out.items() if v}


OTHER_NAME = {Field.FIRST_NAME: Field.LAST_NAME, Field.LAST_NAME: Field.FIRST_NAME}


def names_agree(printed: str, theirs: str, name_similarity: float, *, mrz_names: bool) -> tuple[bool, float]:
    """Whether a printed name and another source's agree (in MRZ form when ``mrz_names``), and their similarity."""
    a, b = (mrz_form(printed), mrz_form(theirs)) if mrz_names else (printed, theirs)
    sim = similarity(a, b)
    return sim >= name_similarity or (mrz_names and dropped_letters_only(b, a)), sim


def name_swapped(f: Field, printed: str, values: dict, name_similarity: float, *, mrz_names: bool) -> bool:
    """The printed value of name field ``f`` is the other source's *other* name, not its ``f``: the field
    models read the other name field. Only decidable when ``values`` holds both names."""
    mine, other = values.get(f), values.get(OTHER_NAME[f])
    if mine is None or other is None:
        return False
    return (names_agree(printed, other, name_similarity, mrz_names=mrz_names)[0]
            and not names_agree(printed, mine, name_similarity, mrz_names=mrz_names)[0])


def cross_check(ocr: dict, other: dict, source: str, cfg: ValidationConfig, *, mrz_names: bool) -> list[CheckResult]:
    """Compare OCR'd fields with the same fields from ``source`` (``"mrz"`` or ``"barcode"``).

    Names are compared in MRZ form when ``mrz_names`` (the MRZ drops diacritics), with a similarity
    threshold; ID numbers and dates must be equal.
    """
    checks = []
    for f, theirs in other.items():
        mine = ocr.get(f)
        name = f"{source}.{f.value}"
        if mine is None:
            continue
        if f in OTHER_NAME:
            ok, sim = names_agree(mine, theirs, cfg.name_similarity, mrz_names=mrz_names)
            if name_swapped(f, mine, other, cfg.name_similarity, mrz_names=mrz_names):
                # the printed text is this document's other name: the field models mixed up the two name
                # fields, the document itself is consistent (resolve.py reports the other source's value)
                checks.append(CheckResult(name, True, round(sim, 4), f"printed name read from the other name field "
                                          f"agrees with the {source}'s {OTHER_NAME[f].value}"))
                continue
            checks.append(CheckResult(name, ok, round(sim, 4), f"printed and {source} names agree ({sim:.2f})" if ok
                                      else f"printed and {source} names differ (similarity {sim:.2f})"))
        else:
            ok = mine == theirs
            checks.append(CheckResult(name, ok, 1.0 if ok else 0.0,
                                      f"printed and {source} values agree" if ok else f"printed and {source} values differ"))
    return checks


def mrz_checks(reading: MrzReading, today: dt.date | None = None) -> list[CheckResult]:
    """The MRZ's own checks: every check digit, the zone's plausibility, and the expiry date."""
    bad = [c.name for c in reading.fields.checks if not c.valid]
    checks = [CheckResult("mrz.check_digits", not bad, 1.0 if not bad else 0.0,
                          "every check digit verifies" if not bad else "check digit fails: " + ", ".join(bad))]
    if not reading.plausible:  # check digits pass by chance on a misread zone: the MRZ is then not valid
        checks.append(CheckResult("mrz.plausible", False, 0.0,
                                  "the birth or expiry date is not a calendar date, or the sex is not M, F or X: "
                                  "the zone was misread"))
    exp = expand_date(reading.fields.expiry_date, expiry=True, today=today)
    if exp is not None:
        ok = exp >= (today or dt.date.today())
        checks.append(CheckResult("document.not_expired", ok, 1.0 if ok else 0.0,
                                  "expiry date not passed" if ok else "document expired"))
    return checks


def settle_cross_checks(checks: list[CheckResult], printed: dict, others: dict[str, dict], cfg: ValidationConfig
                        ) -> list[CheckResult]:
    """Cross-checks failed on the first printed reading, decided again on the printed values finally reported.

    :func:`cross_check` runs on the field models' first reading; later stages may find the field's printed
    line elsewhere (the line that reads as the MRZ name, a birth date or ID number the search found). A
    printed value finally reported that agrees with the other source shows the document agreeing with
    itself: its check passes, saying so. A value the other source overruled keeps its failed check.

    Args:
        checks: all checks so far (others pass through unchanged, in order).
        printed: ``{Field: value}`` of the fields whose reported value was read off the printed text.
        others: ``{"mrz": {Field: value}, "barcode": {Field: value}}``, as given to :func:`cross_check`.
        cfg: the name-similarity threshold.
    """
    out = []
    for c in checks:
        source, _, name = c.name.partition(".")
        f = next((f for f in Field if f.value == name), None)
        theirs = others.get(source, {}).get(f) if f is not None else None
        if c.passed or theirs is None or f not in printed:
            out.append(c)
            continue
        again = cross_check({f: printed[f]}, {f: theirs}, source, cfg, mrz_names=source == "mrz")[0]
        out.append(replace(again, reason=f"{again.reason} (a later reading of the printed field)")
                   if again.passed else c)
    return out
