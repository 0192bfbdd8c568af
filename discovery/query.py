"""The typed audience query: what the agent's tools take and the offline planner builds.

An AudienceQuery is a segment request: behavioural conditions on events (all must hold),
CRM conditions, an optional semantic intent, ordering and a limit. An AnalyticsQuery is a
count / average / top-N / breakdown over the same tables. Both compile to parameterized
SQL in discovery.compile (never by string concatenation of values).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, model_validator

from discovery.limits import DEFAULT_LIMIT, MAX_LIMIT

TimeUnit = Literal["days", "weeks", "months", "years"]
MAX_WINDOW_YEARS = 100  # the furthest a relative window reaches back
LONGEST_WINDOW: dict[str, int] = {"days": 36525, "weeks": 5217, "months": 1200, "years": MAX_WINDOW_YEARS}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeWindow(_Model):
    """Either a relative window (`last` `unit`s back from now) or dates (inclusive)."""

    last: int | None = Field(default=None, ge=1, description="e.g. 60 for 'the last 60 days'")
    unit: TimeUnit = "days"
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TimeWindow:
        if self.last is None and self.start is None and self.end is None:
            raise ValueError("a time window needs `last` or `start`/`end`")
        if self.last is not None and (self.start or self.end):
            raise ValueError("use either `last` or `start`/`end`, not both")
        if self.last is not None and self.last > LONGEST_WINDOW[self.unit]:
            raise ValueError(
                f"a time window reaches back at most {MAX_WINDOW_YEARS} years ({LONGEST_WINDOW[self.unit]} {self.unit})"
            )
        return self

    def bounds(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """[since, until) as the SQL reads it; a relative window counts back from `now` and has no end."""
        if self.last is not None:
            return now - relativedelta(**{self.unit: self.last}), None
        since = datetime.combine(self.start, time.min) if self.start else None
        until = datetime.combine(self.end, time.min) + relativedelta(days=1) if self.end else None
        return since, until

    def describe(self) -> str:
        if self.last is not None:
            unit = self.unit[:-1] if self.last == 1 else self.unit
            return f"in the last {self.last} {unit}"
        if self.start and self.end:
            return f"between {self.start} and {self.end}"
        return f"since {self.start}" if self.start else f"until {self.end}"


ATTRIBUTE_NAME = r"^[a-z][a-z0-9_]{0,47}$"  # as ingest/mapping.py allows; quoted in the SQL


class AttributeCondition(_Model):
    """A condition on a custom attribute (catalogue.attributes): `values` for categories and
    booleans (equals / in; `exclude` for not in), a range for numbers and dates."""

    name: str = Field(pattern=ATTRIBUTE_NAME, description="the attribute's name as listed in the catalogue")
    values: list[bool | int | float | str] = Field(default_factory=list, description="equals / in")
    exclude: bool = Field(default=False, description="not in `values` (customers without a value included)")
    gt: float | date | None = Field(default=None, description="strictly greater than / after")
    gte: float | date | None = None
    lt: float | date | None = Field(default=None, description="strictly less than / before")
    lte: float | date | None = None

    @model_validator(mode="after")
    def _something(self) -> AttributeCondition:
        if not self.values and all(v is None for v in (self.gt, self.gte, self.lt, self.lte)):
            raise ValueError(f"the condition on {self.name!r} needs `values` or a range (gt/gte/lt/lte)")
        return self

    def describe(self) -> str:
        label = self.name.replace("_", " ")
        parts = []
        if self.values:
            shown = "/".join(str(v).lower() if isinstance(v, bool) else str(v) for v in self.values)
            parts.append(f"{label} {'not ' if self.exclude else ''}{shown}")
        for op, v in (("gt", ">"), ("gte", "≥"), ("lt", "<"), ("lte", "≤")):
            if getattr(self, op) is not None:
                parts.append(f"{label} {v} {getattr(self, op)}")
        return ", ".join(parts)


class Behaviour(_Model):
    """A condition on a customer's events. Empty lists mean 'any'."""

    event_types: list[str] = Field(
        default_factory=list, description="e.g. ['purchase']; as stored in events.event_type"
    )
    products: list[str] = Field(default_factory=list, description="as stored in events.product")
    colors: list[str] = Field(default_factory=list, description="as stored in events.color")
    min_price: float | None = Field(default=None, ge=0)
    max_price: float | None = Field(default=None, ge=0)
    window: TimeWindow | None = None
    min_events: int = Field(default=1, ge=1, description="at least this many matching events")
    negate: bool = Field(default=False, description="customers with NO such events ('never bought X')")
    attributes: list[AttributeCondition] = Field(
        default_factory=list, description="conditions on the events' custom attributes (channel, category, …)"
    )

    def describe(self) -> str:
        verb = "/".join(t.replace("_", " ") for t in self.event_types) or "any event"
        what = " ".join(x for x in (" or ".join(self.colors), " or ".join(self.products)) if x) or "anything"
        parts = [f"{'no ' if self.negate else ''}{verb} of {what}"]
        if self.min_events > 1:
            parts.append(f"at least {self.min_events} times")
        if self.min_price is not None:
            parts.append(f"price ≥ {self.min_price:g}")
        if self.max_price is not None:
            parts.append(f"price ≤ {self.max_price:g}")
        if self.window:
            parts.append(self.window.describe())
        parts += [a.describe() for a in self.attributes]
        return " ".join(parts)


class CRMFilter(_Model):
    countries: list[str] = Field(default_factory=list, description="country codes as stored, e.g. ['DE']")
    exclude_countries: list[str] = Field(default_factory=list)
    min_age: int | None = Field(default=None, ge=0)
    max_age: int | None = Field(default=None, ge=0)
    min_spent: float | None = Field(default=None, description="total_spent strictly greater than this")
    max_spent: float | None = Field(default=None, description="total_spent strictly less than this")
    favorite_colors: list[str] = Field(default_factory=list)
    likes_luxury: bool | None = None
    customer_ids: list[int] = Field(default_factory=list, description="restrict to these customers (refinements)")

    def is_empty(self) -> bool:
        return self == CRMFilter()


class Lookalike(_Model):
    """Customers like a set of seed customers (discovery.lookalike ranks them; seeds are never returned).

    The seeds are given by id (the thread's last segment, filled in by discovery.service) or by a saved
    audience's name, which the caller resolves to ids through the resolver injected into Discovery."""

    seed_ids: list[int] = Field(default_factory=list, description="the customers to resemble")
    seed_audience: str | None = Field(default=None, description="a saved audience's name, resolved by the caller")

    def describe(self) -> str:
        if self.seed_audience:
            return f"like the audience “{self.seed_audience}”"
        return f"like {len(self.seed_ids):,} seed customer{'' if len(self.seed_ids) == 1 else 's'}"


RefineMode = Literal["auto", "wider", "narrower", "off"]
OrderBy = Literal["relevance", "total_spent", "recent_activity", "purchases", "age", "age_desc"]  # age: youngest first


class AudienceQuery(_Model):
    """A segment: customers matching every behaviour and the CRM filter, ranked."""

    behaviours: list[Behaviour] = Field(default_factory=list)
    crm: CRMFilter = Field(default_factory=CRMFilter)
    attributes: list[AttributeCondition] = Field(default_factory=list, description="custom attribute conditions")
    intent: str | None = Field(default=None, description="semantic intent for vector ranking, e.g. 'luxury fashion'")
    order_by: OrderBy = "relevance"
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    like: Lookalike | None = Field(default=None, description="lookalikes of seed customers, inside the gate")
    refine: RefineMode = Field(
        default="auto",
        description="how the intent cuts the gate: auto (the natural break in the similarity scores), "
        "wider (weaker matches too), narrower (only the strongest), off (rank the whole gate)",
    )

    def describe(self) -> str:
        parts = [self.like.describe()] if self.like else []
        parts += [b.describe() for b in self.behaviours]
        c = self.crm
        if c.countries:
            parts.append("country " + "/".join(c.countries))
        if c.exclude_countries:
            parts.append("not in " + "/".join(c.exclude_countries))
        if c.min_age is not None or c.max_age is not None:
            parts.append(
                f"age {c.min_age if c.min_age is not None else ''}–{c.max_age if c.max_age is not None else ''}"
            )
        if c.min_spent is not None:
            parts.append(f"spent > {c.min_spent:g}")
        if c.max_spent is not None:
            parts.append(f"spent < {c.max_spent:g}")
        if c.favorite_colors:
            parts.append("favourite color " + "/".join(c.favorite_colors))
        if c.likes_luxury is not None:
            parts.append("luxury" if c.likes_luxury else "not luxury")
        if c.customer_ids:
            parts.append(f"{len(c.customer_ids)} given customers")
        parts += [a.describe() for a in self.attributes]
        if self.intent:
            parts.append(f"intent “{self.intent}”" + ("" if self.refine == "auto" else f" ({self.refine} cut)"))
        return "; ".join(parts) or "all customers"


Measure = Literal["count", "avg", "sum", "min", "max"]
Field_ = Literal["customers", "total_spent", "age", "price", "events", "purchases"]
GroupBy = Literal["country", "favorite_color", "age_band", "product", "color", "event_type", "likes_luxury", "month"]


class AnalyticsQuery(_Model):
    """An aggregate over the audience defined by `audience` (its behaviours and CRM filter).

    count of customers, avg/sum/min/max of a customer field (total_spent, age) or of an
    event field (price), optionally grouped; `top` keeps the largest groups.
    """

    measure: Measure = "count"
    field: Field_ = "customers"
    group_by: GroupBy | None = None
    group_attribute: str | None = Field(
        default=None, pattern=ATTRIBUTE_NAME, description="group by this custom attribute (instead of group_by)"
    )
    field_attribute: str | None = Field(
        default=None, pattern=ATTRIBUTE_NAME, description="avg/sum/min/max of this numeric custom attribute"
    )
    audience: AudienceQuery = Field(default_factory=AudienceQuery)
    top: int | None = Field(default=None, ge=1, le=MAX_LIMIT)
    order: Literal["desc", "asc"] = "desc"
