"""The deterministic offline planner: a marketer's question -> the typed query the agent would build.

Used when no LLM is configured or the LLM fails. Pure: no database, no network; the
vocabulary comes from the Catalogue passed in (nothing about products, colors or countries
is hard-coded). `plan(question, catalogue, previous=None, today=None) -> Plan`.

Rules (the text helpers are in discovery.nl_parse):

- Vocabulary: products/colors of the catalogue, any case, singular/plural, hyphen/space
  variants ("t shirts" = tshirt, multi-word products); countries of the catalogue by code,
  name or demonym. A country of the world that is not in the data is noted; if no country
  of the data is asked for, the plan is "clarify" (filtering on it would return nobody).
- Event verbs map to the catalogue's event types: bought/purchased/ordered/buyers ->
  purchase, added to cart/carted/cart -> add_to_cart, viewed/looked at/browsed -> view.
  Interest ("interested in", "like", "love", "into", "fans of") in a product, or a product
  without any verb, is a behaviour on that product with ANY event type.
- Products joined by "and" (or commas) are separate behaviours that must all hold
  ("interested in jacket and shoes" = both); joined by "or" they are one behaviour (its colors
  merged: "red socks or blue shoes" also matches red shoes). A color right before a product
  (or "socks in red") belongs to that product.
- Negation ("never bought", "did not buy", "without buying", "but not socks") -> negate. A verb
  without an object after products refers back to them ("added jackets to the cart but never
  bought them", "... but didn't purchase").
  Repeats: "at least 3 times" -> 3, "more than twice" -> 3, "repeat/returning buyers",
  "more than once", "multiple times" -> 2 (a repeat with no verb means purchases).
- Colors: "blue-themed", a color word that belongs to no product or event ("a red campaign")
  -> CRM favourite color AND the color word stays in the semantic intent; "favourite color
  blue", "like blue", "blue as favourite colour" -> favourite color only.
- Numbers: spend ("spent", "spend", currency), age ("age", "aged", "old", "years",
  "older/younger than") or price ("price", "priced", "cost", or right after a product) by the
  nearest keyword; without one: after a product -> price, a whole number <= 120 -> age,
  else spend. min/max_spent are strict, so "at least 500" -> min_spent 499.99 and "at most
  500" -> max_spent 500.01; ages are inclusive ("over 40" -> min_age 41); prices are
  inclusive bounds ("price above 50" -> min_price 50.01). "young" -> max_age 29,
  "senior/elderly/older customers" -> min_age 60, "middle-aged" -> 40-59, "in their 30s".
- Time: see nl_parse (lately/recently = 30 days). A window inside a verb's clause belongs to
  that clause's behaviours; anywhere else it applies to all behaviours (or, with none, to
  "any event in the window", i.e. active customers).
- Luxury: luxury/high-end/premium/upscale/designer -> likes_luxury=True, words kept in the
  intent; "not luxury"/"non-luxury" -> False (dropped from the intent); budget/bargain/cheap/
  discount -> False (kept in the intent).
- Intent: the descriptive words left after removing stop words, verbs, numbers, vocabulary
  and filler ("find", "customers", "campaign", ...), in order; None if nothing is left.
- Ordering/limit: "top 20", "first 10", "20 customers", "just 5" -> limit (default 20, max
  1000); "best customers"/"top spenders"/"sorted by spend" -> total_spent; "most recent"
  -> recent_activity; "most purchases"/"bought the most" -> purchases; youngest -> age, oldest -> age_desc.
- Analytics: "how many", "number of", "count", "average/total/highest spend|age|price",
  "by country/color/product/age/month", "top 5 products", "which country has the most",
  "most popular colors" -> AnalyticsQuery over the audience built from the same conditions
  (without the semantic intent: aggregates are SQL only). "by color" is the event color when
  the question is about events (a verb, a product), else the favourite color. Rankings of
  products/colors/months ("top 5 products", "most viewed products", "how many purchases") count
  `events`, and the counted event type is put first in the audience's behaviours (the compiler
  filters event-level aggregates by the first behaviour); "how many customers ... per product"
  counts customers.
- Follow-ups (with `previous`): "show them as JSON", "why is customer 17 in?", and any message
  that starts like a refinement (only/just/also/and/but/exclude/except/now/instead/of them...),
  mentions them/those/these, or lacks its own subject-and-verb ("Germany", "older than 30",
  "top 5") refines the previous query: countries are replaced ("only Germany") or added
  ("also Austria"), excluded ("exclude Poland"), bounds/luxury/order/limit replaced,
  behaviours appended ("also bought shoes"), a bare product replaces the products of a single
  previous behaviour ("only jackets"), a bare window/repeat/price applies to the previous
  behaviours, intent words are appended. A message with its own subject (customers, users,
  people, audience, ...) and a verb (find/show/list/how many/bought/...) is a new question.
  After a "clarify", the reply is read together with the question that was clarified.
- Clarify: nothing understood and no subject ("hello", "help me"), an event verb whose object
  is not a product of the data ("bought cars", "car buyers"), only countries not in the data,
  event types the data lacks (returns, subscriptions, e-mail opens / clicks: "opened our last
  email", "newsletter clickers" — unless the catalogue has such a type), "why is customer 17 in?"
  with no audience yet, lookalikes ("customers like customer 42"), predictions (churn, forecast,
  "will buy", "likely to buy", "buys ... next month": the can't suggests the past-behaviour
  question it can answer), and customers only judged, not described ("the right people", "good
  customers": evaluative words are never the intent). The message lists what the data holds.
  "all customers" is a segment without filters.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from discovery import nl_parse as nl
from discovery.catalogue import Catalogue
from discovery.compile import window_bounds
from discovery.nl_parse import Analytics, Mention
from discovery.query import AnalyticsQuery, AudienceQuery, Behaviour, CRMFilter, TimeWindow

Kind = Literal["segment", "analytics", "clarify", "explain"]
MAX_LIMIT = 1000
EVENT_GROUPS = {"product", "color", "event_type", "month"}  # analytics groups over events, not customers


@dataclass
class Plan:
    """What the planner understood.

    segment: `query`. analytics: `analytics` (its audience is SQL-only, without intent); `query`
    is the same audience with the intent, kept so that follow-ups ("list them") lose nothing.
    explain: `explain_customer` and the `query` it is explained against. clarify: `message`.
    """

    kind: Kind
    query: AudienceQuery | None = None
    analytics: AnalyticsQuery | None = None
    message: str = ""
    wants_json: bool = False
    explain_customer: int | None = None
    notes: list[str] = field(default_factory=list)
    question: str = ""  # the text this plan answers (a clarify is re-read with the reply)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (thread memory)."""
        data = asdict(self)
        data["query"] = self.query.model_dump(mode="json") if self.query else None
        data["analytics"] = self.analytics.model_dump(mode="json") if self.analytics else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        data = dict(data)
        data["query"] = AudienceQuery.model_validate(data["query"]) if data.get("query") else None
        data["analytics"] = AnalyticsQuery.model_validate(data["analytics"]) if data.get("analytics") else None
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


# ---------------------------------------------------------------------------- word lists

STOP = nl.word_set(
    """a an the of with in and or for to from on at by as is are was were be been being am do does did have has had
    who whom whose which what that this these those them they their there here it its i me my we us our you your
    find show list give get suggest recommend identify pull select target fetch search build create send return
    display tell let see want need would could can should will may might please thanks thank hi hello hey help
    customers customer users user people person persons audience audiences campaign campaigns segment segments
    shoppers shopper clients client consumers consumer members member contacts contact profiles profile everyone
    everybody anyone anybody someone cohort group groups crowd base database data db table records record rows
    all any some every each only just also too very really more most less least much many than then so such
    how why when where whether not no never yet ever already still about into like likes liked love loves
    interested interest interests fan fans keen lovers lover items item products product things thing stuff
    goods article articles something anything everything one ones other others else same new existing current
    ad ads email emails newsletter promo promotion promotions marketing offer offers push message messages
    based living live lives located country countries region market markets city
    years year old aged age ages spent spend spends spending spender spenders total price priced prices cost costs
    costing worth value money euro euros eur dollars usd times time period days day weeks week months month
    lists top first best last recent number count amount average avg mean sum
    potential online active loyal frequent regular big high low good great nice
    among amongst but however though although per vs versus via including include using use used well
    either both neither nor
    name names called named type types kind sort order ordered rank ranked favourite favorite preferred color colour
    colors colours theme themed pick event events
    made make makes placed place break breakdown down split often next upcoming coming"""
)
GENERIC_OBJECTS = {"items", "item", "products", "product", "things", "thing", "stuff", "goods", "anything",
                   "something", "everything", "article", "articles", "history", "count", "value", "amount"}  # fmt: skip
BOUNDARY = {"in", "from", "who", "that", "which", "and", "or", "with", "during", "over", "since", "at", "for", "but",
            "last", "past", "than", "more", "less", "on", "to", "are", "is", "were", "have", "has", "this",
            "within", "between", "before", "after", "until", "ago", "where", "whose", "living", "based"}  # fmt: skip
SUBJECTS = {"customers", "customer", "users", "user", "people", "persons", "audience", "audiences", "segment",
            "shoppers", "clients", "buyers", "purchasers", "consumers", "members", "contacts", "everyone",
            "everybody", "anyone", "profiles", "cohort", "lovers", "fans", "enthusiasts"}  # fmt: skip
ALL_WORDS = {"all", "every", "everyone", "everybody", "whole", "entire"}
REQUESTS = {"find", "show", "list", "give", "get", "suggest", "recommend", "identify", "pull", "select",
            "target", "build", "create", "export", "fetch", "search", "who", "which", "how", "count"}  # fmt: skip
_R = re.compile


def _rx(*alternatives: str) -> re.Pattern[str]:
    return _R("|".join(alternatives))


NEG_FILLER = {"have", "has", "had", "ever", "yet", "did", "do", "does", "been", "to", "any", "the", "from", "in",
              "living", "based", "also", "really", "actually", "even", "once", "who", "customers", "people", "users",
              "are", "is", "those", "ones", "for", "a", "an", "made", "make", "placed"}  # fmt: skip
POSTFIX_FILLER = {"in", "their", "the", "a", "to"}
THEMED_AFTER_RE = _R(r"[\s-]*(?:themed|theme|colou?red|lovers?|fans?|enthusiasts?)\b")
FAV_AFTER_RE = _R(r"\s+(?:as\s+)?(?:their\s+|a\s+|the\s+)?(?:favou?rite|preferred)(?:\s+colou?rs?)?\b")
FAV_BEFORE_RE = _R(r"(?:favou?rite|preferred)\s+colou?rs?\s*(?:is|are|was|of|=|:)?\s*(?:either\s+)?$")
CONJ_GAP_RE = _R(r"(?:[\s,&/+]|\b(?:and|or|plus|as\s+well\s+as|either|both|also|the|some|any|a|an|of)\b)*")
COLOR_AFTER_GAP_RE = _R(r"\s*(?:in|colou?red|in\s+colou?r)\s*")
ADD_MODE_RE = _rx(r"\b(?:also|add|plus|too|as\s+well|include|including)\b")
FOLLOW_START_RE = _rx(
    r"^\W*(?:and|but|also|only|just|now|then|plus|add|remove|drop|exclude|excluding|except|without|same|instead|"
    r"limit|make\s+it|narrow|filter|what\s+about|how\s+about|of\s+(?:those|them|these)|among\s+(?:them|those|these)|"
    r"from\s+(?:those|them|these)|sort|order|rank|why|explain|how\s+come|show\s+(?:them|those|me\s+them))\b"
)
PRONOUN_RE = _rx(r"\b(?:them|those|these|they|ones|instead)\b")
SEGMENT_REQUEST_RE = _rx(r"\b(?:list|show|who\s+are|give\s+me|export)\b")
CONCEPT_WORDS = {"purchase": ("purchase", "order", "buy", "checkout", "transaction", "sale"),
                 "add_to_cart": ("cart", "basket"), "view": ("view", "visit", "browse", "click", "impression"),
                 "return": ("return", "refund"), "subscription": ("subscri", "signup", "sign_up", "newsletter"),
                 "email": ("mail", "newsletter")}  # fmt: skip
CONCEPT_LABELS = {"email": "e-mail engagement events such as opens, clicks or replies"}
# Words that judge customers without describing them: an intent of only these ranks everyone by noise.
EVALUATIVE = nl.word_set(
    """right correct proper appropriate suitable relevant ideal perfect optimal good better great nice fine excellent
    awesome amazing best interesting valuable important key main target targeted promising qualified worthwhile
    useful strong solid decent real specific particular certain quality"""
)
NOT_INTENT = STOP | EVALUATIVE  # words that never describe a customer


@dataclass
class Parsed:
    doc: nl.Doc
    behaviours: list[Behaviour] = field(default_factory=list)
    verbless: list[bool] = field(default_factory=list)  # behaviour i came from a product without a verb
    loose_window: TimeWindow | None = None
    loose_count: int | None = None
    loose_price: tuple[float | None, float | None] | None = None
    crm: dict[str, Any] = field(default_factory=dict)
    intent: str | None = None
    limit: int | None = None
    order_by: str | None = None
    analytics: Analytics | None = None
    wants_json: bool = False
    explain_customer: int | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    has_subject: bool = False
    has_verb: bool = False
    concepts: set[str] = field(default_factory=set)
    spend_words: bool = False
    loose_repeat: bool = False  # the loose repeat was "repeat/returning": purchases
    repeat_types: list[str] = field(default_factory=list)
    explicit_sort: bool = False  # "sorted by spend": the order wins over a semantic ranking
    vague: list[str] = field(default_factory=list)  # evaluative words ("the right people"): not in the intent
    back_refs: set[int] = field(default_factory=set)
    today: date | None = None  # ids of behaviours whose verb points back ("never bought one")

    def understood(self) -> bool:
        return bool(self.behaviours or self.crm or self.intent or self.analytics or self.loose_window
                    or self.loose_count or self.loose_price or self.order_by or self.limit)  # fmt: skip


# ---------------------------------------------------------------------------- entry point


def plan(question: str, catalogue: Catalogue, previous: Plan | None = None, *, today: date | None = None) -> Plan:
    """Plan one message of a thread; `previous` is the last Plan of the thread (or None)."""
    today = today or date.today()
    p = parse(question, catalogue, today)
    if previous is not None and _is_followup(p, previous):
        if previous.kind == "clarify":
            return plan(f"{previous.question} {question}".strip(), catalogue, None, today=today)
        return _follow_up(p, previous, question, catalogue)
    return _fresh(p, question, catalogue)


def _fresh(p: Parsed, question: str, catalogue: Catalogue) -> Plan:
    if p.explain_customer is not None:
        return _clarify(p, question, catalogue, "Ask for an audience first, then ask why a customer is in it.")
    if p.problems:
        return _clarify(p, question, catalogue, " ".join(p.problems))
    substantive = p.understood() and (p.has_subject or p.behaviours or p.crm or p.analytics or p.loose_count)
    words = {t.text for t in p.doc.tokens}
    asks_for_all = p.has_verb or bool(words & ALL_WORDS)  # "list customers", "all customers"
    if not substantive and p.vague:  # "the right people": judged, not described
        said = " ".join(p.vague)
        return _clarify(p, question, catalogue, f"I couldn't tell which customers you mean: “{said}” doesn't say "
                        "what they bought, viewed, where they live, their age, spend or interests.")  # fmt: skip
    if not substantive and (not p.has_subject or "help" in words or not asks_for_all):
        return _clarify(p, question, catalogue, "I couldn't tell which customers you mean.")
    query = _apply(AudienceQuery(), p, followup=False)
    return _finish(p, question, query, None, catalogue)


def _finish(p: Parsed, question: str, query: AudienceQuery, base: Analytics | None, catalogue: Catalogue) -> Plan:
    if gap := _outside_the_data(query, catalogue, p.today):
        return _clarify(p, question, catalogue, gap)
    spec = p.analytics or base
    if spec is None:
        return Plan("segment", query, None, f"Segment: {query.describe()}", p.wants_json, None, p.notes, question)
    if query.intent:
        p.notes.append(f"ignored for analytics (SQL only): “{query.intent}”")
    audience = query.model_copy(update={"intent": None, "order_by": "relevance"})
    analytics = _analytics_query(spec, p, audience, catalogue)
    by = f" by {analytics.group_by}" if analytics.group_by else ""
    top = f" (top {analytics.top})" if analytics.top else ""
    message = f"Analytics: {analytics.measure} of {analytics.field}{by}{top} over {analytics.audience.describe()}"
    query = analytics.audience.model_copy(update={"intent": query.intent, "order_by": query.order_by})
    return Plan("analytics", query, analytics, message, p.wants_json, None, p.notes, question)


def _outside_the_data(q: AudienceQuery, catalogue: Catalogue, today: date | None) -> str | None:
    """A behaviour that must hold in a window lying wholly outside the events of the data: nobody can match,
    and "0" or "no customers" would read as if there had been no sales then."""
    if catalogue.data_min is None or catalogue.data_max is None or today is None:
        return None
    first, last = catalogue.data_min.date(), catalogue.data_max.date()
    for b in q.behaviours:
        if b.negate or b.window is None:
            continue
        w = b.window
        now = datetime.combine(today, time.min)
        since, until = window_bounds(w, now)  # [since, until), as the SQL will read it
        if w.last is not None:
            until = now + timedelta(days=1)  # a relative window runs up to today, inclusive
        if (until is not None and until.date() <= first) or (since is not None and since.date() > last):
            return (f"There are no events {w.describe()}: the data holds events from {first} to {last}. "
                    "Ask about a period inside that range.")  # fmt: skip
    return None


def _clarify(p: Parsed, question: str, catalogue: Catalogue, reason: str) -> Plan:
    held = []
    if catalogue.products:
        held.append("products " + ", ".join(catalogue.products[:10]))
    if catalogue.colors:
        held.append("colors " + ", ".join(catalogue.colors[:10]))
    if catalogue.countries:
        held.append("countries " + ", ".join(nl.country_label(c) for c in catalogue.countries[:10]))
    if catalogue.event_types:
        held.append("events " + ", ".join(catalogue.event_types))
    data = f" The data holds {'; '.join(held)}." if held else " No customer data is loaded yet."
    example = catalogue.products[0] if catalogue.products else "a product"
    country = catalogue.countries[0] if catalogue.countries else "a country"
    tip = (f" Try e.g. “customers who bought {example} in the last 30 days” or “luxury customers in {country} "
           "who spent more than 500”, or “how many customers by country”.")  # fmt: skip
    return Plan("clarify", None, None, reason + data + tip, p.wants_json, None, p.notes, question)


# ---------------------------------------------------------------------------- follow-ups


def _is_followup(p: Parsed, previous: Plan) -> bool:
    text = p.doc.text
    if previous.kind == "clarify":
        return not p.has_subject
    if previous.query is None:
        return False
    free = " ".join(t.text for t in p.doc.tokens if not t.tag)  # "show them as JSON" is consumed
    if FOLLOW_START_RE.search(text) or PRONOUN_RE.search(free) or p.explain_customer is not None:
        return True
    return not (p.has_subject and p.has_verb)


def _follow_up(p: Parsed, previous: Plan, question: str, catalogue: Catalogue) -> Plan:
    assert previous.query is not None
    if p.explain_customer is not None:
        msg = f"Explain why customer {p.explain_customer} is in: {previous.query.describe()}"
        return Plan("explain", previous.query, None, msg, p.wants_json, p.explain_customer, p.notes, question)
    if p.problems:
        return _clarify(p, question, catalogue, " ".join(p.problems))
    p.notes.append("follow-up: refined the previous query")
    query = _apply(previous.query, p, followup=True)
    base = None
    free = " ".join(t.text for t in p.doc.tokens if not t.tag)
    if previous.kind == "analytics" and previous.analytics and not SEGMENT_REQUEST_RE.search(free):
        a = previous.analytics
        events = "any" if a.field == "events" and a.measure == "count" else None  # keeps its first behaviour
        base = Analytics(a.measure, a.field, a.group_by, a.top, a.order, events)
    return _finish(p, question, query, base, catalogue)


def _apply(base: AudienceQuery, p: Parsed, *, followup: bool) -> AudienceQuery:
    """The previous (or an empty) query refined by what this message says."""
    crm = _merge_crm(base.crm, p, followup)
    behaviours = [b.model_copy(deep=True) for b in base.behaviours]
    new = list(zip(p.behaviours, p.verbless, strict=True))
    positives = [b for b in behaviours if not b.negate]
    single = positives[0] if followup and len(positives) == 1 else None
    if single and new and all(v and not b.negate for b, v in new) and not ADD_MODE_RE.search(p.doc.text):
        single.products = [x for b, _ in new for x in b.products]  # "only jackets"
        single.colors = [x for b, _ in new for x in b.colors] or single.colors
        p.notes.append("replaced the products of the previous behaviour")
        new = []
    for b, verbless in new:
        if single and verbless and b.negate:
            b.event_types = list(single.event_types)  # "but not socks": the same kind of event
        if single and id(b) in p.back_refs and not b.products and not b.colors:
            b.products, b.colors = list(single.products), list(single.colors)  # "... but never bought one"
            p.notes.append("the verb refers to the previous products")
        behaviours.append(b)
    _apply_loose(behaviours, p, only_unset=not followup)
    intent = base.intent
    if p.intent:
        intent = " ".join(dict.fromkeys(f"{intent or ''} {p.intent}".split())) if followup else p.intent
    if p.explicit_sort and intent:  # a semantic ranking would override the order asked for
        p.notes.append(f"sorted as asked, not by similarity to “{intent}”")
        intent = None
    return AudienceQuery(
        behaviours=behaviours,
        crm=crm,
        intent=intent,
        order_by=p.order_by or base.order_by,
        limit=p.limit or base.limit,
    )


def _merge_crm(base: CRMFilter, p: Parsed, followup: bool) -> CRMFilter:
    data = base.model_dump()
    add_mode = followup and ADD_MODE_RE.search(p.doc.text) is not None
    for key, value in p.crm.items():
        if key in ("countries", "favorite_colors") and add_mode or key == "exclude_countries":
            data[key] = list(dict.fromkeys(data[key] + value))
        else:
            data[key] = value
    data["countries"] = [c for c in data["countries"] if c not in p.crm.get("exclude_countries", [])]
    data["exclude_countries"] = [c for c in data["exclude_countries"] if c not in p.crm.get("countries", [])]
    return CRMFilter(**data)


def _apply_loose(behaviours: list[Behaviour], p: Parsed, *, only_unset: bool) -> None:
    """Windows / repeats / prices said outside any verb clause apply to every (positive) behaviour."""
    if p.loose_window is None and p.loose_count is None and p.loose_price is None:
        return
    targets = [b for b in behaviours if not b.negate] or behaviours
    if not targets:
        types = p.repeat_types if p.loose_repeat and not p.loose_price else []
        targets = [Behaviour(event_types=types)]
        behaviours.extend(targets)
        p.notes.append("a time window / repeat / price without a product: any matching event")
    for b in targets:
        if p.loose_window is not None and (b.window is None or not only_unset):
            b.window = p.loose_window
        if p.loose_count is not None and (b.min_events == 1 or not only_unset):
            b.min_events = p.loose_count
        if p.loose_price is not None:
            lo, hi = p.loose_price
            b.min_price = lo if lo is not None else b.min_price
            b.max_price = hi if hi is not None else b.max_price


def _analytics_query(spec: Analytics, p: Parsed, audience: AudienceQuery, catalogue: Catalogue) -> AnalyticsQuery:
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
    return AnalyticsQuery(measure=measure, field=field_, group_by=group, audience=audience, top=top, order=spec.order)


def _events_first(audience: AudienceQuery, concept: str, catalogue: Catalogue, p: Parsed) -> AudienceQuery:
    """Put a behaviour of the counted event type first (adding one if the question had none)."""
    if concept == "any":
        return audience
    types = _event_types(concept, catalogue, p)
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


# ---------------------------------------------------------------------------- parsing


def parse(question: str, catalogue: Catalogue, today: date) -> Parsed:
    """Read one message: every extractor consumes what it understood, in a fixed order."""
    doc = nl.Doc(question)
    p = Parsed(doc, today=today)
    words = {t.text for t in doc.tokens}
    p.has_subject = bool(words & SUBJECTS)
    p.spend_words = bool(words & {"spent", "spend", "spends", "spending", "spender", "spenders", "revenue"})
    p.wants_json = nl.find_json(doc)
    if lookalike := nl.find_lookalike(doc):
        p.problems.append(f"“{lookalike}”: lookalike audiences are not supported; describe the customers instead.")
    prediction = nl.find_prediction(doc)
    p.explain_customer = nl.find_explain(doc)
    orders = nl.find_sort(doc)
    p.explicit_sort = any(order != "relevance" for order, _ in orders)
    p.analytics = nl.find_analytics(doc)
    orders += nl.find_order_words(doc)
    for order, phrase in orders:
        p.order_by = order
        p.notes.append(f"order by {order} (“{phrase}”)")
    mentions = [Mention("window", s, e, w) for s, e, w in nl.find_windows(doc, today)]
    mentions += nl.find_counts(doc)
    mentions += [Mention(h.kind, h.start, h.end, h.value) for h in nl.find_vocabulary(doc, catalogue)]
    mentions += _numbers(p)
    mentions += nl.find_words(doc)
    p.has_verb = bool(p.analytics) or any(m.kind in ("event", "interest") for m in mentions) or bool(words & REQUESTS)
    p.concepts = {m.value for m in mentions if m.kind == "event"}
    _walk(sorted(mentions, key=lambda m: m.start), p, catalogue)
    if p.loose_repeat:
        p.repeat_types = _event_types("purchase", catalogue, p)
    if prediction:
        p.problems.insert(0, _prediction_problem(*prediction, p, catalogue))
    p.vague = list(dict.fromkeys(_base(t.text) for t in doc.tokens if not t.tag and _base(t.text) in EVALUATIVE))
    p.intent = _intent(doc)
    return p


def _prediction_problem(phrase: str, kind: str, p: Parsed, catalogue: Catalogue) -> str:
    """A can't for a prediction, with a question about past behaviour the data can answer."""
    if kind != "purchase":
        return (f"“{phrase}”: the data holds what customers did, not predictions; ask e.g. for customers who have "
                "not bought anything in the last 60 days.")  # fmt: skip
    products = [x for b in p.behaviours for x in b.products]
    thing = products[0] if products else "a product"
    has = {c for c in ("view", "add_to_cart", "purchase") if _has_concept(c, catalogue)}
    if "add_to_cart" in has:
        ask = f"customers who added {thing} to the cart in the last 30 days"
    elif "view" in has:
        ask = f"customers who viewed {thing} in the last 30 days"
    else:
        ask = f"customers who bought {thing} in the last 30 days"
    if "purchase" in has and "bought" not in ask and products:
        ask += " but never bought it"
    return (f"“{phrase}”: the data records past events, not predictions, so it cannot tell who will buy. "
            f"It can answer who showed interest lately, e.g. “{ask}”.")  # fmt: skip


def _has_concept(concept: str, catalogue: Catalogue) -> bool:
    words = CONCEPT_WORDS[concept]
    return not catalogue.event_types or any(w in t.lower() for t in catalogue.event_types for w in words)


def _numbers(p: Parsed) -> list[Mention]:
    """Comparisons (spend / age -> CRM, price -> a mention for the walk), age words, limits."""
    prices = []
    for c in nl.find_comparisons(p.doc):
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
    for lo, hi, words in nl.find_age_words(p.doc):
        _set(p, min_age=lo, max_age=hi)
        p.notes.append(f"age {_span(lo, hi)} (“{words}”)")
    for n in nl.find_limits(p.doc):
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


# ---------------------------------------------------------------------------- the walk


@dataclass
class Run:
    """Products joined by and/or/commas, each with its own colors."""

    items: list[tuple[str, list[str]]]
    first: Mention
    last: Mention
    any_or: bool = False


def _gap(doc: nl.Doc, a: Mention, b: Mention) -> str:
    return doc.text[a.end : b.start]


def _walk(ms: list[Mention], p: Parsed, catalogue: Catalogue) -> None:
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
        b = Behaviour(event_types=_event_types(clause.value, catalogue, p), negate=clause.neg)
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


def _refers_back(doc: nl.Doc, verb: Mention) -> bool:
    """A verb without an object that refers to the products just said: "bought them", "but never bought"."""
    nxt = doc.words_after(verb.end, 1)
    if nxt and nxt[0] in ("them", "it", "those", "these", "one", "ones"):
        return True
    ends = not nxt or nxt[0] in BOUNDARY or re.match(r"\s*[,.;:!?]", doc.text[verb.end :]) is not None
    return verb.neg and ends and "but" in doc.words_before(verb.start, 4)


def _adjacent(doc: nl.Doc, a: Mention, b: Mention, allowed: set[str]) -> bool:
    return not re.search(r"[.;:!?]", _gap(doc, a, b)) and set(doc.words_between(a.end, b.start)) <= allowed


def _negations(ms: list[Mention], doc: nl.Doc) -> None:
    for i, m in enumerate(ms):
        if m.kind == "neg" and i + 1 < len(ms) and _adjacent(doc, m, ms[i + 1], NEG_FILLER):
            ms[i + 1].neg = True
        if m.kind == "interest" and m.neg and i + 1 < len(ms) and ms[i + 1].kind == "lux":
            ms[i + 1].neg = True  # "doesn't like luxury"
    for a, b in zip(ms, ms[1:], strict=False):  # "excluding Poland and Austria"
        if a.kind == b.kind == "country" and a.neg and CONJ_GAP_RE.fullmatch(_gap(doc, a, b)):
            b.neg = True


def _color_roles(ms: list[Mention], doc: nl.Doc) -> None:
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
    p.crm["likes_luxury"] = values[-1]
    for m in lux:
        if m.neg:
            p.doc.consume(m.start, m.end, "lux")  # "not luxury" must not rank luxury lovers first
    if len(set(values)) > 1:
        p.notes.append(f"contradicting luxury words: kept likes_luxury={values[-1]}")
    else:
        p.notes.append(f"likes_luxury={values[-1]}")


def _bind_postfix(ms: list[Mention], doc: nl.Doc) -> dict[int, Mention]:
    """'sock buyers', 'socks in their cart': a noun-form event right after a product binds to it."""
    bound: dict[int, Mention] = {}
    for a, b in zip(ms, ms[1:], strict=False):
        if b.kind == "event" and b.postfix and a.kind == "product" and _adjacent(doc, a, b, POSTFIX_FILLER):
            bound[id(a)] = bound[id(b)] = b
    return bound


def _runs(ms: list[Mention], doc: nl.Doc) -> list[Run]:
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


def _clause_of(m: Mention, clauses: list[Mention], doc: nl.Doc) -> Mention | None:
    after = [v for v in clauses if v.start >= m.end]
    if m.kind in ("count", "window", "price") and after and _adjacent(doc, m, after[0], {"the", "a"}):
        return after[0]  # "repeat buyers of socks"
    before = [v for v in clauses if v.start < m.start]
    return before[-1] if before else None


def _event_types(concept: str, catalogue: Catalogue, p: Parsed) -> list[str]:
    if not catalogue.event_types:
        return [concept]
    words = CONCEPT_WORDS[concept]
    found = [t for t in catalogue.event_types if any(w in t.lower() for w in words)]
    if not found:
        label = CONCEPT_LABELS.get(concept, f"{concept.replace('_', ' ')} events")
        p.problems.append(f"The data has no {label} (event types: {', '.join(catalogue.event_types)}).")
    return found


def _run_behaviours(run: Run, verb: Mention | None, catalogue: Catalogue, p: Parsed) -> list[Behaviour]:
    neg = run.first.neg or bool(verb and verb.neg)
    types = _event_types(verb.value, catalogue, p) if verb is not None and verb.kind == "event" else []
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
            words += [] if t.tag or _base(t.text) in STOP else [t.text]
        before = [t for t in doc.tokens if t.end <= verb.start][-1:]
        if verb.postfix and not seen and before and not before[0].tag and before[0].text not in STOP:
            words = [before[0].text]
        if words and not (seen and seen[-1] in GENERIC_OBJECTS):  # "bought expensive items" is fine
            products = ", ".join(cat.products[:12]) or "none yet"
            p.problems.append(f"“{' '.join(words)}” is not a product in the data (products: {products}).")


def _base(word: str) -> str:
    return re.sub(r"'(?:s|re|ll|d|ve|m)$", "", word)


def _intent(doc: nl.Doc) -> str | None:
    words: list[str] = []
    prev_end = -1
    for t in doc.tokens:
        word = _base(t.text)
        if (t.tag and not t.keep) or (not t.keep and (word in NOT_INTENT or re.fullmatch(r"[\d.,]+", word))):
            continue
        if words and doc.text[prev_end : t.start] == "-":
            words[-1] += "-" + word
        else:
            words.append(word)
        prev_end = t.end
    return " ".join(dict.fromkeys(words)) or None
