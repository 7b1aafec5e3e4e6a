"""The printed spelling of an MRZ name from a printed reading that lost its diacritics.

ICAO 9303 writes ``Ü`` as ``UE``, ``Ö`` and ``Ø`` as ``OE``, ``Ä`` and ``Æ`` as ``AE`` and ``Å`` as
``AA``. Tesseract often reads such a printed letter as its bare vowel (``KÖHLER`` as ``KOHLER``,
``KRÜGER`` even as ``KROGER``): the reading then matches neither the MRZ (``KOEHLER``) nor the
document. The two together say more than either: where the reading has one vowel at the place of
one of those MRZ pairs, and every other letter agrees, the printed letter was the one the pair
stands for. Losing two dots is a far likelier misreading than losing a whole letter of a genuine
pair (``SAMUEL`` read as ``SAMUL``), which is the case this rule gets wrong; except at the end of a
word, where Tesseract often drops the last letter (``ZOË``, MRZ ``ZOE``, read as ``ZO``): a pair
ending a word is put back only where the reading shows a letter with diacritics there.

Where a pair stands for two letters (``OE``: ``Ö`` or ``Ø``) and the reading shows neither, the
first listed is taken (``Ö``, ``Ä``: the more common letters in the names of the issuing states that
use them); the letters the reading does show (``É``, ``Ł``, ``Ç``) are kept.
"""

from __future__ import annotations

import itertools
import unicodedata

#: MRZ pairs and the printed letters they stand for (most common first).
PAIRS: dict[str, tuple[str, ...]] = {"UE": ("Ü",), "OE": ("Ö", "Ø"), "AE": ("Ä", "Æ"), "AA": ("Å",)}
_RESTORED = {letter for letters in PAIRS.values() for letter in letters}
_FOLD = {"Ø": "O", "Æ": "A", "Ł": "L", "Đ": "D", "Ð": "D", "Ħ": "H", "Ŧ": "T", "ı": "I"}
_MAX_PAIRS = 6  # at most 3**6 spellings; a name's pairs past the sixth stay pairs


def fold(ch: str) -> str:
    """A letter without its diacritics (``"Ó"`` -> ``"O"``, ``"Ø"`` -> ``"O"``)."""
    if ch in _FOLD:
        return _FOLD[ch]
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)) or ch


def spellings(mrz_name: str) -> list[str]:
    """Every printed spelling ``mrz_name`` (MRZ form, spaces between words) may stand for, each of its
    pairs kept or replaced by a letter it stands for; the name itself first."""
    parts, i = [], 0
    while i < len(mrz_name):
        pair = mrz_name[i:i + 2]
        if pair in PAIRS and sum(isinstance(p, tuple) for p in parts) < _MAX_PAIRS:
            parts.append((pair, *PAIRS[pair]))
            i += 2
        else:
            parts.append(mrz_name[i])
            i += 1
    options = [p if isinstance(p, tuple) else (p,) for p in parts]
    return ["".join(choice) for choice in itertools.product(*options)]


def _align(candidate: str, printed: str) -> tuple[str, int] | None:
    """``printed`` read as ``candidate``: the spelling (printed letters where they agree, restored letters
    where the reading shows a vowel there) and how many restored letters the reading showed exactly;
    ``None`` when any other letter disagrees."""
    if len(candidate) != len(printed):
        return None
    out, exact = [], 0
    for i, (c, p) in enumerate(zip(candidate, printed)):
        if c in _RESTORED:
            if fold(p) not in ("A", "O", "U"):
                return None
            if p != c and p == fold(p) and (i + 1 == len(candidate) or candidate[i + 1] == " "):
                return None  # a bare vowel ending a word: as likely a lost last letter ("ZOE" read "ZO")
            out.append(c)
            exact += p == c
        elif c == " ":
            if p not in " -":
                return None
            out.append(p)
        elif fold(p) == c:
            out.append(p)  # the reading's own diacritics ("É") stay
        else:
            return None
    return "".join(out), exact


def restore(mrz_name: str, printed: str) -> str | None:
    """The spelling of the MRZ name ``mrz_name`` (MRZ form) that the printed reading ``printed``
    (normalized) shows once the letters its pairs stand for are put back; ``None`` when the reading is
    not the MRZ name in that way.

    ``restore("KOEHLER", "KOHLER")`` -> ``"KÖHLER"``; ``restore("SOEREN", "SØREN")`` -> ``"SØREN"``;
    ``restore("LOPEZ", "LÓPEZ")`` -> ``"LÓPEZ"``; ``restore("KOEHLER", "KEHLER")`` -> ``None``.
    """
    if not mrz_name or not printed:
        return None
    best: tuple[int, str] | None = None
    for candidate in spellings(mrz_name):
        aligned = _align(candidate, printed)
        if aligned is not None and (best is None or aligned[1] > best[0]):
            best = (aligned[1], aligned[0])
    return None if best is None else best[1]
