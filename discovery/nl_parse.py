"""Text extraction for the offline planner (discovery.planner). Pure functions, no I/O.

- `Doc`: the question as lowercase word tokens; extractors *consume* the tokens they
  understood, so whatever is left over can become the semantic intent.
- Numbers ("500", "1,200", "2.5k", "three", "twice") and money ("€500", "500 EUR").
- Comparisons: "more than / over / above / >" (strict), "at least / >= / 500+ / 500 or
  more" (inclusive), "under / below / less than / <", "at most / up to / <=",
  "between A and B", "A-B", "A to B".
- Time windows relative to `today`: "in the last 60 days", "past 2 weeks", "last month"
  (rolling: 1 month back), "lately/recently" (LATELY_DAYS), "this week/month/year",
  "today", "yesterday", "since 2026-01-01", "before/after/until DATE",
  "between DATE and DATE", "in January" (the latest January not after today),
  "in March 2026", "in Q1", "in 2025".
- Vocabulary: products and colors of the catalogue with singular/plural, case, hyphen and
  spacing variants (a hyphenated, spaced or plural form matches the stored one, e.g. t-shirts -> tshirt); countries of the
  catalogue by code (upper case, or lower case when not an English word), by name
  (pycountry: name, official and common name) or by demonym ("German", "Poles"); other
  countries of the world are recognised too, so a question about a country that is not in
  the data can be answered with a clear "not in the data".
- Phrases (regex tables at the end): JSON requests, "why is customer N in", orderings,
  analytics phrasing (how many / average / by X / top N X / which X), repeat counts, age
  words, limits, event and interest verbs (e-mail engagement — "opened our last email" — is
  the concept "email"), predictions ("will churn", "will buy", "buys ... next month"),
  negations and luxury words. They become
  `Mention`s (kind, span, value) or an `Analytics` spec; discovery.planner gives them meaning.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import pycountry

from discovery.catalogue import Catalogue
from discovery.query import TimeWindow

LATELY_DAYS = 30  # "lately", "recently", "recent buyers"

TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)?")

_NUM_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "a hundred": 100, "a thousand": 1000, "a dozen": 12, "dozen": 12,
}  # fmt: skip
NUM = r"(?:\d+(?:[.,]\d+)*(?:\s?k\b)?|\b(?:" + "|".join(sorted(_NUM_WORDS, key=len, reverse=True)) + r")\b)"
CUR = r"(?:€|\$|£|\beur\b|\beuros?\b|\busd\b|\bdollars?\b|\bpln\b|zł|\bzl\b|\bgbp\b|\bpounds?\b|\bczk\b|\bchf\b|\bbucks\b)"
MONEY = rf"(?:{CUR}\s*)?{NUM}(?:\s*{CUR})?"


def to_number(text: str) -> float:
    """'1,200' -> 1200, '2.5k' -> 2500, '1,5' -> 1.5, 'twelve' -> 12, '€500' -> 500."""
    s = re.sub(CUR, "", text.lower()).strip()
    if s in _NUM_WORDS:
        return float(_NUM_WORDS[s])
    mult = 1000.0 if s.endswith("k") else 1.0
    s = s.rstrip("k").strip()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):
        s = s.replace(",", "")
    s = s.replace(",", ".")
    return float(s) * mult


def has_currency(text: str) -> bool:
    return re.search(CUR, text.lower()) is not None


# ---------------------------------------------------------------------------- the document


@dataclass
class Token:
    text: str
    start: int
    end: int
    tag: str | None = None  # what consumed it; None = not understood (yet)
    keep: bool = False  # understood, but still part of the semantic intent ("luxury")


class Doc:
    def __init__(self, question: str) -> None:
        raw = re.sub(r"[\u2018\u2019\u02bc`]", "'", question)
        raw = re.sub(r"[\u2010-\u2015]", "-", raw).replace("\u00a0", " ")
        self.raw = raw
        self.text = "".join(c.lower() if len(c.lower()) == 1 else c for c in raw)
        self.tokens = [Token(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(self.text)]

    def span_tokens(self, start: int, end: int) -> list[Token]:
        return [t for t in self.tokens if t.start < end and t.end > start]

    def is_free(self, start: int, end: int) -> bool:
        return all(t.tag is None for t in self.span_tokens(start, end))

    def find(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """Matches of `pattern` on the lowercase text that touch no consumed token."""
        for m in pattern.finditer(self.text):
            if m.group().strip() and self.span_tokens(*m.span()) and self.is_free(*m.span()):
                yield m

    def consume(self, start: int, end: int, tag: str, keep: bool = False) -> None:
        for t in self.span_tokens(start, end):
            t.tag, t.keep = tag, keep

    def words_between(self, start: int, end: int) -> list[str]:
        return [t.text for t in self.tokens if t.start >= start and t.end <= end]

    def words_before(self, pos: int, n: int) -> list[str]:
        return [t.text for t in self.tokens if t.end <= pos][-n:]

    def words_after(self, pos: int, n: int) -> list[str]:
        return [t.text for t in self.tokens if t.start >= pos][:n]


# ---------------------------------------------------------------------------- comparisons


@dataclass
class Comparison:
    start: int
    end: int
    op: str  # gt | ge | lt | le | range
    value: float
    high: float | None = None  # for ranges
    money: bool = False
    kind: str = "spend"  # spend | age | price | limit ("up to 20 customers")

    def bounds(self) -> tuple[float | None, float | None]:
        """(low, high): inclusive for ages and prices; strict for spend (CRMFilter.min/max_spent are strict)."""
        v, hi = self.value, self.high if self.high is not None else self.value
        if self.kind == "spend":
            step, table = 0.01, {"gt": (v, None), "ge": (v - 0.01, None), "lt": (None, v), "le": (None, v + 0.01)}
            table["range"] = (v - step, hi + step)
        else:
            step = 1 if self.kind == "age" else 0.01
            table = {"gt": (v + step, None), "ge": (v, None), "lt": (None, v - step), "le": (None, v), "range": (v, hi)}
        lo, up = table[self.op]
        return (None if lo is None else round(max(lo, 0), 2), None if up is None else round(max(up, 0), 2))


_GE = r"at least|min(?:imum)?(?:\s+of)?|no less than|not less than|>=|≥|=>"
_GT = r"more than|greater than|higher than|bigger than|larger than|older than|over|above|exceeding|in excess of|north of|>"
_LE = r"at most|max(?:imum)?(?:\s+of)?|no more than|not more than|up to|<=|≤|=<"
_LT = r"less than|fewer than|lower than|smaller than|younger than|under|below|<"
_POST_GE = r"or more|or above|or over|or older|and above|and over|and up|\+"
_POST_LE = r"or less|or below|or under|or younger|and below|and under"
_RANGE_RE = re.compile(
    rf"(?:\bbetween\s+(?P<a>{MONEY})\s+and\s+(?P<b>{MONEY}))"
    rf"|(?:(?:\bfrom\s+)?(?<![\d.,])(?P<c>{MONEY})\s*(?:-|to)\s*(?P<d>{MONEY}))"
)
_PREFIX_RE = re.compile(rf"(?<![\w<>=])(?P<op>{_GE}|{_GT}|{_LE}|{_LT})\s*(?P<v>{MONEY})")
_POSTFIX_RE = re.compile(rf"(?<![\w.,])(?P<v>{MONEY})\s*(?P<op>{_POST_GE}|{_POST_LE})")


def _op_name(op: str) -> str:
    for name, pat in (("ge", _GE), ("gt", _GT), ("le", _LE), ("lt", _LT), ("ge", _POST_GE), ("le", _POST_LE)):
        if re.fullmatch(pat, op):
            return name
    raise ValueError(op)


AGE_KW = {"age", "aged", "ages", "old", "older", "younger", "young", "years", "year", "yo", "yrs"}
SPEND_KW = {"spent", "spend", "spends", "spending", "spender", "spenders", "total", "ltv", "lifetime", "revenue"}
PRICE_KW = {"price", "priced", "prices", "cost", "costs", "costing", "worth", "pricing", "expensive", "item", "items"}
PEOPLE = r"(?:customers|users|people|clients|buyers|shoppers|contacts|profiles|names|results|rows|records|members)"


def _comparison_kind(doc: Doc, c: Comparison) -> str:
    """The nearest age/spend/price keyword decides; without one: after a product -> price,
    money or a big or fractional number -> spend, a whole number up to 120 -> age."""
    if re.search(r"older|younger", doc.text[c.start : c.end]):
        return "age"
    before, after = doc.words_before(c.start, 3)[::-1], doc.words_after(c.end, 3)
    if after and re.fullmatch(PEOPLE, after[0]) and c.op in ("le", "lt"):
        return "limit"
    best: tuple[int, str] | None = None
    for words, bias in ((before, 0), (after, 1)):
        for i, w in enumerate(words):
            kind = "age" if w in AGE_KW else "spend" if w in SPEND_KW else "price" if w in PRICE_KW else None
            if kind and (best is None or 2 * i + bias < best[0]):
                best = (2 * i + bias, kind)
    if best and not (best[1] == "age" and c.money):
        return best[1]
    if any(t.tag == "product" and 0 <= c.start - t.end < 14 for t in doc.tokens):
        return "price"
    if c.money or c.value != int(c.value) or (c.high or c.value) > 120:
        return "spend"
    return "age"


def find_comparisons(doc: Doc) -> list[Comparison]:
    """Every numeric comparison in the free text, in text order, classified, consumed as 'cmp'.
    Run after the vocabulary, so that "jackets over 100" can be read as a price."""
    found: list[Comparison] = []
    for m in doc.find(_RANGE_RE):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        lo, hi = sorted((to_number(a), to_number(b)))
        found.append(Comparison(m.start(), m.end(), "range", lo, hi, has_currency(m.group())))
        doc.consume(m.start(), m.end(), "cmp")
    for pattern in (_PREFIX_RE, _POSTFIX_RE):
        for m in doc.find(pattern):
            op = _op_name(re.sub(r"\s+", " ", m.group("op")))
            found.append(Comparison(m.start(), m.end(), op, to_number(m.group("v")), None, has_currency(m.group())))
            doc.consume(m.start(), m.end(), "cmp")
    for c in found:
        c.kind = _comparison_kind(doc, c)
    return sorted(found, key=lambda c: c.start)


# ---------------------------------------------------------------------------- time windows

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MON = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b"
_UNIT = r"(?:days?|weeks?|months?|years?|fortnights?|quarters?)\b"


def _date_pattern(g: str) -> str:
    return (
        rf"(?:(?P<iso{g}>\d{{4}}-\d{{1,2}}-\d{{1,2}})"
        rf"|(?P<d1{g}>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1{g}>{_MON})\.?(?:,?\s+(?P<y1{g}>\d{{4}}))?"
        rf"|(?P<m2{g}>{_MON})\.?\s+(?P<d2{g}>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y2{g}>\d{{4}}))?"
        rf"|(?P<m3{g}>{_MON})\.?(?:\s+(?P<y3{g}>\d{{4}}))?"
        rf"|(?P<q{g}>q[1-4])\b(?:\s+(?P<yq{g}>\d{{4}}))?"
        rf"|(?P<y4{g}>(?:19|20)\d{{2}})\b)"
    )


_REL_RE = re.compile(
    rf"\b(?:(?:in|during|within|over|for|from)\s+)?(?:the\s+)?(?:last|past|previous|prior|recent)\s+"
    rf"(?:(?P<n>{NUM})\s+)?(?P<unit>{_UNIT})"
    rf"|\bwithin\s+(?:the\s+)?(?:a\s+)?(?P<n2>{NUM})?\s*(?P<unit2>{_UNIT})"
    rf"|\b(?:since\s+)?(?P<n3>{NUM}|a)\s+(?P<unit3>{_UNIT})\s+ago\b"
)
_LATELY_RE = re.compile(r"\b(?:lately|recently|recent|of late|these days|nowadays)\b")
_THIS_RE = re.compile(r"\b(?:this|current|the current)\s+(?P<unit>week|month|year|quarter)\b|\b(?:year to date|ytd)\b")
_DAY_RE = re.compile(r"\b(?:today|yesterday)\b")
_BETWEEN_RE = re.compile(
    rf"\b(?:between|from)\s+{_date_pattern('a')}\s*(?:and|to|until|till|through|-)\s*{_date_pattern('b')}"
)
_SINCE_RE = re.compile(rf"\b(?P<w>since|after|from|starting(?:\s+from)?|as of)\s+{_date_pattern('a')}")
_UNTIL_RE = re.compile(rf"\b(?P<w>before|until|till|through|up to|up until)\s+{_date_pattern('a')}")
_IN_RE = re.compile(rf"\b(?:in|during|on|for|of)\s+{_date_pattern('a')}")


def _date_range(m: re.Match[str], g: str, today: date) -> tuple[date, date]:
    """The first and last day meant by a date expression (a day, a month, a quarter, a year)."""

    def grp(name: str) -> str | None:
        return m.group(name + g)

    if grp("iso"):
        d = date.fromisoformat("-".join(p.zfill(2) for p in grp("iso").split("-")))
        return d, d
    if grp("y4"):
        y = int(grp("y4"))
        return date(y, 1, 1), date(y, 12, 31)
    if grp("q"):
        q = int(grp("q")[1])
        y = int(grp("yq")) if grp("yq") else (today.year if 3 * q - 2 <= today.month else today.year - 1)
        return date(y, 3 * q - 2, 1), date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
    for i in ("1", "2", "3"):
        if grp("m" + i):
            month = _MONTHS[grp("m" + i).lower()]
            day = int(grp("d" + i)) if i != "3" and grp("d" + i) else None
            year_text = grp("y" + i)
            if year_text:
                year = int(year_text)
            else:  # the latest such month / day that is not in the future
                year = today.year if (month, day or 1) <= (today.month, today.day) else today.year - 1
            if day:
                d = date(year, month, day)
                return d, d
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    raise ValueError(m.group())


def _unit(text: str, n: float) -> tuple[int, str]:
    base = text.rstrip("s")
    if base == "fortnight":
        return int(n) * 2, "weeks"
    if base == "quarter":
        return int(n) * 3, "months"
    return int(n), base + "s"


def _between(m: re.Match[str], today: date) -> TimeWindow:
    return TimeWindow(start=_date_range(m, "a", today)[0], end=_date_range(m, "b", today)[1])


def _since(m: re.Match[str], today: date) -> TimeWindow:
    first, last = _date_range(m, "a", today)
    return TimeWindow(start=last + timedelta(days=1) if m.group("w") == "after" else first)


def _until(m: re.Match[str], today: date) -> TimeWindow:
    first, last = _date_range(m, "a", today)
    return TimeWindow(end=first - timedelta(days=1) if m.group("w") == "before" else last)


def _relative(m: re.Match[str], today: date) -> TimeWindow:
    n_text = m.group("n") or m.group("n2") or m.group("n3")
    last, unit = _unit(
        m.group("unit") or m.group("unit2") or m.group("unit3"), 1 if n_text in (None, "a") else to_number(n_text)
    )
    return TimeWindow(last=last, unit=unit)  # type: ignore[arg-type]


def _this(m: re.Match[str], today: date) -> TimeWindow:
    starts = {
        "week": today - timedelta(days=today.weekday()),
        "month": today.replace(day=1),
        "quarter": date(today.year, 3 * ((today.month - 1) // 3) + 1, 1),
        "year": date(today.year, 1, 1),
    }
    return TimeWindow(start=starts[m.group("unit") or "year"])


def _day(m: re.Match[str], today: date) -> TimeWindow:
    day = today if m.group() == "today" else today - timedelta(days=1)
    return TimeWindow(start=day, end=day)


def _in(m: re.Match[str], today: date) -> TimeWindow:
    first, last = _date_range(m, "a", today)
    return TimeWindow(start=first, end=last)


_WINDOWS = (
    (_BETWEEN_RE, _between),
    (_SINCE_RE, _since),
    (_UNTIL_RE, _until),
    (_REL_RE, _relative),
    (_THIS_RE, _this),
    (_DAY_RE, _day),
    (_IN_RE, _in),
    (_LATELY_RE, lambda m, today: TimeWindow(last=LATELY_DAYS, unit="days")),
)


def find_windows(doc: Doc, today: date) -> list[tuple[int, int, TimeWindow]]:
    """Every time window in the free text: (start, end, TimeWindow), consumed as 'time'.
    Impossible dates ("2026-02-30", "the last 0 days") are left unread."""
    found: list[tuple[int, int, TimeWindow]] = []
    for pattern, build in _WINDOWS:
        for m in doc.find(pattern):
            try:
                window = build(m, today)
            except (ValueError, OverflowError):  # pydantic's ValidationError is a ValueError
                continue
            found.append((m.start(), m.end(), window))
            doc.consume(m.start(), m.end(), "time")
    return sorted(found, key=lambda f: f[0])


# ---------------------------------------------------------------------------- vocabulary


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one string (readable word lists)."""
    return frozenset(text.split())


# A small language resource (not data vocabulary): demonyms and everyday aliases, by ISO code.
_DEMONYMS = {
    "PL": "polish pole poles", "DE": "german germans", "CZ": "czech czechs", "AT": "austrian austrians",
    "FR": "french", "IT": "italian italians", "ES": "spanish spaniard spaniards", "NL": "dutch holland",
    "BE": "belgian belgians", "CH": "swiss", "GB": "british brits uk britain england english",
    "IE": "irish", "PT": "portuguese", "GR": "greek greeks", "HU": "hungarian hungarians",
    "SK": "slovak slovaks slovakian", "SI": "slovenian slovenians", "HR": "croatian croatians",
    "RO": "romanian romanians", "BG": "bulgarian bulgarians", "RS": "serbian serbians",
    "UA": "ukrainian ukrainians", "LT": "lithuanian lithuanians", "LV": "latvian latvians",
    "EE": "estonian estonians", "SE": "swedish swede swedes", "NO": "norwegian norwegians",
    "DK": "danish dane danes", "FI": "finnish finn finns", "TR": "turkish", "RU": "russian russians",
    "US": "american americans usa america", "CA": "canadian canadians", "MX": "mexican mexicans",
    "BR": "brazilian brazilians", "JP": "japanese", "CN": "chinese", "IN": "indian indians",
    "AU": "australian australians", "NZ": "newzealander kiwi kiwis", "LU": "luxembourgish",
}  # fmt: skip
_AMBIGUOUS_NAMES = {
    "jersey",
    "chad",
    "turkey",
    "china",
    "jordan",
    "georgia",
    "guinea",
    "kiwi",
    "kiwis",
    "pole",
    "poles",
}
_ENGLISH_SHORT = word_set("a am an as at be by do go he hi id if in is it me my no of oh ok on or so to up us we pm tv")
_COUNTRY_CONTEXT = {"from", "in", "to", "living", "based", "outside", "except", "excluding", "exclude", "than", "not"}


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


def _resolve_country(value: str) -> object | None:
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
    keys.update(_DEMONYMS.get(country.alpha_2, "").split())
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
        code = record.alpha_2 if record is not None else country.upper()  # type: ignore[attr-defined]
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
    if tok.text.upper() in index.codes and tok.text not in _ENGLISH_SHORT and len(tok.text) >= 2:
        return index.codes[tok.text.upper()]
    return None


def _foreign(doc: Doc, i: int, n: int, key: str, index: VocabIndex) -> str | None:
    code = _world_countries().get(key)
    if code is None or code in index.codes or len(key) < 4:
        return None
    tok = doc.tokens[i]
    before = doc.words_before(tok.start, 1)
    capitalised = doc.raw[tok.start].isupper()
    if key in _AMBIGUOUS_NAMES and not (before and before[0] in _COUNTRY_CONTEXT):
        return None
    if capitalised or (before and before[0] in _COUNTRY_CONTEXT):
        return pycountry.countries.get(alpha_2=code).name
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


# ---------------------------------------------------------------------------- words and phrases

YOUNG_MAX_AGE = 29  # "young"
SENIOR_MIN_AGE = 60  # "senior", "elderly", "older customers"

_R = re.compile


def _rx(*alternatives: str) -> re.Pattern[str]:
    return _R("|".join(alternatives))


BY_SPEND_RE = _rx(
    r"\b(?:by|most|highest)\s+(?:total\s+)?(?:spend|spent|spending|revenue)\b", r"\bspends?\s+the\s+most\b"
)
SORT_RE = [
    (_rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?(?:total\s+)?"
         r"(?:spend|spent|spending|revenue|value|money\s+spent)\b",
         r"\b" + PEOPLE + r"\s+by\s+(?:their\s+|the\s+)?(?:total\s+|lifetime\s+)?(?:spend|spent|spending|revenue|value)\b"),
     "total_spent"),
    (_rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?"
         r"(?:recency|recent\s+activity|last\s+activity|activity|date)\b"), "recent_activity"),
    (_rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?(?:number\s+of\s+)?"
         r"(?:purchases|orders|purchase\s+count)\b"), "purchases"),
    (_rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?age\b"), "age"),
    (_rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+relevance\b"), "relevance"),
]  # fmt: skip
ORDER_RE = [
    (_rx(r"\b(?:best|top|biggest|highest|big|heavy|high)[\s-]+(?:spenders?|spending)\b", r"\bmost\s+valuable\b",
         r"\bbest\s+" + PEOPLE + r"\b", r"\btop\s+(?:customers|clients|buyers)\b", r"\bvips?\b",
         r"\bhigh[\s-]value\b", r"\b(?:spent|spend|spends)\s+(the\s+most)\b"), "total_spent"),
    (_rx(r"\bmost\s+recent(?:ly)?(?:\s+active)?\b", r"\blatest\b", r"\bnewest\b"), "recent_activity"),
    (_rx(r"\bmost\s+(?:purchases|orders)\b", r"\bmost\s+frequent(?:ly)?\b", r"\bmost\s+(?:active|loyal)\b",
         r"\b(?:bought|buy|buys|purchased|purchase|ordered|order|shop|shopped)\s+(the\s+most)\b"), "purchases"),
    (_rx(r"\boldest\b"), "age_desc"),
    (_rx(r"\byoungest\b"), "age"),
]  # fmt: skip
_GROUP = (r"(?P<g>countr(?:y|ies)|favou?rite\s+colou?rs?|colou?rs?|age(?:\s+(?:bands?|groups?|brackets?|ranges?))?"
          r"|products?|items?|event\s+types?|events?|months?|luxury\s+(?:affinity|preference))")  # fmt: skip
GROUP_RE = _rx(
    r"\b(?:by|per|for\s+each|each|across|in\s+each|split\s+by|broken\s+down\s+by|break\s*down\s+(?:by|of)|"
    r"breakdown\s+(?:by|of|per)|grouped\s+by|group\s+by)\s+(?:their\s+|the\s+)?" + _GROUP + r"\b",
    r"\b(?P<monthly>monthly)\b",
    r"\b(?P<vs>luxury\s+(?:vs\.?|versus|or|and)\s+non[\s-]?luxury)\b",
)
WHICH_RE = _rx(r"\b(?:which|what)\s+" + _GROUP + r"\b")
POPULAR_RE = [
    _R(
        r"\b(?:(?P<n>"
        + NUM
        + r")\s+)?(?P<dir>most|least)\s+(?P<how>popular|common|frequent|bought|purchased|sold|viewed|carted)\s+"
        + _GROUP
        + r"\b"
    ),
    _R(r"\b(?P<how>best)[\s-]?selling\s+" + _GROUP + r"\b"),
    _R(r"\btop\s+(?:(?P<n>" + NUM + r")\s+)?" + _GROUP + r"\b"),
]
COUNT_Q_RE = _rx(r"\bhow\s+many\b", r"\b(?:total\s+)?number\s+of\b", r"\bcount(?:\s+of)?\b")
AVG_RE = _rx(r"\b(?:average|avg|mean|typical|median)\b", r"\bhow\s+old\b")
SUM_RE = _rx(r"\btotal\s+(?:spend|spent|spending|revenue|sales|turnover|value)\b", r"\bsum\s+of\b",
             r"\bhow\s+much\b", r"\brevenue\b", r"\bturnover\b")  # fmt: skip
MINMAX_RE = _rx(r"\bwhat(?:'s|\s+is|\s+was)?\s+(?:the\s+)?(?P<op>max(?:imum)?|highest|largest|biggest|min(?:imum)?|"
                r"lowest|smallest)\s+(?:(?:total|lifetime)\s+)?(?P<f>spend|spent|spending|age|price)\b",
                r"\b(?:how\s+old\s+is|(?:what(?:'s|\s+is)\s+)?the\s+age\s+of)\s+(?:our|the|my)\s+"
                r"(?P<op2>youngest|oldest)\b")  # fmt: skip
COUNT_RE = [
    (_rx(r"\bat\s+least\s+(?:(?P<n>" + NUM + r")\s+times?|(?P<w>once|twice|thrice))\b"), 0),
    (_rx(r"\b(?:more\s+than|over)\s+(?:(?P<n>" + NUM + r")\s+times?|(?P<w>once|twice|thrice))\b"), 1),
    (_rx(r"\b(?P<n>" + NUM + r")\s*(?:\+\s*times?|times?\s+or\s+more|or\s+more\s+times|times?\s+(?:and|or)\s+"
         r"(?:up|above|over))"), 0),
    (_rx(r"\b(?P<n>" + NUM + r")\s+times\b", r"\b(?P<w>twice|thrice)\b"), 0),
]  # fmt: skip
COUNT_NOUN_RE = _rx(
    r"\b(?:(?P<op>at\s+least|min(?:imum)?(?:\s+of)?|more\s+than|over|above)\s+(?P<n>" + NUM + r")"
    r"|(?P<n2>" + NUM + r")\s*(?:\+|or\s+more))(?=\s+(?:purchases|orders|views|visits)\b)"
)  # "made at least 3 purchases", "5+ orders": a repeat count of that event
REPEAT_RE = _rx(r"\b(?:repeat(?:ed)?|returning|repeatedly|again)\b", r"\bmultiple[\s-]times\b",
                r"\bseveral\s+times\b", r"\bfrequent(?:ly)?\b", r"\bregular(?:ly)?\b")  # fmt: skip
LIMIT_RE = _rx(
    r"\b(?:top|first|best)\s+(?P<n>" + NUM + r")\b",
    r"\b(?P<n2>" + NUM + r")\s+(?:of\s+them|" + PEOPLE + r"|(?=(?:oldest|youngest|best|biggest|newest|latest|"
    r"most\s+\w+|top|highest[\s-]spending)\s+" + PEOPLE + r"\b))",
    r"\b(?:just|only|limit(?:\s+(?:it|them|that))?(?:\s+to)?|give\s+me|show\s+me|show|list|get|return|pick|select|"
    r"find)\s+(?P<n3>" + NUM + r")\b",  # "at most / up to N" are comparisons (find_comparisons) first
)
EXPLAIN_RE = _rx(r"\b(?:why|explain|how\s+come)\b[^0-9?]*?(?:#\s*)?(?P<id>\d+)\b(?:\s+(?:in(?:cluded)?|there|here))?")
JSON_RE = _rx(r"\b(?:(?:show|give|send|export|return|print|output|get)\s+(?:me\s+)?(?:them|it|this|that|those|these|"
              r"the\s+(?:list|segment|results?|audience))?\s*)?(?:as|in|to|into)?\s*(?:a\s+)?json(?:\s+(?:format|file))?\b")  # fmt: skip
AGE_WORDS = [
    (_rx(r"\b(?:young|younger|youth|youngsters?|young\s+adults?)\b"), (None, YOUNG_MAX_AGE)),
    (_rx(r"\b(?:seniors?|elderly|retirees?|pensioners?)\b", r"\bolder\b(?=\s+" + PEOPLE + r")"), (SENIOR_MIN_AGE, None)),
    (_rx(r"\bmiddle[\s-]aged\b"), (40, 59)),
    (_rx(r"\bteen(?:s|agers?)\b"), (13, 19)),
]  # fmt: skip
DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70}
DECADE_RE = _rx(r"\bin\s+(?:their|his|her)\s+(?:(?P<d>[1-9]0)'?s|(?P<w>" + "|".join(DECADES) + r"))\b")
EXACT_AGE_RE = _rx(r"\b(?P<n>\d{1,3})[\s-]*(?:years?|yrs?)[\s-]*old\b", r"\baged?\s+(?P<n2>\d{1,3})\b")
VERB_RE = [
    ("add_to_cart", False, _rx(
        r"\badd(?:ed|s|ing)?[\s-]+(?:(?:it|them)\s+)?(?:to|into|in)[\s-]+(?:the\s+|their\s+|a\s+|his\s+|her\s+|my\s+)?"
        r"(?:shopping\s+)?(?:cart|basket)s?\b", r"\bcarted\b", r"\bcart\s+abandoners?\b",
        r"\babandoned\s+(?:shopping\s+)?(?:carts?|baskets?)\b",
        r"\badd(?:ed|s|ing)?\b(?=(?:\W+\w+){1,6}?\W+(?:to|into|in)\W+(?:(?:the|their|a|his|her|my)\W+)?"
        r"(?:shopping\W+)?(?:cart|basket)s?\b)")),
    ("add_to_cart", True, _rx(r"\b(?:to|into|in)\s+(?:the\s+|their\s+|a\s+|his\s+|her\s+|my\s+)?(?:shopping\s+)?"
                              r"(?:cart|basket)s?\b", r"\b(?:carts?|baskets?)\b")),
    ("purchase", False, _rx(r"\b(?:bought|buy|buys|buying|purchased|purchase|purchasing|ordered|ordering|order|"
                            r"sold|sells|selling)\b", r"\b(?:paid|pay|shopped)\s+for\b")),
    ("purchase", True, _rx(r"\b(?:buyers?|purchasers?|purchases|orders)\b")),
    ("view", False, _rx(r"\b(?:viewed|view|viewing|browsed|browse|browses|browsing|visited|visit|visits|visiting|"
                        r"saw|seen)\b", r"\b(?:looked|look|looking|looks)\s+at\b",
                        r"\b(?:clicked|click|clicks|clicking)(?:\s+on)?\b")),
    ("view", True, _rx(r"\b(?:viewers?|views|visitors?)\b")),
    ("return", False, _rx(r"\b(?:returned|refunded|sent\s+back)\b")),
    ("return", True, _rx(r"\b(?:returns|refunds)\b")),
    ("subscription", False, _rx(r"\b(?:subscribed|subscribe|subscribes|unsubscribed|signed\s+up|opted\s+in)\b")),
    ("subscription", True, _rx(r"\b(?:subscribers?|subscriptions?|sign[\s-]?ups?)\b")),
]  # fmt: skip
_MAIL = r"(?:e-?mails?|newsletters?|mailings?|mailers?|mails?|e-?blasts?|campaigns?)"
EMAIL_VERB_RE = _rx(r"\b(?:opened|opens|open|opening|clicked|clicks|click|clicking|bounced|bounces|replied|replies|"
                    r"reply|replying|responded|responds|respond|read|reads|reading|ignored|ignores|forwarded|"
                    r"engaged?\s+with)\b")  # fmt: skip
EMAIL_TAIL_RE = _R(r"(?:\W+(?:on|in|to|with|at|of)?\W*[\w']+){0,5}?\W+(?P<noun>" + _MAIL + r")\b")
EMAIL_NOUN_RE = _rx(r"\b" + _MAIL + r"\s+(?:opens|openers?|clicks|clickers?|click[\s-]?throughs?|engagement|"
                    r"responders?|responses|replies|bounces|readers)\b",
                    r"\b(?:opened|clicked|read|ignored|bounced)\s+" + _MAIL + r"\b")  # fmt: skip
CART_TAIL_RE = _R(
    r"(?:\W+[\w']+){0,6}?(?P<tail>\W+(?:to|into|in)\W+(?:(?:the|their|a|his|her|my)\W+)?"
    r"(?:shopping\W+)?(?:cart|basket)s?\b)"
)
INTEREST_RE = _rx(
    r"\b(?:interested|interest|interests)\s+in\b",
    r"\binto\b",
    r"\b(?:likes?|liked|loves?|loved|enjoys?|enjoyed|"
    r"prefers?|preferred|wants?|wanted)\b",
    r"\bfans?\s+of\b",
    r"\blovers?\s+of\b",
    r"\bkeen\s+on\b",
    r"\bpassionate\s+about\b",
    r"\bcares?\s+about\b",
    r"\bengaged?\s+with\b",
    r"\baffinity\s+(?:for|to|with)\b",
    r"\blooking\s+for\b",
    r"\bshopping\s+for\b",
    r"\bin\s+the\s+market\s+for\b",
)
LUX_FALSE_RE = _rx(r"\bnon[\s-]?luxury\b", r"\bnot\s+(?:into\s+|interested\s+in\s+)?luxury\b")
LUX_WORDS_FALSE_RE = _rx(r"\b(?:budget|bargains?|bargain[\s-]hunters?|cheap|discount(?:s|ed)?|low[\s-]?cost|"
                         r"price[\s-]?sensitive|thrifty|frugal)\b")  # fmt: skip
LUX_TRUE_RE = _rx(r"\b(?:luxury|luxurious|high[\s-]?end|premium|upscale|up[\s-]?market|exclusive|designer|"
                  r"prestigious|prestige|affluent|high[\s-]?class|posh|lavish)\b")  # fmt: skip
NEG_RE = _rx(r"\b(?:never|not|no|without|nor|neither|[a-z]+n't|didnt|dont|doesnt|havent|hasnt|hadnt|wasnt|werent|"
             r"isnt|arent|except(?:\s+for)?|excluding|exclude|excludes|remove|drop|other\s+than|apart\s+from|"
             r"outside(?:\s+of)?|non)\b")  # fmt: skip


@dataclass
class Mention:
    """Something understood at a place in the text; the planner walks these in text order."""

    kind: str  # event interest neg product color country foreign_country lux window count price
    start: int
    end: int
    value: Any = None
    neg: bool = False
    postfix: bool = False  # a noun-form event ("sock buyers") that may follow its product
    role: str = ""  # colors: favourite | themed | attached; counts: repeat


@dataclass
class Analytics:
    measure: str | None = None
    field: str | None = None
    group_by: str | None = None
    top: int | None = None
    order: str = "desc"
    events_of: str | None = None  # counting events: purchase | view | add_to_cart | any
    counts_customers: bool = False  # "how many customers ...", "number of users ..."


def find_json(doc: Doc) -> bool:
    found = False
    for m in doc.find(JSON_RE):
        found = True
        doc.consume(m.start(), m.end(), "json")
    return found


LOOKALIKE_RE = _rx(r"\b(?:like|similar\s+to|lookalikes?\s+(?:of|for)|resembling)\s+(?:customer|user|client)\s*#?\s*\d+")


PREDICTION_RE = _rx(
    r"\b(?:churn(?:s|ed|ing|ers?)?|predict(?:s|ed|ion|ions)?|forecast(?:s|ed|ing)?|propensity\s+to\s+churn)\b",
    r"\b(?:will|going\s+to)\s+(?:stop\s+buying|leave|cancel)\b",
)
_FUTURE = (r"(?:next|in\s+the\s+(?:next|coming)|over\s+the\s+(?:next|coming)|(?:the\s+)?(?:coming|upcoming))\s+"
           r"(?:(?:\d+|few|couple\s+of)\s+)?(?:days?|weeks?|months?|quarters?|years?|seasons?|holidays?|"
           r"christmas|summer|winter|spring|autumn|fall|sale)\b")  # fmt: skip
FUTURE_BUY_RE = _rx(  # buying said in the future: a prediction, not past purchases
    r"(?:\b(?:will|shall|going\s+to|gonna|likely\s+to|about\s+to|expected\s+to|set\s+to|plan(?:s|ning)?\s+to|"
    r"intend(?:s|ing)?\s+to)|'ll)\s+(?:(?:probably|likely|definitely|soon|actually|still|also|most\s+likely)\s+)?"
    r"(?:buy|purchase|order|shop|spend|convert|repurchase|come\s+back)\b",
    r"\b(?:likely|future|next)\s+(?:buyers|purchasers|converters)\b",
    r"\bnext\s+(?:week|month|quarter|year|season)(?:'s)?\s+(?:buyers|purchasers|customers)\b",
    rf"\b(?:buy|buys|purchase|purchases|order|orders|shop|shops|spend|spends)\b(?=(?:\W+[\w']+){{0,6}}?\W+{_FUTURE})",
)


def find_prediction(doc: Doc) -> tuple[str, str] | None:
    """'who will churn', 'predict next month's buyers', 'who will buy a tent next month': the data holds
    past behaviour only. Returns (phrase, "purchase" for buying in the future | "other")."""
    for pattern, kind in ((FUTURE_BUY_RE, "purchase"), (PREDICTION_RE, "other")):
        for m in doc.find(pattern):
            doc.consume(m.start(), m.end(), "prediction")
            return m.group(), kind
    return None


def find_lookalike(doc: Doc) -> str | None:
    """'customers like customer 42': not expressible in the typed query."""
    for m in doc.find(LOOKALIKE_RE):
        doc.consume(m.start(), m.end(), "lookalike")
        return m.group()
    return None


def find_explain(doc: Doc) -> int | None:
    for m in doc.find(EXPLAIN_RE):
        doc.consume(m.start(), m.end(), "explain")
        return int(m.group("id"))
    return None


def find_sort(doc: Doc) -> list[tuple[str, str]]:
    """Explicit orderings ("sorted by spend"): [(order_by, phrase)]."""
    found = []
    for pattern, order in SORT_RE:
        for m in doc.find(pattern):
            found.append((order, m.group()))
            doc.consume(m.start(), m.end(), "order")
    return found


def find_order_words(doc: Doc) -> list[tuple[str, str]]:
    """Implicit orderings ("best customers", "most recent"): [(order_by, phrase)]."""
    found = []
    for pattern, order in ORDER_RE:
        for m in doc.find(pattern):
            found.append((order, m.group().strip()))
            doc.consume(*(m.span(1) if m.lastindex and m.group(1) else m.span()), "order")
    return found


def _group_name(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    for prefix, name in (
        ("countr", "country"),
        ("favo", "favorite_color"),
        ("colo", "color"),
        ("age", "age_band"),
        ("product", "product"),
        ("item", "product"),
        ("event", "event_type"),
        ("month", "month"),
    ):
        if text.startswith(prefix):
            return name
    return "likes_luxury"


def find_analytics(doc: Doc) -> Analytics | None:
    """Aggregate phrasing: how many / average / total / highest / by X / top N X / which X."""
    a, found = Analytics(), False
    for m in doc.find(MINMAX_RE):
        if m.group("op2"):  # "how old is our youngest customer"
            a.measure, a.field = ("min" if m.group("op2") == "youngest" else "max"), "age"
        else:
            a.measure = "max" if m.group("op").startswith(("max", "high", "larg", "big")) else "min"
            a.field = {"age": "age", "price": "price"}.get(m.group("f"), "total_spent")
        found = True
        doc.consume(m.start(), m.end(), "analytics")
    for m in doc.find(AVG_RE):
        near = set(doc.words_after(m.end(), 4) + doc.words_before(m.start(), 2))
        a.measure, found = "avg", True
        if {"age", "old", "ages"} & near or "old" in m.group():
            a.field = "age"
        a.field = a.field or ("price" if {"price", "prices", "order", "basket", "ticket"} & near else "total_spent")
        doc.consume(m.start(), m.end(), "analytics")
    for m in doc.find(SUM_RE):
        a.measure, a.field, found = a.measure or "sum", a.field or "total_spent", True
        doc.consume(m.start(), m.end(), "analytics")
    for m in doc.find(COUNT_Q_RE):
        nxt = doc.words_after(m.end(), 1)
        if nxt and nxt[0] in ("purchases", "orders", "sales"):
            a.events_of = "purchase"
        elif nxt and nxt[0] in ("views", "clicks", "visits"):
            a.events_of = "view"
        elif nxt and nxt[0] == "events":
            a.events_of = "any"
        a.counts_customers = bool(nxt and re.fullmatch(PEOPLE, nxt[0]))
        found = True
        doc.consume(m.start(), m.end(), "analytics")
    found = _find_groups(doc, a) or found
    if not found:
        return None
    if a.group_by and a.measure is None and BY_SPEND_RE.search(doc.text):
        a.measure, a.field = "sum", "total_spent"  # "top 3 countries by spend"
    return a


def _find_groups(doc: Doc, a: Analytics) -> bool:
    found = False
    for m in (m for pattern in POPULAR_RE for m in doc.find(pattern)):
        g = m.groupdict()
        a.group_by, found = _group_name(g["g"]), True
        a.order = "asc" if g.get("dir") == "least" else a.order
        if g.get("n"):
            a.top = int(to_number(g["n"]))
        elif not re.search(r"(?:s|ies)$", g["g"]):
            a.top = 1  # "most popular color"
        how = g.get("how")
        if how in ("viewed", "carted", "bought", "purchased", "sold", "best"):
            a.events_of = {"viewed": "view", "carted": "add_to_cart"}.get(how, "purchase")
        doc.consume(m.start(), m.end(), "analytics")
    for m in doc.find(WHICH_RE):
        a.group_by, found = _group_name(m.group("g")), True
        a.top = a.top if re.search(r"(?:s|ies)$", m.group("g")) else 1  # "which country" = the top one
        doc.consume(m.start(), m.end(), "analytics")
    for m in doc.find(GROUP_RE):
        name = "month" if m.group("monthly") else "likes_luxury" if m.group("vs") else _group_name(m.group("g"))
        a.group_by, found = a.group_by or name, True  # the first grouping said wins
        doc.consume(m.start(), m.end(), "analytics")
    if found and re.search(r"\b(?:least|fewest|lowest)\b", doc.text):
        a.order = "asc"
    return found


def find_counts(doc: Doc) -> list[Mention]:
    """Repeat counts -> Mention('count', value=min_events); 'repeat/returning' have role 'repeat'."""
    out = []
    for pattern, extra in COUNT_RE:
        for m in doc.find(pattern):
            word = m.groupdict().get("w")
            n = {"once": 1, "twice": 2, "thrice": 3}[word] if word else int(to_number(m.group("n")))
            out.append(Mention("count", m.start(), m.end(), n + extra))
            doc.consume(m.start(), m.end(), "count")
    for m in doc.find(COUNT_NOUN_RE):
        n = int(to_number(m.group("n") or m.group("n2")))
        strict = m.group("op") is not None and re.match(r"more|over|above", m.group("op")) is not None
        out.append(Mention("count", m.start(), m.end(), n + strict))
        doc.consume(m.start(), m.end(), "count")
    for m in doc.find(REPEAT_RE):
        out.append(Mention("count", m.start(), m.end(), 2, role="repeat"))
        doc.consume(m.start(), m.end(), "count")
    return [m for m in out if m.value > 1]


def find_age_words(doc: Doc) -> list[tuple[int | None, int | None, str]]:
    """young, senior, middle-aged, teens, in their 30s, 30 years old, aged 30 -> (min_age, max_age, words)."""
    found: list[tuple[int | None, int | None, str]] = []
    for pattern, (lo, hi) in AGE_WORDS:
        for m in doc.find(pattern):
            found.append((lo, hi, m.group()))
            doc.consume(m.start(), m.end(), "age")
    for m in doc.find(DECADE_RE):
        lo = int(m.group("d")) if m.group("d") else DECADES[m.group("w")]
        found.append((lo, lo + 9, m.group()))
        doc.consume(m.start(), m.end(), "age")
    for m in doc.find(EXACT_AGE_RE):
        n = int(m.group("n") or m.group("n2"))
        found.append((n, n, m.group()))
        doc.consume(m.start(), m.end(), "age")
    return found


def find_limits(doc: Doc) -> list[float]:
    """ "top 20", "first 10", "20 customers", "just 5", "limit to 30"."""
    found = []
    for m in doc.find(LIMIT_RE):
        found.append(to_number(m.group("n") or m.group("n2") or m.group("n3")))
        doc.consume(m.start(), m.end(), "limit")
    return found


def _find_email(doc: Doc) -> list[Mention]:
    """'opened our last email', 'clicked the newsletter', 'email openers': e-mail engagement (concept "email").
    A product or color between the verb and the mail ("clicked jackets in the summer campaign") keeps its verb."""
    out = []
    for m in doc.find(EMAIL_NOUN_RE):
        out.append(Mention("event", m.start(), m.end(), "email"))
        doc.consume(m.start(), m.end(), "verb")
    for m in doc.find(EMAIL_VERB_RE):
        tail = EMAIL_TAIL_RE.match(doc.text, m.end())
        if tail and not any(t.tag in ("product", "color") for t in doc.span_tokens(m.end(), tail.end())):
            out.append(Mention("event", m.start(), m.end(), "email"))
            for t in doc.span_tokens(m.start(), tail.end()):
                t.tag = t.tag or "verb"  # the mail is this verb's object; other words keep what they were
    return out


def find_words(doc: Doc) -> list[Mention]:
    """Luxury words, event verbs, interest verbs and negations."""
    out = []
    for pattern, value, keep in ((LUX_FALSE_RE, False, False), (LUX_WORDS_FALSE_RE, False, True),
                                 (LUX_TRUE_RE, True, True)):  # fmt: skip
        for m in doc.find(pattern):
            out.append(Mention("lux", m.start(), m.end(), value))
            doc.consume(m.start(), m.end(), "lux", keep=keep)
    out += _find_email(doc)
    for concept, postfix, pattern in VERB_RE:
        for m in doc.find(pattern):
            out.append(Mention("event", m.start(), m.end(), concept, postfix=postfix))
            doc.consume(m.start(), m.end(), "verb")
            tail = CART_TAIL_RE.match(doc.text, m.end()) if concept == "add_to_cart" and not postfix else None
            if tail:  # "added anything to their cart": the cart is this verb's, not a second event
                doc.consume(tail.start("tail"), tail.end(), "verb")
    for kind, pattern in (("interest", INTEREST_RE), ("neg", NEG_RE)):
        for m in doc.find(pattern):
            out.append(Mention(kind, m.start(), m.end()))
            doc.consume(m.start(), m.end(), kind)
    return out
