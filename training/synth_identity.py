"""Synthetic persons for the generator: face-set persons, identity-disjoint splits, random names, dates and numbers."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from veid.errors import InputError

# Built-in name lists (synthetic combinations; some with diacritics so renderers and the MRZ
# transliteration are exercised). Never real persons' full names.
FIRST_F = (
    "Anna", "María", "Sofia", "Zoë", "Chloé", "Léa", "Åsa", "Ingrid", "Małgorzata", "Jana", "Lucía",
    "Emma", "Olivia", "Hanna", "Mia", "Clara", "Elena", "Nadia", "Aoife", "Grace", "Amelia", "Julia",
    "Inês", "Björk", "Renée", "Agnieszka", "Eva", "Laura", "Marta", "Noémie", "Ximena", "Paula",
)
FIRST_M = (
    "José", "Jürgen", "Søren", "Łukasz", "François", "Björn", "Ángel", "Luca", "Jan", "Pieter",
    "Liam", "Noah", "Oliver", "Elias", "Mateo", "Hugo", "Leon", "Tomás", "Jiří", "Dávid", "Mikkel",
    "Andrés", "Rafael", "Stefan", "Karl", "Ivan", "Omar", "Samuel", "Joaquín", "René", "Olaf", "Piotr",
)
SURNAMES = (
    "Müller", "García", "Núñez", "Ødegaard", "Dvořák", "Šimić", "Çelik", "Kowalczyk", "Lefèvre",
    "Ångström", "Öztürk", "Sørensen", "Papadopoulos", "Rossi", "Bianchi", "Eriksson", "Jansen",
    "de Vries", "van der Berg", "Smith", "Johnson", "Brown", "Martin", "Bernard", "Dubois", "Moreau",
    "Fernández", "López", "Schmidt", "Schneider", "Fischer", "Weber", "Novak", "Horvat", "Nowak",
    "Wiśniewski", "Silva", "Santos", "Costa", "Pereira", "O'Brien", "Murphy", "Kelly", "Nielsen",
    "Hansen", "Virtanen", "Korhonen", "Lindqvist", "Berg", "Haugen", "Kovács", "Szabó", "Tóth",
    "Popescu", "Ionescu", "Petrović", "Jovanović", "Yılmaz", "Kaya", "Mendes", "Garnier", "Roux",
    "Schäfer", "Köhler", "Krüger", "Gómez-Pérez", "Martín-Lobo", "Łęcki", "Żak", "Bäckström",
)
CITIES = ("RICHMOND", "SPRINGFIELD", "FAIRVIEW", "MADISON", "GEORGETOWN", "ARLINGTON", "SALEM", "FRANKLIN",
          "CLINTON", "GREENVILLE", "BRISTOL", "DOVER", "OXFORD", "MILTON", "AUBURN", "DAYTON")
STREETS = ("MAIN ST", "OAK AVE", "PINE RD", "MAPLE DR", "CEDAR LN", "ELM ST", "LAKE VIEW DR", "HILL RD",
           "WEST BROAD ST", "PARK AVE", "RIVER RD", "CHURCH ST", "MILL LN", "SUNSET BLVD")
#: (ICAO code, country name as printed, label language)
STATES = (
    ("UTO", "UTOPIA", "en"), ("D", "BUNDESREPUBLIK DEUTSCHLAND", "de"), ("FRA", "RÉPUBLIQUE FRANÇAISE", "fr"),
    ("ESP", "REINO DE ESPAÑA", "es"), ("ITA", "REPUBBLICA ITALIANA", "it"), ("NLD", "KONINKRIJK DER NEDERLANDEN", "nl"),
    ("PRT", "REPÚBLICA PORTUGUESA", "pt"), ("POL", "RZECZPOSPOLITA POLSKA", "pl"), ("SWE", "SVERIGE", "sv"),
    ("AUT", "REPUBLIK ÖSTERREICH", "de"), ("BEL", "BELGIQUE", "fr"), ("IRL", "ÉIRE IRELAND", "en"),
)
US_STATES = (("VA", "VIRGINIA"), ("CA", "CALIFORNIA"), ("TX", "TEXAS"), ("NY", "NEW YORK"), ("FL", "FLORIDA"),
             ("WA", "WASHINGTON"), ("OH", "OHIO"), ("CO", "COLORADO"), ("MI", "MICHIGAN"), ("AZ", "ARIZONA"))
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class FacePerson:
    """One person of the face set with their photo files (``_1`` first), and the split they belong to."""

    person_id: str
    photos: tuple[Path, ...]
    split: str


@dataclass(frozen=True)
class Person:
    """A synthetic person: one per face-set person, with stable personal data."""

    identity: str  # "id-0007"
    face: FacePerson
    first_name: str
    last_name: str
    sex: str  # "M" / "F"
    birth_date: dt.date
    nationality: str  # ICAO code
    state_index: int  # index into STATES (issuing state of the European documents)
    us_state_index: int  # index into US_STATES (licence jurisdiction)
    street: str
    city: str
    postal_code: str


def _stable_unit(text: str) -> float:
    """A number in [0, 1) that depends only on ``text`` (used for seed-independent split assignment)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def load_face_persons(faces_dir: Path, val_fraction: float = 0.5) -> list[FacePerson]:
    """Read the face set's ``manifest.csv`` and assign each person to a split, independently of any seed.

    Persons with two different photos are the face-match evaluation identities: they go to ``val`` or
    ``test`` (by a hash of the person id). Single-photo persons go to ``train``. Sorted by person id.

    Raises:
        InputError: the folder or its manifest is missing or lists no photo.
    """
    manifest = faces_dir / "manifest.csv"
    if not manifest.is_file():
        raise InputError(f"face set manifest not found: {manifest}")
    photos: dict[str, list[str]] = {}
    with manifest.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            photos.setdefault(row["person_id"], []).append(row["file"])
    if not photos:
        raise InputError(f"face set manifest lists no photo: {manifest}")
    persons = []
    for pid in sorted(photos):
        files = tuple(faces_dir / f for f in sorted(photos[pid]))
        if len(files) >= 2:
            split = "val" if _stable_unit(pid) < val_fraction else "test"
        else:
            split = "train"
        persons.append(FacePerson(pid, files, split))
    return persons


def make_person(index: int, face: FacePerson, seed: int) -> Person:
    """The synthetic person ``index`` (stable for a given ``seed``): random name, birth date, address."""
    rng = np.random.default_rng([seed, 7, index])
    sex = "F" if rng.random() < 0.5 else "M"
    first = str(rng.choice(FIRST_F if sex == "F" else FIRST_M))
    if rng.random() < 0.25:
        second = str(rng.choice(FIRST_F if sex == "F" else FIRST_M))
        if second != first:
            first = f"{first} {second}"
    last = str(rng.choice(SURNAMES))
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 66)))
    state_index = int(rng.integers(len(STATES)))
    return Person(
        identity=f"id-{index:04d}", face=face, first_name=first, last_name=last, sex=sex, birth_date=birth,
        nationality=STATES[state_index][0], state_index=state_index,
        us_state_index=int(rng.integers(len(US_STATES))),
        street=f"{int(rng.integers(1, 9999))} {rng.choice(STREETS)}", city=str(rng.choice(CITIES)),
        postal_code=f"{int(rng.integers(10000, 99999))}{int(rng.integers(0, 9999)):04d}",
    )


def document_number(rng: np.random.Generator, letters: int = 1, digits: int = 8) -> str:
    """A random alphanumeric document number such as ``L8989021C``-like ``X12345678``."""
    alpha = np.array(list(string.ascii_uppercase.replace("O", "").replace("I", "")))
    return "".join(rng.choice(alpha, letters)) + "".join(str(d) for d in rng.integers(0, 10, digits))


def add_years(date: dt.date, years: int) -> dt.date:
    """``date`` moved by whole years (29 February becomes 28 February)."""
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return date.replace(year=date.year + years, day=28)
