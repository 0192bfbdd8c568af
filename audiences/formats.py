"""Export formats: pure functions from members (Contact) to rows, and the rules each follows.

Every format is a header and a row function (`FORMATS[name]`); writing the rows to a file is
audiences.export's job. Platform rules, where they are documented, and what this code does:

Meta Custom Audiences, customer list file (`meta`)
  Where: Meta Business Help Centre "How to format a customer list when creating a custom audience"
  (facebook.com/business/help/2082575038703844: the column headers `email`, `fn`, `ln`, `country`
  as Meta's customer-list template names them) and the Marketing API "Customer File Custom
  Audiences", section "Hashing and Normalizing Data"
  (developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences): every value is
  SHA-256 hashed, hex, after normalising:
  - EMAIL    trim leading and trailing whitespace, lower-case;
  - FN, LN   lower-case letters only, no punctuation (special characters kept, as UTF-8): here
             trimmed, lower-cased, every character that is not a letter removed (punctuation,
             spaces, digits);
  - COUNTRY  lower-case 2-letter ISO 3166-1 alpha-2 code (hashed too).
  An empty value stays an empty cell (never the hash of "").

Google Ads Customer Match (`google`)
  Where: Google Ads Help "Format your customer data file" (support.google.com/google-ads/answer/7659867:
  headers `Email`, `First Name`, `Last Name`, `Country`, `Zip` in English; the upload template's
  hashed guidelines "lowercase all characters and remove all extra spaces before, after or in
  between email addresses and names"), "About the customer matching process"
  (support.google.com/google-ads/answer/7474263: only Email, Phone, First Name and Last Name are
  hashed; Country and Zip are NOT hashed), and the Google Ads API Customer Match guide
  (developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match: SHA-256
  after trimming leading/trailing whitespace and lower-casing; periods before the domain of
  gmail.com and googlemail.com addresses: "not required to remove … they'll still be accepted"; the
  enhanced-conversions guide asks to remove them). Here:
  - Email       every whitespace removed, lower-case; for gmail.com / googlemail.com the periods
                of the part before @ removed (Google's documented rule). Google documents no rule
                for a "+tag": it is kept (removing it is TikTok's rule, not Google's).
  - First Name, Last Name  trimmed, lower-case, inner runs of whitespace collapsed to one space.
  - Country     2-letter ISO 3166-1 alpha-2 code, NOT hashed, lower-case as in Google's template.
  - Zip         not in the data: the column is left out (it is optional for e-mail matching).

csv / json: the plain members (customer_id, email, first_name, last_name, country), unhashed, for
tools that take e-mails (a spreadsheet cell starting with = + - @ is prefixed with ' against formulas).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Contact:
    """One member as exported: who they are and how to reach them (never logged)."""

    customer_id: int
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _hashed(value: str) -> str:
    return sha256_hex(value) if value else ""


# -- Meta -------------------------------------------------------------------------------------------
def meta_email(email: str | None) -> str:
    return (email or "").strip().lower()


def meta_name(name: str | None) -> str:
    return "".join(ch for ch in (name or "").strip().lower() if ch.isalpha())


def meta_country(country: str | None) -> str:
    code = (country or "").strip().lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else ""


META_HEADER = ("email", "fn", "ln", "country")


def meta_row(c: Contact) -> tuple[str, ...]:
    return (
        _hashed(meta_email(c.email)),
        _hashed(meta_name(c.first_name)),
        _hashed(meta_name(c.last_name)),
        _hashed(meta_country(c.country)),
    )


# -- Google ---------------------------------------------------------------------------------------
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def google_email(email: str | None) -> str:
    text = "".join((email or "").split()).lower()
    local, at, domain = text.rpartition("@")
    if at and domain in GMAIL_DOMAINS:
        return local.replace(".", "") + "@" + domain
    return text


def google_name(name: str | None) -> str:
    return " ".join((name or "").lower().split())


def google_country(country: str | None) -> str:
    return meta_country(country)


GOOGLE_HEADER = ("Email", "First Name", "Last Name", "Country")


def google_row(c: Contact) -> tuple[str, ...]:
    return (
        _hashed(google_email(c.email)),
        _hashed(google_name(c.first_name)),
        _hashed(google_name(c.last_name)),
        google_country(c.country),
    )


# -- plain ------------------------------------------------------------------------------------------
PLAIN_HEADER = ("customer_id", "email", "first_name", "last_name", "country")


def _cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_row(c: Contact) -> tuple[Any, ...]:
    return (c.customer_id, _cell(c.email), _cell(c.first_name), _cell(c.last_name), _cell(c.country))


def json_member(c: Contact) -> dict[str, Any]:
    """The member object of the json file and of webhook bodies (customer_id and email at least)."""
    return {
        "customer_id": c.customer_id,
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "country": c.country,
    }


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    header: tuple[str, ...]
    row: Callable[[Contact], Any]
    hashed: bool


FORMATS: dict[str, Format] = {
    "meta": Format("meta", "csv", META_HEADER, meta_row, True),
    "google": Format("google", "csv", GOOGLE_HEADER, google_row, True),
    "csv": Format("csv", "csv", PLAIN_HEADER, csv_row, False),
    "json": Format("json", "json", PLAIN_HEADER, json_member, False),
}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)
