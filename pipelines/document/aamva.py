"""AAMVA DL/ID card PDF417 payloads: build them (header, DL subfile, element IDs) and parse real-world variants.

Layout (AAMVA DL/ID Card Design Standard 2020, Annex D): a 21-byte header
``@ LF RS CR "ANSI " IIN(6) version(2) jurisdiction-version(2) entries(2)``, one 10-byte designator per
subfile ``type(2) offset(4) length(4)`` (offset from the start of the payload), then the subfiles, each
``type(2)`` followed by ``element-id(3) value`` items separated by LF and ended by CR.
Dates are ``MMDDCCYY`` for the USA and ``CCYYMMDD`` for Canada.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from veid.errors import InputError

COMPLIANCE = "@"
LF, RS, CR = "\n", "\x1e", "\r"
_ELEMENT = re.compile(r"^[A-Z]{3}")
_HEADER = re.compile(r"(ANSI ?|AAMVA)(\d{6})(\d{2})(\d{2})?(\d{2})")

#: Element IDs of the DL subfile (mandatory and common optional ones) and what they mean.
ELEMENTS = {
    "DCA": "vehicle class", "DCB": "restrictions", "DCD": "endorsements", "DBA": "expiry date",
    "DCS": "family name", "DAC": "first name", "DAD": "middle names", "DBD": "issue date",
    "DBB": "date of birth", "DBC": "sex (1 male, 2 female, 9 not specified)", "DAY": "eye colour",
    "DAU": "height", "DAG": "street", "DAI": "city", "DAJ": "jurisdiction code", "DAK": "postal code",
    "DAQ": "customer ID number", "DCF": "document discriminator", "DCG": "country", "DDE": "family name truncation",
    "DDF": "first name truncation", "DDG": "middle name truncation", "DCU": "name suffix", "DDA": "compliance type",
    "DDB": "card revision date", "DDD": "limited duration", "DCK": "inventory control number",
    "DAA": "full name (v1)", "DAB": "family name (v1)", "DCT": "given names (v2)",
}


@dataclass(frozen=True)
class AamvaRecord:
    """What a licence barcode encodes (input to :func:`build_payload`). Names are upper-case ASCII."""

    customer_id: str
    family_name: str
    first_name: str
    middle_name: str
    birth_date: dt.date
    issue_date: dt.date
    expiry_date: dt.date
    sex: str  # "M", "F" or "X"
    street: str
    city: str
    jurisdiction: str  # two-letter state/province code
    postal_code: str
    country: str = "USA"  # "USA" or "CAN"
    eye_color: str = "BRO"
    height: str = "068 in"
    vehicle_class: str = "D"
    restrictions: str = "NONE"
    endorsements: str = "NONE"
    document_discriminator: str = ""
    iin: str = "636000"  # AAMVA's sample issuer identification number


def _date(value: dt.date, country: str) -> str:
    return value.strftime("%Y%m%d" if country == "CAN" else "%m%d%Y")


def build_payload(record: AamvaRecord, *, version: int = 10, jurisdiction_version: int = 0) -> str:
    """The AAMVA payload string for ``record``: header, DL subfile and a jurisdiction ``Z`` subfile.

    Raises:
        InputError: a value contains a separator character or non-ASCII text.
    """
    sex_code = {"M": "1", "F": "2"}.get(record.sex, "9")
    items = [
        ("DAQ", record.customer_id), ("DCS", record.family_name), ("DDE", "N"), ("DAC", record.first_name),
        ("DDF", "N"), ("DAD", record.middle_name or "NONE"), ("DDG", "N"), ("DCA", record.vehicle_class),
        ("DCB", record.restrictions), ("DCD", record.endorsements), ("DBD", _date(record.issue_date, record.country)),
        ("DBB", _date(record.birth_date, record.country)), ("DBA", _date(record.expiry_date, record.country)),
        ("DBC", sex_code), ("DAU", record.height), ("DAY", record.eye_color), ("DAG", record.street),
        ("DAI", record.city), ("DAJ", record.jurisdiction), ("DAK", record.postal_code),
        ("DCF", record.document_discriminator or record.customer_id), ("DCG", record.country), ("DDA", "F"),
    ]
    for key, value in items:
        if not value.isascii() or any(c in value for c in (LF, RS, CR)):
            raise InputError(f"AAMVA element {key} must be ASCII without separators")
    jur = record.jurisdiction[:1].upper() or "Z"
    subfiles = [
        ("DL", "DL" + LF.join(k + v for k, v in items) + CR),
        ("Z" + jur, "Z" + jur + f"Z{jur}A01" + CR),
    ]
    header_len = 21 + 10 * len(subfiles)
    header = f"{COMPLIANCE}{LF}{RS}{CR}ANSI {record.iin}{version:02d}{jurisdiction_version:02d}{len(subfiles):02d}"
    offset, designators = header_len, []
    for kind, body in subfiles:
        designators.append(f"{kind}{offset:04d}{len(body):04d}")
        offset += len(body)
    return header + "".join(designators) + "".join(body for _, body in subfiles)


@dataclass(frozen=True)
class AamvaData:
    """A parsed licence payload: header values, every element by ID, and decoded key fields."""

    iin: str
    version: int
    jurisdiction_version: int | None
    elements: dict[str, str] = field(hash=False)
    subfiles: tuple[str, ...] = ()

    def get(self, element_id: str, default: str = "") -> str:
        """The raw value of ``element_id`` (e.g. ``"DAQ"``), stripped of padding."""
        return self.elements.get(element_id, default)

    @property
    def family_name(self) -> str:
        if self.get("DCS") or self.get("DAB"):
            return self.get("DCS") or self.get("DAB")
        return _split_full_name(self.get("DAA"))[0]

    @property
    def first_name(self) -> str:
        if self.get("DAC"):
            return self.get("DAC")
        if self.get("DCT"):
            return re.split(r"[ ,]+", self.get("DCT"))[0]
        return _split_full_name(self.get("DAA"))[1]

    @property
    def middle_name(self) -> str:
        value = self.get("DAD")
        if not value and self.get("DCT"):
            value = " ".join(re.split(r"[ ,]+", self.get("DCT"))[1:])
        return "" if value in ("NONE", "unavl", "UNAVL") else value

    @property
    def customer_id(self) -> str:
        return self.get("DAQ")

    @property
    def sex(self) -> str:
        return {"1": "M", "2": "F", "M": "M", "F": "F"}.get(self.get("DBC"), "X")

    def date(self, element_id: str) -> dt.date | None:
        """A date element (``DBB`` birth, ``DBA`` expiry, ``DBD`` issue) decoded, or ``None``."""
        return parse_date(self.get(element_id), self.get("DCG") or ("CAN" if self.version == 1 else "USA"))

    @property
    def birth_date(self) -> dt.date | None:
        return self.date("DBB")

    @property
    def expiry_date(self) -> dt.date | None:
        return self.date("DBA")


def _split_full_name(full: str) -> tuple[str, str]:
    parts = [p for p in re.split(r"[,$]", full) if p.strip()] if ("," in full or "$" in full) else full.split()
    parts = [p.strip() for p in parts]
    return (parts[0] if parts else "", parts[1] if len(parts) > 1 else "")


def parse_date(value: str, country: str = "USA") -> dt.date | None:
    """Decode an AAMVA date: ``MMDDCCYY`` (USA) or ``CCYYMMDD`` (Canada, version 1); tries the other on failure."""
    if not re.fullmatch(r"\d{8}", value or ""):
        return None
    us = (int(value[4:]), int(value[:2]), int(value[2:4]))
    ca = (int(value[:4]), int(value[4:6]), int(value[6:]))
    for y, m, d in ((ca, us) if country == "CAN" else (us, ca)):
        try:
            return dt.date(y, m, d)
        except ValueError:
            continue
    return None


def parse_payload(payload: str | bytes) -> AamvaData:
    """Parse an AAMVA payload, tolerating real-world variants.

    Tolerated: missing or damaged compliance/separator bytes, ``ANSI`` without the space or ``AAMVA``
    file type, version-1 headers without a jurisdiction version, wrong subfile offsets (the subfile is
    then located by its type), CRLF or CR element separators, trailing padding, element IDs on the same
    line as the subfile type (``DLDAQ...``).

    Raises:
        InputError: no AAMVA header or no DL/ID subfile could be found.
    """
    text = payload.decode("latin-1") if isinstance(payload, bytes) else payload
    head = _HEADER.search(text[:64])
    if head is None:
        raise InputError("not an AAMVA payload: no 'ANSI'/'AAMVA' header with an issuer number")
    iin, version = head.group(2), int(head.group(3))
    # version 1 headers have no jurisdiction version: the optional group is then empty
    jur_version = int(head.group(4)) if head.group(4) is not None else None
    entries = int(head.group(5))
    desig_start = head.end()
    designators = []
    pos = desig_start
    for _ in range(max(entries, 1)):
        m = re.match(r"([A-Z]{2})(\d{4})(\d{4})", text[pos:pos + 10])
        if not m:
            break
        designators.append((m.group(1), int(m.group(2)), int(m.group(3))))
        pos += 10
    body_start = pos
    elements: dict[str, str] = {}
    kinds = []
    for kind, offset, length in designators:
        chunk = text[offset:offset + length]
        if not chunk.startswith(kind):  # wrong offset: find the subfile by its type after the designators
            at = text.find(kind, body_start)
            if at < 0:
                continue
            chunk = text[at:at + length] if kind != "DL" and kind != "ID" else text[at:]
        kinds.append(kind)
        _read_elements(chunk[2:], elements, overwrite=kind in ("DL", "ID"))
    if not any(k in ("DL", "ID") for k in kinds):
        at = max(text.find("DL", body_start), text.find("ID", body_start))
        if at < 0 or not _ELEMENT.match(text[at + 2:at + 5]):
            raise InputError("AAMVA payload has no DL or ID subfile")
        kinds.append(text[at:at + 2])
        _read_elements(text[at + 2:], elements, overwrite=True)
    return AamvaData(iin, version, jur_version, elements, tuple(kinds))


def _read_elements(chunk: str, into: dict[str, str], *, overwrite: bool) -> None:
    chunk = re.split(r"\r(?!\n)", chunk, maxsplit=1)[0]  # a bare CR ends the subfile
    for line in re.split(r"\r\n|\n|\r", chunk):
        line = line.strip(RS + " \t\x00")
        if not _ELEMENT.match(line):
            continue
        key, value = line[:3], line[3:].strip()
        if overwrite or key not in into:
            into[key] = value
