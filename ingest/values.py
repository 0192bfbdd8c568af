"""Reading one text value as a typed one, by the rules a mapping states (pure functions).

Shared by the inspector (which tries the rules to propose a type) and the mapped reader
(which applies the rules the mapping fixed). A value that does not fit gives None.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import pycountry
import yaml

SYNONYMS_FILE = Path(__file__).with_name("synonyms.yml")

# Date formats the inspector tries, most specific first (strptime directives).
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d",
)  # fmt: skip

_INT = re.compile(r"^[+-]?\d+$")
# A number as written with its decimal mark: thousands grouped by threes, or not grouped at all.
_NUMBER = {
    ".": re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?$"),
    ",": re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"),
}


@lru_cache(maxsize=1)
def synonyms() -> dict:
    """The synonyms data file (ingest/synonyms.yml)."""
    with open(SYNONYMS_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def norm_name(name: str) -> str:
    """A column name compared loosely: lower case, without spaces, dashes, dots, underscores."""
    return re.sub(r"[\s_\-./#]+", "", name.strip().lower())


@lru_cache(maxsize=1)
def _bool_words() -> tuple[frozenset[str], frozenset[str]]:
    words = synonyms()["booleans"]
    return frozenset(str(w).lower() for w in words[True]), frozenset(str(w).lower() for w in words[False])


def parse_bool(value: str) -> bool | None:
    v = value.strip().lower()
    yes, no = _bool_words()
    return True if v in yes else False if v in no else None


def parse_number(value: str, decimal: str = ".") -> Decimal | None:
    v = value.strip().replace(" ", "").replace("\u00a0", "")
    if not _NUMBER[decimal].match(v):
        return None
    v = v.replace(".", "").replace(",", ".") if decimal == "," else v.replace(",", "")
    try:
        number = Decimal(v)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_int(value: str, decimal: str = ".") -> int | None:
    v = value.strip()
    if _INT.match(v):
        return int(v)
    number = parse_number(v, decimal)
    return int(number) if number is not None and number == number.to_integral_value() else None


def parse_date(value: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip(), fmt)
    except ValueError:
        return None


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


@lru_cache(maxsize=4096)
def country_code(value: str) -> str | None:
    """'DE', 'DEU', 'Germany' → 'DE'; None for what is not a country."""
    v = value.strip()
    if not v:
        return None
    try:
        found = pycountry.countries.lookup(v)
    except LookupError:
        return None
    return found.alpha_2


def date_format_of(values: list[str]) -> str | None:
    """The first format every value reads with, or None."""
    for fmt in DATE_FORMATS:
        if all(parse_date(v, fmt) is not None for v in values):
            return fmt
    return None
