"""A reading becomes a Plan: a segment, an analytics question, an explain, or a clarify.

A clarify says why ("I couldn't tell which customers you mean", a product or country not in
the data, an event type the data lacks, a window wholly outside the data's events, a
prediction, a lookalike) and always lists what the data holds, with example questions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from discovery.catalogue import Catalogue
from discovery.offline.analytics import analytics_query
from discovery.offline.limits import query_too_big
from discovery.offline.parsed import Analytics, Parsed
from discovery.offline.vocabulary import country_label
from discovery.query import AnalyticsQuery, AudienceQuery

Kind = Literal["segment", "analytics", "clarify", "explain"]


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


def finish(p: Parsed, question: str, query: AudienceQuery, base: Analytics | None, catalogue: Catalogue) -> Plan:
    if too_big := query_too_big(query):
        return clarify(p, question, catalogue, too_big)
    if gap := _outside_the_data(query, catalogue, p.today):
        return clarify(p, question, catalogue, gap)
    spec = p.analytics or base
    if spec is None:
        return Plan("segment", query, None, f"Segment: {query.describe()}", p.wants_json, None, p.notes, question)
    if query.intent:
        p.notes.append(f"ignored for analytics (SQL only): “{query.intent}”")
    audience = query.model_copy(update={"intent": None, "order_by": "relevance"})
    analytics = analytics_query(spec, p, audience, catalogue)
    by = (
        f" by {analytics.group_attribute or analytics.group_by}"
        if analytics.group_attribute or analytics.group_by
        else ""
    )
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
        since, until = w.bounds(now)  # [since, until), as the SQL will read it
        if w.last is not None:
            until = now + timedelta(days=1)  # a relative window runs up to today, inclusive
        if (until is not None and until.date() <= first) or (since is not None and since.date() > last):
            return (
                f"There are no events {w.describe()}: the data holds events from {first} to {last}. "
                "Ask about a period inside that range."
            )
    return None


def clarify(p: Parsed, question: str, catalogue: Catalogue, reason: str) -> Plan:
    held = []
    if catalogue.products:
        held.append("products " + ", ".join(catalogue.products[:10]))
    if catalogue.colors:
        held.append("colors " + ", ".join(catalogue.colors[:10]))
    if catalogue.countries:
        held.append("countries " + ", ".join(country_label(c) for c in catalogue.countries[:10]))
    if catalogue.event_types:
        held.append("events " + ", ".join(catalogue.event_types))
    data = f" The data holds {'; '.join(held)}." if held else " No customer data is loaded yet."
    example = catalogue.products[0] if catalogue.products else "a product"
    country = catalogue.countries[0] if catalogue.countries else "a country"
    tip = (
        f" Try e.g. “customers who bought {example} in the last 30 days” or “luxury customers in {country} "
        "who spent more than 500”, or “how many customers by country”."
    )
    return Plan("clarify", None, None, reason + data + tip, p.wants_json, None, p.notes, question)
