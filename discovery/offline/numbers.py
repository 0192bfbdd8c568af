"""Numbers in a question: amounts, comparisons, repeat counts, ages and limits.

- Numbers ("500", "1,200", "2.5k", "three", "twice") and money ("€500", "500 EUR").
- Comparisons: "more than / over / above / >" (strict), "at least / >= / 500+ / 500 or more"
  (inclusive), "under / below / less than / <", "at most / up to / <=", "between A and B",
  "A-B", "A to B". The nearest keyword says what is compared: spend ("spent", currency), age
  ("aged", "old", "older/younger than") or price ("price", "cost", right after a product);
  without one, a whole number up to 120 is an age, else a spend; "up to 20 customers" is a limit.
  Spend bounds are strict (CRMFilter.min/max_spent): "at least 500" -> 499.99; ages and prices
  are inclusive ("over 40" -> min_age 41, "price above 50" -> 50.01).
- Repeats: "at least 3 times", "more than twice" (-> 3), "5+ orders", "repeat/returning" (-> 2).
- Age words: young (<= 29), senior/elderly (>= 60), middle-aged, teens, "in their 30s", "aged 30".
- Limits: "top 20", "first 10", "20 customers", "just 5", "limit to 30".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from discovery.offline.doc import Doc, Mention
from discovery.offline.lexicon import AGE_KW, DECADES, NUM_WORDS, PRICE_KW, REPEAT_WORDS, SPEND_KW
from discovery.offline.patterns import (
    AGE_WORDS,
    COUNT_NOUN_RE,
    COUNT_RE,
    CUR,
    DECADE_RE,
    EXACT_AGE_RE,
    LIMIT_RE,
    OPS,
    PEOPLE,
    POSTFIX_RE,
    PREFIX_RE,
    RANGE_RE,
    REPEAT_RE,
)


def to_number(text: str) -> float:
    """'1,200' -> 1200, '2.5k' -> 2500, '1,5' -> 1.5, 'twelve' -> 12, '€500' -> 500."""
    s = re.sub(CUR, "", text.lower()).strip()
    if s in NUM_WORDS:
        return float(NUM_WORDS[s])
    mult = 1000.0 if s.endswith("k") else 1.0
    s = s.rstrip("k").strip()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):
        s = s.replace(",", "")
    s = s.replace(",", ".")
    return float(s) * mult


def has_currency(text: str) -> bool:
    return re.search(CUR, text.lower()) is not None


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


def _op_name(op: str) -> str:
    for name, pat in OPS:
        if re.fullmatch(pat, op):
            return name
    raise ValueError(op)


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
    for m in doc.find(RANGE_RE):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        lo, hi = sorted((to_number(a), to_number(b)))
        found.append(Comparison(m.start(), m.end(), "range", lo, hi, has_currency(m.group())))
        doc.consume(m.start(), m.end(), "cmp")
    for pattern in (PREFIX_RE, POSTFIX_RE):
        for m in doc.find(pattern):
            op = _op_name(re.sub(r"\s+", " ", m.group("op")))
            found.append(Comparison(m.start(), m.end(), op, to_number(m.group("v")), None, has_currency(m.group())))
            doc.consume(m.start(), m.end(), "cmp")
    for c in found:
        c.kind = _comparison_kind(doc, c)
    return sorted(found, key=lambda c: c.start)


def find_counts(doc: Doc) -> list[Mention]:
    """Repeat counts -> Mention('count', value=min_events); 'repeat/returning' have role 'repeat'."""
    out = []
    for pattern, extra in COUNT_RE:
        for m in doc.find(pattern):
            word = m.groupdict().get("w")
            n = REPEAT_WORDS[word] if word else int(to_number(m.group("n")))
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
