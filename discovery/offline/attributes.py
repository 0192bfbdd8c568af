"""Custom attributes in a question, by what the catalogue holds (never by words in the code).

- a category's value ("gold", "instagram", "München"), several joined by or/and/commas are one
  `in` condition ("gold or platinum tier"); "not"/"excluding" before it makes `not in`;
- a yes/no attribute by its label ("e-mail opt-in": "opted in to e-mail", "with e-mail opt-in");
  a negation before it asks for `false`;
- a number attribute by its label with a comparison ("more than 10 lifetime orders",
  "lifetime orders of at least 5", "between 2 and 5 lifetime orders");
- a date attribute by its label with after / before / since / in and a date ("joined after
  March 2025", "joined in 2025");
- "by / per <label>": an analytics grouping by that attribute.
A label matches by its words of three letters or more (singular, without -ed / -ing), in any
order within a few words; hyphenated forms join ("opt-in", "opted in").
Ranges and labels are read before the time windows and counts (which would read "after March
2025" or "more than 10 orders" as events); category values after the catalogue's vocabulary
(a product or color of the same name wins).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from discovery.catalogue import AttributeInfo, Catalogue
from discovery.offline.doc import Doc
from discovery.offline.lexicon import MONTHS, word_set
from discovery.offline.parsed import Parsed
from discovery.offline.patterns import TOKEN_RE
from discovery.query import AttributeCondition, Behaviour

NEGATIONS = word_set("not no never without excluding except exclude non didn't didn don't haven't hasn't")
LEADS = word_set("the a an through via in on from with using at")  # words that lead up to a value
_NUM = r"(?P<n>\d+(?:[.,]\d+)?)"
_OPS = {
    "more than": "gt", "over": "gt", "above": "gt", "greater than": "gt", "at least": "gte", "minimum": "gte",
    "less than": "lt", "fewer than": "lt", "under": "lt", "below": "lt", "at most": "lte", "maximum": "lte",
    "exactly": "eq",
}  # fmt: skip
_OP = r"(?P<op>" + "|".join(sorted(map(re.escape, _OPS), key=len, reverse=True)) + r")"
_BEFORE_NUM = re.compile(r"(?:" + _OP + r"\s+)?" + _NUM + r"\s*(?P<plus>\+)?\s*$")
_BETWEEN = re.compile(r"between\s+(?P<a>\d+(?:[.,]\d+)?)\s+and\s+(?P<b>\d+(?:[.,]\d+)?)\s*$")
_AFTER_NUM = re.compile(r"^\s*(?:of\s+|is\s+|are\s+)?" + _OP + r"\s+" + _NUM)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE = (
    r"(?:(?P<iso>\d{4}-\d{1,2}-\d{1,2})|(?P<dmy>\d{1,2}\.\d{1,2}\.\d{4})|"
    r"(?:(?P<day>\d{1,2})\s+)?(?P<month>" + _MONTH + r")\.?\s+(?P<year>\d{4})|(?P<y4>\d{4}))"
)
_DATE_AFTER = re.compile(r"^\s*(?:on\s+or\s+)?(?P<op>after|before|since|from|until|in|during)\s+" + _DATE + r"\b")
_GROUP_BEFORE = re.compile(
    r"\b(?:by|per|for\s+each|across|grouped\s+by|split\s+by|broken\s+down\s+by|breakdown\s+(?:by|of))"
    r"\s+(?:their\s+|the\s+)?$"
)
_JOIN_GAP = re.compile(r"^(?:\s*(?:,|or|and|/)\s*)+$")


def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def _label_stems(a: AttributeInfo) -> list[str]:
    words = TOKEN_RE.findall(a.label.lower()) or TOKEN_RE.findall(a.name.replace("_", " "))
    joined = _hyphen_joins(a.label.lower())
    return list(dict.fromkeys(stem(w) for w in [*joined, *(w for w in words if len(w) >= 3)] if w not in joined))


def _hyphen_joins(text: str) -> list[str]:
    """'e-mail opt-in' -> ['email', 'optin']: a word written with a hyphen is one word."""
    return [re.sub(r"-", "", w) for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)+", text)]


@dataclass
class _Form:
    """A word of the question (or two joined: "opt in", "e-mail") as its stem, with its tokens."""

    stem: str
    first: int
    last: int


def _forms(doc: Doc) -> list[_Form]:
    toks = doc.tokens
    out = [_Form(stem(t.text), i, i) for i, t in enumerate(toks) if t.tag is None]
    for i in range(len(toks) - 1):
        a, b = toks[i], toks[i + 1]
        if a.tag is None and b.tag is None and re.fullmatch(r"[\s-]?", doc.text[a.end : b.start]):
            out.append(_Form(stem(a.text) + b.text, i, i + 1))
            out.append(_Form(stem(a.text + b.text), i, i + 1))
    return out


def _label_span(doc: Doc, a: AttributeInfo, forms: list[_Form]) -> tuple[int, int] | None:
    """Token indexes (first, last) where all the label's words are said close together."""
    wanted = _label_stems(a)
    if not wanted:
        return None
    hits = {w: [f for f in forms if f.stem == w] for w in wanted}
    if any(not h for h in hits.values()):
        return None
    first = min(f.first for h in hits.values() for f in h[:1])
    last = max(f.last for h in hits.values() for f in h[:1])
    return (first, last) if last - first <= len(wanted) + 3 else None


def _negated(doc: Doc, first: int) -> bool:
    before = [t.text for t in doc.tokens[max(0, first - 3) : first]]
    return any(w in NEGATIONS or w.endswith("n't") for w in before)


def _consume(doc: Doc, first: int, last: int, start: int | None = None, end: int | None = None) -> None:
    s = doc.tokens[first].start if start is None else min(start, doc.tokens[first].start)
    e = doc.tokens[last].end if end is None else max(end, doc.tokens[last].end)
    doc.consume(s, e, "attribute")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _range(op: str, n: float) -> dict:
    return {"gte": n, "lte": n} if op == "eq" else {op: n}


def _date_bounds(m: re.Match[str]) -> tuple[date, date]:
    if m.group("iso"):
        d = date.fromisoformat("-".join(p.zfill(2) for p in m.group("iso").split("-")))
        return d, d
    if m.group("dmy"):
        day, mo, y = (int(x) for x in m.group("dmy").split("."))
        return date(y, mo, day), date(y, mo, day)
    if m.group("month"):
        y, mo = int(m.group("year")), MONTHS[m.group("month")]
        if m.group("day"):
            return date(y, mo, int(m.group("day"))), date(y, mo, int(m.group("day")))
        return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])
    y = int(m.group("y4"))
    return date(y, 1, 1), date(y, 12, 31)


def _date_condition(op: str, lo: date, hi: date) -> dict:
    if op == "after":
        return {"gte": hi + timedelta(days=1)}
    if op in ("since", "from"):
        return {"gte": lo}
    if op == "before":
        return {"lt": lo}
    if op == "until":
        return {"lte": hi}
    return {"gte": lo, "lte": hi}  # in / during


def find_attribute_labels(doc: Doc, catalogue: Catalogue) -> tuple[list[AttributeCondition], str | None]:
    """Groupings, yes/no, number and date attributes said by their labels (before windows and counts)."""
    conditions: list[AttributeCondition] = []
    group = None
    for a in (a for a in catalogue.attributes if not a.pii and a.scope == "customer"):
        span = _label_span(doc, a, _forms(doc))
        if span is None:
            continue
        first, last = span
        start, end = doc.tokens[first].start, doc.tokens[last].end
        if g := _GROUP_BEFORE.search(doc.text[:start]):
            group = group or a.name
            _consume(doc, first, last, start=g.start())
            continue
        cond = None
        if a.type == "boolean":
            cond = AttributeCondition(name=a.name, values=[not _negated(doc, first)])
            _consume(doc, max(0, first - 3) if _negated(doc, first) else first, last)
        elif a.type in ("integer", "number"):
            cond = _numeric(doc, a, first, last, start, end)
        elif a.type == "date" and (m := _DATE_AFTER.match(doc.text[end:])):
            cond = AttributeCondition(name=a.name, **_date_condition(m.group("op"), *_date_bounds(m)))
            _consume(doc, first, last, end=end + m.end())
        if cond is not None:
            conditions.append(cond)
    return conditions, group


def _numeric(doc: Doc, a: AttributeInfo, first: int, last: int, start: int, end: int) -> AttributeCondition | None:
    before = doc.text[:start]
    if m := _BETWEEN.search(before):
        _consume(doc, first, last, start=m.start())
        return AttributeCondition(name=a.name, gte=_number(m.group("a")), lte=_number(m.group("b")))
    if (m := _BEFORE_NUM.search(before)) and doc.is_free(m.start(), m.end()):
        op = _OPS[m.group("op")] if m.group("op") else ("gte" if m.group("plus") else "eq")
        _consume(doc, first, last, start=m.start())
        return AttributeCondition(name=a.name, **_range(op, _number(m.group("n"))))
    if m := _AFTER_NUM.match(doc.text[end:]):
        _consume(doc, first, last, end=end + m.end())
        return AttributeCondition(name=a.name, **_range(_OPS[m.group("op")], _number(m.group("n"))))
    return None


def _value_index(catalogue: Catalogue) -> list[tuple[tuple[str, ...], AttributeInfo, object]]:
    out = []
    for a in catalogue.attributes:
        if a.type != "category" or a.pii:
            continue
        for v in a.values:
            words = tuple(stem(w) for w in TOKEN_RE.findall(str(v).lower()))
            if words:
                out.append((words, a, v))
    return sorted(out, key=lambda x: -len(x[0]))  # longest values first ("vip b2b" before "vip")


Found = tuple[int, int, AttributeInfo, object, bool]  # first and last token, attribute, value, negated


def claim_labelled_values(doc: Doc, catalogue: Catalogue) -> list[Found]:
    """Category values said beside their attribute's name ("gold tier", "loyalty tier gold") belong to
    the attribute: claimed before the catalogue's vocabulary could read "gold" as a colour or a product."""
    return _scan_values(doc, catalogue, labelled_only=True)


def _beside_label(doc: Doc, a: AttributeInfo, first: int, last: int) -> bool:
    near = [*doc.tokens[max(0, first - 3) : first], *doc.tokens[last + 1 : last + 3]]
    return bool(set(_label_stems(a)) & {stem(t.text) for t in near})


def _scan_values(doc: Doc, catalogue: Catalogue, *, labelled_only: bool) -> list[Found]:
    found: list[Found] = []
    toks = doc.tokens
    for words, a, value in _value_index(catalogue):
        n = len(words)
        for i in range(len(toks) - n + 1):
            span = toks[i : i + n]
            if any(t.tag for t in span) or tuple(stem(t.text) for t in span) != words:
                continue
            if labelled_only and not _beside_label(doc, a, i, i + n - 1):
                continue
            found.append((i, i + n - 1, a, value, _negated(doc, i)))
            lead = i
            while lead > 0 and i - lead < 2 and doc.tokens[lead - 1].tag is None and doc.tokens[lead - 1].text in LEADS:
                lead -= 1  # "through the app", "via instagram": understood with the value
            doc.consume(doc.tokens[lead].start, span[-1].end, "attribute")
            _label_words(doc, a, i, i + n - 1)
    return found


def find_attribute_values(
    doc: Doc, catalogue: Catalogue, claimed: list[Found] | None = None
) -> tuple[list[AttributeCondition], list[AttributeCondition]]:
    """Category values said in the question (those `claimed` beside their attribute's name, then the
    ones left after the catalogue's vocabulary took its words): the conditions on customer attributes,
    and those on event attributes (for the behaviours)."""
    found = [*(claimed or []), *_scan_values(doc, catalogue, labelled_only=False)]
    by_name: dict[tuple[str, str, bool], list] = {}
    found.sort(key=lambda f: f[0])
    for k, (_, _, a, value, neg) in enumerate(found):
        if not neg and k and found[k - 1][2] is a and _JOIN_GAP.match(_gap(doc, found[k - 1], found[k])):
            neg = found[k - 1][4]  # "not gold or platinum"
        by_name.setdefault((a.scope, a.name, neg), []).append(value)
    conditions = {
        key: AttributeCondition(name=key[1], values=list(dict.fromkeys(vals)), exclude=key[2])
        for key, vals in by_name.items()
    }
    return (
        [c for key, c in conditions.items() if key[0] == "customer"],
        [c for key, c in conditions.items() if key[0] == "event"],
    )


def _gap(doc: Doc, a: tuple, b: tuple) -> str:
    return doc.text[doc.tokens[a[1]].end : doc.tokens[b[0]].start]


def _label_words(doc: Doc, a: AttributeInfo, first: int, last: int) -> None:
    """The attribute's label words right around its value ("gold tier", "loyalty tier gold",
    "signed up via instagram" for a signup source) are understood."""
    stems = set(_label_stems(a))
    for f in _forms(doc):
        near = last < f.first <= last + 2 or first - 3 <= f.last < first
        if near and f.stem in stems:
            doc.consume(doc.tokens[f.first].start, doc.tokens[f.last].end, "attribute")


def attach_event_attributes(p: Parsed, conditions: list[AttributeCondition]) -> None:
    """Event attribute values ("through the app", "in the outdoor category") hold on the events of
    every positive behaviour; without one, any event with them ("customers in the outdoor category")."""
    if not conditions:
        return
    targets = [b for b in p.behaviours if not b.negate]
    if not targets:
        targets = [Behaviour()]
        p.behaviours.append(targets[0])
        p.verbless.append(True)
    for b in targets:
        b.attributes = [*b.attributes, *conditions]
    p.notes.append("event attributes: " + "; ".join(c.describe() for c in conditions))
