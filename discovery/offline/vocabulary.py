"""The catalogue's vocabulary in a question: products, colors and countries, longest match first.

Products and colors match in any case, singular or plural, with hyphen or spacing variants
("t shirts" = tshirt, multi-word products); a product wins over a color or country of the same
form. Countries of the catalogue match by code (upper case, or lower case when not an English
word), by name (pycountry: name, official and common name) or by demonym ("German", "Poles").
Other countries of the world are recognised too (as foreign_country), so a question about a
country that is not in the data can be answered with a clear "not in the data".
Nothing here is hard-coded: the words come from the Catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pycountry

from discovery.catalogue import Catalogue
from discovery.offline.doc import Doc, Token
from discovery.offline.lexicon import AMBIGUOUS_NAMES, COUNTRY_CONTEXT, DEMONYMS, ENGLISH_SHORT
from discovery.offline.patterns import TOKEN_RE


def compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def word_forms(key: str) -> set[str]:
    """A compact word and its plausible singulars: shoes->shoe, dresses->dress, scarves->scarf."""
    forms = {key}
    if len(key) > 3 and key.endswith("s") and not key.endswith(("ss", "us", "is")):
        forms.add(key[:-1])
        if key.endswith("es"):
            forms.add(key[:-2])
        if key.endswith("ies"):
            forms.add(key[:-3] + "y")
        if key.endswith("ves"):
            forms.update({key[:-3] + "f", key[:-3] + "fe"})
    return forms


@dataclass(frozen=True)
class VocabHit:
    start: int
    end: int
    kind: str  # product | color | country | foreign_country
    value: str  # as stored (product, color, country code) or a country name for foreign countries


def _resolve_country(value: str) -> Any | None:
    """A stored country value (an ISO code, or a name) -> the pycountry record, if any."""
    if len(value) == 2:
        return pycountry.countries.get(alpha_2=value.upper())
    if len(value) == 3:
        return pycountry.countries.get(alpha_3=value.upper())
    try:
        return pycountry.countries.lookup(value)
    except LookupError:
        return None


def _country_names(value: str) -> tuple[str, set[str]]:
    """(display name, compact names and demonyms) of a stored country value."""
    country = _resolve_country(value)
    if country is None:
        return value, {compact(value)}
    names = {value, country.name, getattr(country, "official_name", ""), getattr(country, "common_name", "")}
    keys = {compact(n) for n in names if n and len(n) > 3}
    keys.update(DEMONYMS.get(country.alpha_2, "").split())
    return country.name, keys


def country_label(code: str) -> str:
    name, _ = _country_names(code)
    return f"{code} ({name})" if name != code else code


@lru_cache(maxsize=1)
def _world_countries() -> dict[str, str]:
    """compact name/demonym -> alpha-2, for every country pycountry knows."""
    table: dict[str, str] = {}
    for country in pycountry.countries:
        _, keys = _country_names(country.alpha_2)
        for key in keys:
            table.setdefault(key, country.alpha_2)
    return table


@dataclass(frozen=True)
class VocabIndex:
    keys: dict[str, tuple[str, str]]  # compact form -> (kind, stored value)
    codes: dict[str, str]  # upper-case code / alias -> stored country value
    max_words: int


@lru_cache(maxsize=32)
def vocab_index(catalogue: Catalogue) -> VocabIndex:
    keys: dict[str, tuple[str, str]] = {}
    codes: dict[str, str] = {}
    for country in catalogue.countries:
        for key in _country_names(country)[1]:
            keys.setdefault(key, ("country", country))
        record = _resolve_country(country)
        code = record.alpha_2 if record is not None else country.upper()
        codes[code] = country
    for color in (*catalogue.colors, *catalogue.favorite_colors):
        keys[compact(color)] = ("color", color)
    for product in catalogue.products:
        for form in word_forms(compact(product)):
            keys[form] = ("product", product)  # products win over colors and countries
    words = max((len(TOKEN_RE.findall(v.lower())) for v in (*catalogue.products, *catalogue.colors)), default=1)
    return VocabIndex(keys, codes, max(words, 3) + 1)


def _joined(doc: Doc, i: int, n: int) -> str | None:
    """Tokens i..i+n-1 as one compact string, if only spaces, hyphens or underscores separate them."""
    toks = doc.tokens[i : i + n]
    if len(toks) < n or any(t.tag for t in toks):
        return None
    for a, b in zip(toks, toks[1:], strict=False):
        if not re.fullmatch(r"[\s_-]+", doc.text[a.end : b.start]):
            return None
    return compact("".join(t.text for t in toks))


def _code_hit(doc: Doc, tok: Token, index: VocabIndex) -> str | None:
    raw = doc.raw[tok.start : tok.end]
    if raw.isupper() and raw in index.codes:
        return index.codes[raw]
    if tok.text.upper() in index.codes and tok.text not in ENGLISH_SHORT and len(tok.text) >= 2:
        return index.codes[tok.text.upper()]
    return None


def _foreign(doc: Doc, i: int, n: int, key: str, index: VocabIndex) -> str | None:
    code = _world_countries().get(key)
    if code is None or code in index.codes or len(key) < 4:
        return None
    tok = doc.tokens[i]
    before = doc.words_before(tok.start, 1)
    capitalised = doc.raw[tok.start].isupper()
    if key in AMBIGUOUS_NAMES and not (before and before[0] in COUNTRY_CONTEXT):
        return None
    if capitalised or (before and before[0] in COUNTRY_CONTEXT):
        country = pycountry.countries.get(alpha_2=code)
        return country.name if country else None
    return None


def find_vocabulary(doc: Doc, catalogue: Catalogue) -> list[VocabHit]:
    """Products, colors and countries (longest match first), consumed with their kind as tag."""
    index = vocab_index(catalogue)
    hits: list[VocabHit] = []
    i = 0
    while i < len(doc.tokens):
        hit = None
        for n in range(min(index.max_words, len(doc.tokens) - i), 0, -1):
            key = _joined(doc, i, n)
            if key is None:
                continue
            found = next(
                (index.keys[f] for f in sorted(word_forms(key), key=len, reverse=True) if f in index.keys), None
            )
            if found is None and n == 1 and (code := _code_hit(doc, doc.tokens[i], index)):
                found = ("country", code)
            if found is None and (name := _foreign(doc, i, n, key, index)):
                found = ("foreign_country", name)
            if found:
                start, end = doc.tokens[i].start, doc.tokens[i + n - 1].end
                hit = VocabHit(start, end, found[0], found[1])
                doc.consume(start, end, found[0])
                i += n
                break
        if hit:
            hits.append(hit)
        else:
            i += 1
    return hits
