"""Phrases in a question that are not numbers, dates or vocabulary.

- Event verbs, as concepts the walk maps to the catalogue's event types: bought/purchased/
  ordered/buyers -> purchase, added to cart/carted/cart -> add_to_cart, viewed/looked at/
  browsed -> view, returned, subscribed; e-mail engagement ("opened our last email",
  "newsletter clickers") is the concept "email".
- Interest ("interested in", "like", "love", "into", "fans of"), negations ("never", "didn't",
  "without", "except") and luxury words (luxury/high-end/premium -> True, kept in the intent;
  "not luxury"/"non-luxury" -> False; budget/bargain/cheap/discount -> False, kept in the intent).
- Requests the typed query cannot express or that change the answer's form: JSON, "why is
  customer N in", explicit orderings ("sorted by spend") and order words ("best customers",
  "most recent", "youngest"), lookalikes ("customers like customer 42") and predictions
  ("will churn", "will buy", "buys ... next month").
"""

from __future__ import annotations

from discovery.offline.doc import Doc, Mention
from discovery.offline.phrases import (
    CART_TAIL_RE,
    EMAIL_NOUN_RE,
    EMAIL_TAIL_RE,
    EMAIL_VERB_RE,
    EXPLAIN_RE,
    FUTURE_BUY_RE,
    INTEREST_RE,
    JSON_RE,
    LOOKALIKE_RE,
    LUX_FALSE_RE,
    LUX_TRUE_RE,
    LUX_WORDS_FALSE_RE,
    NEG_RE,
    ORDER_RE,
    PREDICTION_RE,
    SORT_RE,
    VERB_RE,
)


def find_json(doc: Doc) -> bool:
    found = False
    for m in doc.find(JSON_RE):
        found = True
        doc.consume(m.start(), m.end(), "json")
    return found


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
    for pattern, value, keep in (
        (LUX_FALSE_RE, False, False),
        (LUX_WORDS_FALSE_RE, False, True),
        (LUX_TRUE_RE, True, True),
    ):
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
