"""Gold answers, computed independently of the product: plain pandas over the CSV files the
sample generator wrote. Nothing here imports discovery/ — no planner, no query compiler,
no engine — so a bug there cannot make its own answer "right".

The kinds of gold answer (what the scorer in bench.eval.score compares a Result with):

- `Number`: one value (a count exactly; an average within rounding).
- `Rows`: a grouped table {group: value}; with `top`, the N largest groups (ties allowed).
- `Ids`: a deterministic segment (a behavioural / CRM gate): the set of customer ids.
- `Top`: the top N customers by a customer value (spend, age) within a gate.
- `Property`: a semantic intent: hard conditions (`allowed`) every returned customer must meet,
  and a stated property (`good`) that a share of the top results must have.
- `Clarify`: vague or impossible: a question back or a clear "can't", no customers.
- `NoData`: a time window holding no data: no customers, and an answer that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

# The luxury tag as the product documents it (README: LUXURY_THRESHOLD, default 800):
# a customer whose lifetime spend is above it "likes luxury".
LUXURY_SPEND = 800.0


@dataclass(frozen=True)
class Number:
    value: float | None
    tol: float = 0.0  # counts exact; averages rounded to cents: 0.01


@dataclass(frozen=True)
class Rows:
    table: dict[str, float]
    top: int | None = None
    tol: float = 0.0


@dataclass(frozen=True)
class Ids:
    ids: frozenset[int]
    limit: int = 20  # the page the product returns: all of the gate up to this many


@dataclass(frozen=True)
class Top:
    key: dict[int, float]  # every customer of the gate -> the value ranked on
    n: int
    descending: bool = True


@dataclass(frozen=True)
class Property:
    allowed: frozenset[int]  # hard conditions of the question: every returned customer must be in here
    good: frozenset[int]  # customers with the stated property
    label: str  # the property in words, for the report
    share: float = 0.8
    top: int = 10


@dataclass(frozen=True)
class Clarify:
    pass


@dataclass(frozen=True)
class NoData:
    pass


Gold = Number | Rows | Ids | Top | Property | Clarify | NoData


class Data:
    """The sample's two CSV files as pandas frames, and small helpers to write gold answers with.

    `c`: one row per customer (index = customer_id); `e`: one row per event.
    Masks over `e` are combined with & | ~ as usual; `who(mask, times)` turns them into customers.
    """

    def __init__(self, crm: Path, events: Path, now: datetime) -> None:
        self.c = pd.read_csv(crm, parse_dates=["created_at"]).set_index("customer_id", drop=False)
        self.e = pd.read_csv(events, parse_dates=["event_timestamp"])
        self.now = pd.Timestamp(now)

    # -- customers ---------------------------------------------------------------------------
    @property
    def everyone(self) -> frozenset[int]:
        return frozenset(int(i) for i in self.c.index)

    def ids(self, mask: pd.Series) -> frozenset[int]:
        """Customers where a mask over `c` holds."""
        return frozenset(int(i) for i in self.c.index[mask.to_numpy()])

    @property
    def luxury(self) -> frozenset[int]:
        return self.ids(self.c.total_spent > LUXURY_SPEND)

    def country(self, *codes: str) -> pd.Series:
        return self.c.country.isin(codes)

    # -- events ------------------------------------------------------------------------------
    def ev(self, event_type: str | None = None, product: str | tuple[str, ...] | None = None, color: str | None = None):
        """A mask over `e`: the event type, product(s) and color given (None = any)."""
        mask = pd.Series(True, index=self.e.index)
        if event_type is not None:
            mask &= self.e.event_type == event_type
        if product is not None:
            mask &= self.e["product"].isin([product] if isinstance(product, str) else list(product))
        if color is not None:
            mask &= self.e.color == color
        return mask

    def since(self, **offset: int) -> pd.Series:
        """Events in the last days=/weeks=/months= before now."""
        return self.e.event_timestamp >= self.now - pd.DateOffset(**offset)

    def between(self, start: str, end: str) -> pd.Series:
        """Events from the day `start` up to and including the day `end` (ISO dates)."""
        ts = self.e.event_timestamp
        return (ts >= pd.Timestamp(start)) & (ts < pd.Timestamp(end) + pd.Timedelta(days=1))

    def who(self, mask: pd.Series, times: int = 1) -> frozenset[int]:
        """Customers with at least `times` events where the mask holds."""
        counts = self.e.loc[mask, "customer_id"].value_counts()
        return frozenset(int(i) for i in counts.index[counts.to_numpy() >= times])

    def count_by(self, mask: pd.Series, column: str) -> dict[str, float]:
        """Events where the mask holds, counted per value of an event column."""
        return {str(k): float(v) for k, v in self.e.loc[mask, column].value_counts().items()}

    def by_month(self, mask: pd.Series) -> dict[str, float]:
        months = self.e.loc[mask, "event_timestamp"].dt.strftime("%Y-%m")
        return {str(k): float(v) for k, v in months.value_counts().items()}

    def median_price(self) -> pd.Series:
        """Per customer: the median price of the items they interacted with."""
        return self.e.groupby("customer_id").price.median()
