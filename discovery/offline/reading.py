"""Reading one message: every finder consumes what it understood, in a fixed order, then the walk.

Order: JSON, lookalikes, predictions, "why is customer N in", explicit sorts, analytics phrasing,
order words, time windows, repeat counts, catalogue vocabulary, numbers (spend / age -> CRM,
price -> a mention for the walk, age words, limits), event / interest / negation / luxury words.
Then the walk, and the intent: the descriptive words left after removing stop words, verbs,
numbers, vocabulary and filler ("find", "customers", "campaign", ...), in order (None if
nothing is left). Evaluative words ("the right people", "good customers") never make the
intent. A prediction ("will churn", "will buy ... next month") is a problem whose message
suggests the past-behaviour question the data can answer.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, cast

from discovery.catalogue import Catalogue
from discovery.limits import MAX_LIMIT
from discovery.offline.analytics import find_analytics
from discovery.offline.attributes import (
    attach_event_attributes,
    claim_labelled_values,
    find_attribute_labels,
    find_attribute_values,
)
from discovery.offline.dates import find_windows
from discovery.offline.doc import Doc, Mention, base_word
from discovery.offline.lexicon import EVALUATIVE, NOT_INTENT, REQUESTS, SPEND_WORDS, SUBJECTS
from discovery.offline.lookalikes import find_like
from discovery.offline.mentions import (
    find_explain,
    find_json,
    find_lookalike,
    find_order_words,
    find_prediction,
    find_sort,
    find_words,
)
from discovery.offline.numbers import find_age_words, find_comparisons, find_counts, find_limits
from discovery.offline.parsed import Analytics, Parsed, event_types, has_concept
from discovery.offline.vocabulary import find_vocabulary
from discovery.offline.walk import walk
from discovery.query import OrderBy


def parse(question: str, catalogue: Catalogue, today: date) -> Parsed:
    """Read one message: every extractor consumes what it understood, in a fixed order."""
    doc = Doc(question)
    p = Parsed(doc, today=today)
    words = {t.text for t in doc.tokens}
    p.has_subject = bool(words & SUBJECTS)
    p.spend_words = bool(words & SPEND_WORDS)
    p.wants_json = find_json(doc)
    if found := find_like(doc):
        p.like, n = found
        p.limit = None if n is None else _limit_value(n, p)
    if lookalike := find_lookalike(doc):
        p.problems.append(
            f"“{lookalike}”: lookalikes start from a segment, not one customer; ask for a segment, then reply "
            "“find more like these” in its thread."
        )
    prediction = find_prediction(doc)
    p.explain_customer = find_explain(doc)
    orders = find_sort(doc)
    p.explicit_sort = any(order != "relevance" for order, _ in orders)
    p.attributes, group_attribute = find_attribute_labels(doc, catalogue)
    p.analytics = find_analytics(doc)
    if group_attribute:
        p.analytics = p.analytics or Analytics()
        p.analytics.group_attribute = group_attribute
    orders += find_order_words(doc)
    for order, phrase in orders:
        p.order_by = cast(OrderBy, order)  # the phrase tables name only OrderBy values
        p.notes.append(f"order by {order} (“{phrase}”)")
    mentions = [Mention("window", s, e, w) for s, e, w in find_windows(doc, today, p.problems)]
    mentions += find_counts(doc)
    claimed = claim_labelled_values(doc, catalogue)  # "gold tier": the attribute's, not the colour
    mentions += [Mention(h.kind, h.start, h.end, h.value) for h in find_vocabulary(doc, catalogue)]
    customer_values, event_values = find_attribute_values(doc, catalogue, claimed)
    p.attributes += customer_values
    mentions += _numbers(p)
    mentions += find_words(doc)
    p.has_verb = bool(p.analytics) or any(m.kind in ("event", "interest") for m in mentions) or bool(words & REQUESTS)
    p.concepts = {m.value for m in mentions if m.kind == "event"}
    walk(sorted(mentions, key=lambda m: m.start), p, catalogue)
    attach_event_attributes(p, event_values)
    if p.loose_repeat:
        p.repeat_types = event_types("purchase", catalogue, p)
    if prediction:
        p.problems.insert(0, _prediction_problem(*prediction, p, catalogue))
    p.vague = list(
        dict.fromkeys(base_word(t.text) for t in doc.tokens if not t.tag and base_word(t.text) in EVALUATIVE)
    )
    p.intent = _intent(doc)
    return p


def _prediction_problem(phrase: str, kind: str, p: Parsed, catalogue: Catalogue) -> str:
    """A can't for a prediction, with a question about past behaviour the data can answer."""
    if kind != "purchase":
        return (
            f"“{phrase}”: the data holds what customers did, not predictions; ask e.g. for customers who have "
            "not bought anything in the last 60 days."
        )
    products = [x for b in p.behaviours for x in b.products]
    thing = products[0] if products else "a product"
    has = {c for c in ("view", "add_to_cart", "purchase") if has_concept(c, catalogue)}
    if "add_to_cart" in has:
        ask = f"customers who added {thing} to the cart in the last 30 days"
    elif "view" in has:
        ask = f"customers who viewed {thing} in the last 30 days"
    else:
        ask = f"customers who bought {thing} in the last 30 days"
    if "purchase" in has and "bought" not in ask and products:
        ask += " but never bought it"
    return (
        f"“{phrase}”: the data records past events, not predictions, so it cannot tell who will buy. "
        f"It can answer who showed interest lately, e.g. “{ask}”."
    )


def _numbers(p: Parsed) -> list[Mention]:
    """Comparisons (spend / age -> CRM, price -> a mention for the walk), age words, limits."""
    prices = []
    for c in find_comparisons(p.doc):
        lo, hi = c.bounds()
        if c.kind == "limit":
            p.limit = _limit_value(c.high or c.value, p)
        elif c.kind == "price":
            prices.append(Mention("price", c.start, c.end, (lo, hi)))
        elif c.kind == "age":
            _set(p, min_age=None if lo is None else int(lo), max_age=None if hi is None else int(hi))
        else:
            _set(p, min_spent=lo, max_spent=hi)
        p.notes.append(f"{c.kind} {_span(lo, hi)} (“{p.doc.text[c.start : c.end]}”)")
    for lo, hi, words in find_age_words(p.doc):
        _set(p, min_age=lo, max_age=hi)
        p.notes.append(f"age {_span(lo, hi)} (“{words}”)")
    for n in find_limits(p.doc):
        if p.analytics and p.analytics.group_by:
            p.analytics.top = int(n)
        else:
            p.limit = _limit_value(n, p)
    return prices


def _span(lo: float | None, hi: float | None) -> str:
    return f"{'' if lo is None else f'{lo:g}'}–{'' if hi is None else f'{hi:g}'}"


def _set(p: Parsed, **values: Any) -> None:
    for key, value in values.items():
        if value is not None:
            p.crm[key] = value


def _limit_value(n: float, p: Parsed) -> int:
    if n > MAX_LIMIT:
        p.notes.append(f"limit {n:g} capped at {MAX_LIMIT}")
    return max(1, min(int(n), MAX_LIMIT))


def _intent(doc: Doc) -> str | None:
    words: list[str] = []
    prev_end = -1
    for t in doc.tokens:
        word = base_word(t.text)
        if (t.tag and not t.keep) or (not t.keep and (word in NOT_INTENT or re.fullmatch(r"[\d.,]+", word))):
            continue
        if words and doc.text[prev_end : t.start] == "-":
            words[-1] += "-" + word
        else:
            words.append(word)
        prev_end = t.end
    return " ".join(dict.fromkeys(words)) or None
