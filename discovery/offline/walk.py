"""The walk: the mentions of a question, in text order, become behaviours and CRM conditions.

- Products joined by "and" (or commas) are separate behaviours that must all hold ("interested
  in jacket and shoes" = both); joined by "or" they are one behaviour (its colors merged: "red
  socks or blue shoes" also matches red shoes). A color right before a product (or "socks in
  red") belongs to that product.
- A verb's clause runs from the verb to the next one; products in it take its event types.
  Interest, or a product without any verb, is a behaviour with ANY event type. A noun-form
  event right after a product binds to it ("sock buyers", "socks in their cart").
- Negation ("never bought", "did not buy", "without buying", "but not socks") -> negate. A verb
  without an object after products refers back to them ("added jackets to the cart but never
  bought them", "... but didn't purchase").
- Colors of no product: in an event clause -> that event's color; "blue-themed" or a color
  word that belongs to nothing ("a red campaign") -> favourite color AND kept in the intent;
  "favourite color blue", "blue as favourite colour" -> favourite color only.
- A window, repeat or price inside a verb's clause belongs to that clause's behaviours;
  anywhere else it is loose (discovery.offline.assemble applies it to every behaviour).
- Countries: included, excluded ("excluding Poland and Austria"); a country of the world not
  in the data is noted, and asking only for such countries is a problem (a clarify).
- An event verb whose object is not a product of the data ("bought cars") is a problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from discovery.catalogue import Catalogue
from discovery.offline.doc import Doc, Mention, base_word
from discovery.offline.lexicon import BOUNDARY, GENERIC_OBJECTS, NEG_FILLER, POSTFIX_FILLER, REFERS_BACK, STOP
from discovery.offline.parsed import Parsed, event_types
from discovery.offline.phrases import (
    COLOR_AFTER_GAP_RE,
    CONJ_GAP_RE,
    FAV_AFTER_RE,
    FAV_BEFORE_RE,
    LUX_TAG_WORD,
    THEMED_AFTER_RE,
)
from discovery.query import Behaviour


@dataclass
class Run:
    """Products joined by and/or/commas, each with its own colors."""

    items: list[tuple[str, list[str]]]
    first: Mention
    last: Mention
    any_or: bool = False


def _gap(doc: Doc, a: Mention, b: Mention) -> str:
    return doc.text[a.end : b.start]


def walk(ms: list[Mention], p: Parsed, catalogue: Catalogue) -> None:
    """Turn the mentions (in text order) into behaviours, CRM conditions and loose modifiers."""
    doc = p.doc
    _negations(ms, doc)
    _color_roles(ms, doc)
    _countries(ms, p)
    _luxury(ms, p)
    bound = _bind_postfix(ms, doc)
    clauses = [m for m in ms if m.kind in ("event", "interest") and id(m) not in bound]
    made: list[tuple[int, Behaviour, bool]] = []
    by_clause: dict[int, list[Behaviour]] = {}
    for run in _runs(ms, doc):
        clause = _clause_of(run.first, clauses, doc)
        verb = bound.get(id(run.last)) or clause
        if verb is None and doc.words_before(run.first.start, 1) == ["on"] and p.spend_words:
            verb = Mention("event", run.first.start, run.first.start, "purchase")  # "spent 500 on shoes"
        behaviours = _run_behaviours(run, verb, catalogue, p)
        made += [(run.first.start, b, verb is None) for b in behaviours]
        if clause is not None:
            by_clause.setdefault(id(clause), []).extend(behaviours)
    bare = [c for c in clauses if c.kind == "event" and id(c) not in by_clause]
    for clause in bare:  # "customers who purchased", "bought something red", "no purchases lately"
        b = Behaviour(event_types=event_types(clause.value, catalogue, p), negate=clause.neg)
        earlier = [x for pos, x, _ in made if pos < clause.start and x.products]
        if _refers_back(doc, clause):
            if earlier:  # "viewed tents but never bought (one)"
                b.products, b.colors = list(earlier[-1].products), list(earlier[-1].colors)
            else:  # a follow-up: "but never bought one"
                p.back_refs.add(id(b))
        by_clause[id(clause)] = [b]
        made.append((clause.start, b, False))
    _free_colors(ms, clauses, by_clause, p)
    _modifiers(ms, clauses, by_clause, p)
    _unknown_objects(bare, p, catalogue)
    made.sort(key=lambda x: x[0])
    p.behaviours = [b for _, b, _ in made]
    p.verbless = [v for _, _, v in made]


def _refers_back(doc: Doc, verb: Mention) -> bool:
    """A verb without an object that refers to the products just said: "bought them", "but never bought"."""
    nxt = doc.words_after(verb.end, 1)
    if nxt and nxt[0] in REFERS_BACK:
        return True
    ends = not nxt or nxt[0] in BOUNDARY or re.match(r"\s*[,.;:!?]", doc.text[verb.end :]) is not None
    return verb.neg and ends and "but" in doc.words_before(verb.start, 4)


def _adjacent(doc: Doc, a: Mention, b: Mention, allowed: frozenset[str] | set[str]) -> bool:
    return not re.search(r"[.;:!?]", _gap(doc, a, b)) and set(doc.words_between(a.end, b.start)) <= allowed


def _negations(ms: list[Mention], doc: Doc) -> None:
    for i, m in enumerate(ms):
        if m.kind == "neg" and i + 1 < len(ms) and _adjacent(doc, m, ms[i + 1], NEG_FILLER):
            ms[i + 1].neg = True
        if m.kind == "interest" and m.neg and i + 1 < len(ms) and ms[i + 1].kind == "lux":
            ms[i + 1].neg = True  # "doesn't like luxury"
    for a, b in zip(ms, ms[1:], strict=False):  # "excluding Poland and Austria"
        if a.kind == b.kind == "country" and a.neg and CONJ_GAP_RE.fullmatch(_gap(doc, a, b)):
            b.neg = True


def _color_roles(ms: list[Mention], doc: Doc) -> None:
    colors = [m for m in ms if m.kind == "color"]
    for m in colors:
        themed = THEMED_AFTER_RE.match(doc.text, m.end)
        after = themed or FAV_AFTER_RE.match(doc.text, m.end)
        if after:
            m.role = "themed" if themed else "favourite"
            doc.consume(after.start(), after.end(), "marker")
        elif FAV_BEFORE_RE.search(doc.text[: m.start]):
            m.role = "favourite"
    for a, b in zip(colors, colors[1:], strict=False):  # "favourite color red or blue"
        if a.role and not b.role and CONJ_GAP_RE.fullmatch(_gap(doc, a, b)):
            b.role = a.role
    for a, b in reversed(list(zip(colors, colors[1:], strict=False))):  # "red and blue themed"
        if b.role and not a.role and CONJ_GAP_RE.fullmatch(_gap(doc, a, b)):
            a.role = b.role


def _countries(ms: list[Mention], p: Parsed) -> None:
    include = [m.value for m in ms if m.kind == "country" and not m.neg]
    exclude = [m.value for m in ms if m.kind == "country" and m.neg]
    if include:
        p.crm["countries"] = list(dict.fromkeys(include))
    if exclude:
        p.crm["exclude_countries"] = list(dict.fromkeys(exclude))
    foreign = [m for m in ms if m.kind == "foreign_country"]
    for m in foreign:
        p.notes.append(f"{m.value} is not in the data")
    wanted = [m.value for m in foreign if not m.neg]
    if wanted and not include:
        p.problems.append(f"There are no customers from {' or '.join(dict.fromkeys(wanted))} in the data.")


def _luxury(ms: list[Mention], p: Parsed) -> None:
    lux = [m for m in ms if m.kind == "lux"]
    if not lux:
        return
    values = [(not m.value) if m.neg else m.value for m in lux]
    if values == [True] * len(values) and not (p.analytics or p.explicit_sort):
        # a taste: the profiles' luxury sentence reached through the vector stage (issue 16), the
        # words read as the tag's own word so similarity finds it ("designer", "high-end" do not)
        for m in lux:
            tokens = p.doc.span_tokens(m.start, m.end)
            for i, t in enumerate(tokens):
                t.text, t.keep = (LUX_TAG_WORD, True) if i == 0 else (t.text, False)
        p.taste = True
        p.notes.append("luxury: a taste, matched on the profiles (not a hard filter)")
        return
    p.crm["likes_luxury"] = values[-1]
    for m in lux:
        if m.neg:
            p.doc.consume(m.start, m.end, "lux")  # "not luxury" must not rank luxury lovers first
    if len(set(values)) > 1:
        p.notes.append(f"contradicting luxury words: kept likes_luxury={values[-1]}")
    else:
        p.notes.append(f"likes_luxury={values[-1]}")


def _bind_postfix(ms: list[Mention], doc: Doc) -> dict[int, Mention]:
    """'sock buyers', 'socks in their cart': a noun-form event right after a product binds to it."""
    bound: dict[int, Mention] = {}
    for a, b in zip(ms, ms[1:], strict=False):
        if b.kind == "event" and b.postfix and a.kind == "product" and _adjacent(doc, a, b, POSTFIX_FILLER):
            bound[id(a)] = bound[id(b)] = b
    return bound


def _runs(ms: list[Mention], doc: Doc) -> list[Run]:
    cands = [m for m in ms if m.kind in ("product", "color") and not m.role]
    runs: list[Run] = []
    cur: Run | None = None
    pending: list[Mention] = []
    prev: Mention | None = None
    prev_attached = False
    for i, m in enumerate(cands):
        joined = prev is not None and CONJ_GAP_RE.fullmatch(_gap(doc, prev, m)) is not None
        nxt = cands[i + 1] if i + 1 < len(cands) else None
        before_product = nxt is not None and nxt.kind == "product" and CONJ_GAP_RE.fullmatch(_gap(doc, m, nxt))
        after_product = prev is not None and prev.kind == "product" and COLOR_AFTER_GAP_RE.fullmatch(_gap(doc, prev, m))
        if m.kind == "color" and cur and (after_product or (prev_attached and joined and not before_product)):
            cur.items[-1][1].append(m.value)  # "socks in red (or blue)"
            m.role, prev, prev_attached = "attached", m, True
            continue
        prev_attached = False
        if not joined:
            if cur:
                runs.append(cur)
            cur, pending = None, []
        if m.kind == "color":
            pending.append(m)
        else:
            if cur is None:
                cur = Run([], pending[0] if pending else m, m)
            elif re.search(r"\bor\b|/", doc.text[cur.last.end : (pending[0] if pending else m).start]):
                cur.any_or = True
            cur.items.append((m.value, [c.value for c in pending]))
            for c in pending:
                c.role = "attached"
            cur.last, pending = m, []
        prev = m
    if cur:
        runs.append(cur)
    return runs


def _clause_of(m: Mention, clauses: list[Mention], doc: Doc) -> Mention | None:
    after = [v for v in clauses if v.start >= m.end]
    if m.kind in ("count", "window", "price") and after and _adjacent(doc, m, after[0], {"the", "a"}):
        return after[0]  # "repeat buyers of socks"
    before = [v for v in clauses if v.start < m.start]
    return before[-1] if before else None


def _run_behaviours(run: Run, verb: Mention | None, catalogue: Catalogue, p: Parsed) -> list[Behaviour]:
    neg = run.first.neg or bool(verb and verb.neg)
    types = event_types(verb.value, catalogue, p) if verb is not None and verb.kind == "event" else []
    names = [x for x, _ in run.items]
    if not types:
        p.notes.append(f"interest in {', '.join(names)}: any event type")
    if run.any_or:
        colors = list(dict.fromkeys(c for _, cs in run.items for c in cs))
        return [Behaviour(event_types=types, products=names, colors=colors, negate=neg)]
    if len(names) > 1:
        p.notes.append(f"{' and '.join(names)}: one behaviour each (all must hold)")
    return [Behaviour(event_types=types, products=[x], colors=list(cs), negate=neg) for x, cs in run.items]


def _free_colors(ms: list[Mention], clauses: list[Mention], by_clause: dict[int, list[Behaviour]], p: Parsed) -> None:
    """Colors of no product: in an event clause -> that event's color; else the favourite color."""
    favourite: list[str] = []
    for m in (m for m in ms if m.kind == "color" and m.role != "attached"):
        clause = _clause_of(m, clauses, p.doc)
        if not m.role and clause is not None and clause.kind == "event":
            group = by_clause.get(id(clause), [])
            for b in [b for b in group if not b.colors] or group:
                b.colors = list(dict.fromkeys([*b.colors, m.value]))
            continue
        favourite.append(m.value)
        keep = m.role == "themed" or (not m.role and clause is None)
        p.doc.consume(m.start, m.end, "color", keep=keep)
        p.notes.append(f"color {m.value}: favourite color" + (" (and in the intent)" if keep else ""))
    if favourite:
        p.crm["favorite_colors"] = list(dict.fromkeys(favourite))


def _modifiers(ms: list[Mention], clauses: list[Mention], by_clause: dict[int, list[Behaviour]], p: Parsed) -> None:
    for m in (m for m in ms if m.kind in ("window", "count", "price")):
        clause = _clause_of(m, clauses, p.doc)
        targets = by_clause.get(id(clause), []) if clause is not None else []
        if not targets:
            _loose(m, p)
        for b in targets:
            _modify(b, m)


def _modify(b: Behaviour, m: Mention) -> None:
    if m.kind == "window":
        b.window = m.value
    elif m.kind == "count":
        b.min_events = max(b.min_events, m.value)
    else:
        lo, hi = m.value
        b.min_price = lo if lo is not None else b.min_price
        b.max_price = hi if hi is not None else b.max_price


def _loose(m: Mention, p: Parsed) -> None:
    if m.kind == "window":
        p.loose_window = m.value
    elif m.kind == "count":
        p.loose_count = m.value
        p.loose_repeat = p.loose_repeat or m.role == "repeat"
    else:
        lo, hi = m.value
        old = p.loose_price or (None, None)
        p.loose_price = (lo if lo is not None else old[0], hi if hi is not None else old[1])


def _unknown_objects(bare: list[Mention], p: Parsed, cat: Catalogue) -> None:
    """'bought cars', 'car buyers': an event verb whose object is not a product of the data."""
    doc = p.doc
    for verb in bare:
        seen: list[str] = []
        words: list[str] = []
        for t in (t for t in doc.tokens if t.start >= verb.end):
            if (
                (t.tag and t.tag != "color")
                or re.search(r"[,.;:!?]", doc.text[verb.end : t.start])
                or t.text in BOUNDARY
            ):
                break
            seen.append(t.text)
            words += [] if t.tag or base_word(t.text) in STOP else [t.text]
        before = [t for t in doc.tokens if t.end <= verb.start][-1:]
        if verb.postfix and not seen and before and not before[0].tag and before[0].text not in STOP:
            words = [before[0].text]
        if words and not (seen and seen[-1] in GENERIC_OBJECTS):  # "bought expensive items" is fine
            products = ", ".join(cat.products[:12]) or "none yet"
            p.problems.append(f"“{' '.join(words)}” is not a product in the data (products: {products}).")
