"""Analytics questions: how many / average / total / highest / by X / top N X / which X.

"how many", "number of", "count", "average/total/highest spend|age|price", "by country/color/
product/age/month", "top 5 products", "which country has the most", "most popular colors" ->
an AnalyticsQuery over the audience built from the same conditions (without the semantic
intent: aggregates are SQL only). "by color" is the event color when the question is about
events (a verb, a product), else the favourite color. Rankings of products/colors/months ("top
5 products", "most viewed products", "how many purchases") count `events`, and the counted
event type is put first in the audience's behaviours (the compiler filters event-level
aggregates by the first behaviour); "how many customers ... per product" counts customers.
"""

from __future__ import annotations

import re
from typing import Any

from discovery.catalogue import Catalogue
from discovery.limits import MAX_LIMIT
from discovery.offline.doc import Doc
from discovery.offline.lexicon import AVG_AGE_WORDS, AVG_PRICE_WORDS, GROUP_NAMES, PURCHASE_NOUNS, VIEW_NOUNS
from discovery.offline.numbers import to_number
from discovery.offline.parsed import Analytics, Parsed, event_types
from discovery.offline.patterns import (
    AVG_RE,
    BY_SPEND_RE,
    COUNT_Q_RE,
    GROUP_RE,
    MINMAX_RE,
    PEOPLE,
    POPULAR_RE,
    SUM_RE,
    WHICH_RE,
)
from discovery.query import AnalyticsQuery, AudienceQuery, Behaviour

EVENT_GROUPS = {"product", "color", "event_type", "month"}  # analytics groups over events, not customers


def _group_name(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    for prefix, name in GROUP_NAMES:
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
        if AVG_AGE_WORDS & near or "old" in m.group():
            a.field = "age"
        a.field = a.field or ("price" if AVG_PRICE_WORDS & near else "total_spent")
        doc.consume(m.start(), m.end(), "analytics")
    for m in doc.find(SUM_RE):
        a.measure, a.field, found = a.measure or "sum", a.field or "total_spent", True
        doc.consume(m.start(), m.end(), "analytics")
    for m in doc.find(COUNT_Q_RE):
        nxt = doc.words_after(m.end(), 1)
        if nxt and nxt[0] in PURCHASE_NOUNS:
            a.events_of = "purchase"
        elif nxt and nxt[0] in VIEW_NOUNS:
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


def analytics_query(spec: Analytics, p: Parsed, audience: AudienceQuery, catalogue: Catalogue) -> AnalyticsQuery:
    """Counting events ("top 5 products", "how many purchases") is a count of `events` whose type
    is set by the audience's first behaviour (the compiler filters events by it)."""
    measure, group, field_ = spec.measure or "count", spec.group_by, spec.field
    if group == "color" and not (audience.behaviours or p.concepts or spec.events_of):
        group = "favorite_color"  # "breakdown by color" of customers
    counted = spec.events_of if measure == "count" else None
    words = {t.text for t in p.doc.tokens}
    by_events = not spec.counts_customers and (group != "month" or p.concepts or words & {"purchases", "orders"})
    if measure == "count" and field_ is None and counted is None and group in EVENT_GROUPS and by_events:
        counted = "any" if group == "event_type" else next(iter(sorted(p.concepts)), "purchase")
    if counted:
        field_ = "events"
        audience = _events_first(audience, counted, catalogue, p)
    field_ = field_ or ("customers" if measure == "count" else "total_spent")
    top = None if spec.top is None else max(1, min(spec.top, MAX_LIMIT))
    if spec.group_attribute:
        group = None
    return AnalyticsQuery.model_validate(
        {
            "measure": measure, "field": field_, "group_by": group, "group_attribute": spec.group_attribute,
            "audience": audience, "top": top, "order": spec.order,
        }
    )  # fmt: skip


def _events_first(audience: AudienceQuery, concept: str, catalogue: Catalogue, p: Parsed) -> AudienceQuery:
    """Put a behaviour of the counted event type first (adding one if the question had none)."""
    if concept == "any":
        return audience
    types = event_types(concept, catalogue, p)
    behaviours = list(audience.behaviours)
    match = next((b for b in behaviours if b.event_types == types and not b.negate), None)
    placeholder = next((b for b in behaviours if b == Behaviour(**_conditions_only(b))), None)
    if match is None and placeholder is not None:  # "the most viewed products in the last 30 days"
        behaviours.remove(placeholder)
        match = placeholder.model_copy(update={"event_types": types})
        p.notes.append(f"counting {concept.replace('_', ' ')} events in the window / repeat / price said")
    elif match is None:
        match = Behaviour(event_types=types)
        p.notes.append(f"counting {concept.replace('_', ' ')} events")
    else:
        behaviours.remove(match)
    return audience.model_copy(update={"behaviours": [match, *behaviours]})


def _conditions_only(b: Behaviour) -> dict[str, Any]:
    """A behaviour's window / repeat / price only: equal to it when that is all it says (a placeholder)."""
    return {"window": b.window, "min_events": b.min_events, "min_price": b.min_price, "max_price": b.max_price}
