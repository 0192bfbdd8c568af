"""The custom-attribute category: questions on extra CRM columns (loyalty tier, signup source, e-mail
opt-in, lifetime orders, joined date), alone, together and with behaviours and built-in fields.

They run on the sample with those columns added (ingest.sample.add_attributes, loaded through
ingest.sample.attribute_mapping); the gold reads them from that CSV file with pandas, like every
other gold. Written before the planner was run on them (none of the planner's code was changed for them).
"""

from __future__ import annotations

import pandas as pd

from bench.eval.cases import ATTRS, Case, _avg, _case, _n
from bench.eval.gold import Data, Ids, Rows


def _joined(d: Data) -> pd.Series:
    return pd.to_datetime(d.c.joined)


def _tier(d: Data, *tiers: str) -> pd.Series:
    return d.c.loyalty_tier.isin(tiers)


def _opted_in(d: Data) -> pd.Series:
    return d.c.email_opt_in == "yes"


def _table(series: pd.Series) -> dict[str, float]:
    return {str(k): float(v) for k, v in series.items()}


ATTRIBUTE_CASES: list[Case] = [
    _case("attr-gold", ATTRS, "Gold tier customers", "segment", lambda d: Ids(d.ids(_tier(d, "gold")))),
    _case("attr-gold-platinum-de", ATTRS, "Customers with loyalty tier gold or platinum in Germany", "segment",
          lambda d: Ids(d.ids(_tier(d, "gold", "platinum") & d.country("DE")))),
    _case("attr-instagram", ATTRS, "Customers who signed up via instagram", "segment",
          lambda d: Ids(d.ids(d.c.signup_source == "instagram"))),
    _case("attr-opted-in", ATTRS, "Customers who opted in to email", "segment", lambda d: Ids(d.ids(_opted_in(d)))),
    _case("attr-not-opted-in", ATTRS, "Customers who did not opt in to email", "segment",
          lambda d: Ids(d.ids(~_opted_in(d)))),
    _case("attr-orders-10", ATTRS, "Customers with more than 10 lifetime orders", "segment",
          lambda d: Ids(d.ids(d.c.lifetime_orders > 10))),
    # "after March 2025": from 1 April 2025 on
    _case("attr-joined-after-march-2025", ATTRS, "Customers who joined after March 2025", "segment",
          lambda d: Ids(d.ids(_joined(d) >= pd.Timestamp("2025-04-01")))),
    _case("attr-not-bronze", ATTRS, "Customers who are not bronze tier", "segment",
          lambda d: Ids(d.ids(~_tier(d, "bronze")))),
    _case("attr-count-gold", ATTRS, "How many gold tier customers do we have?", "analytics",
          lambda d: _n(_tier(d, "gold"))),
    _case("attr-per-tier", ATTRS, "How many customers per loyalty tier", "analytics",
          lambda d: Rows(_table(d.c.loyalty_tier.value_counts()))),
    _case("attr-avg-spend-by-source", ATTRS, "Average spend by signup source", "analytics",
          lambda d: Rows(_table(d.c.groupby("signup_source").total_spent.mean()), tol=0.01)),
    _case("attr-avg-spend-gold", ATTRS, "What is the average total spend of gold tier customers?", "analytics",
          lambda d: _avg(d.c.total_spent[_tier(d, "gold")])),
    _case("attr-gold-shoes-90d", ATTRS, "Gold tier customers who bought shoes in the last 90 days", "segment",
          lambda d: Ids(d.ids(_tier(d, "gold")) & d.who(d.ev("purchase", "shoes") & d.since(days=90)))),
    _case("attr-tiktok-optin-under-30", ATTRS, "Customers under 30 who signed up via tiktok and opted in to email",
          "segment", lambda d: Ids(d.ids((d.c.age < 30) & (d.c.signup_source == "tiktok") & _opted_in(d)))),
    _case("attr-platinum-fr-20-orders", ATTRS, "Platinum customers in France with at least 20 lifetime orders",
          "segment", lambda d: Ids(d.ids(_tier(d, "platinum") & d.country("FR") & (d.c.lifetime_orders >= 20)))),
    _case("attr-joined-2024-cart", ATTRS, "Customers who joined in 2024 and added a handbag to the cart",
          "segment", lambda d: Ids(d.ids(_joined(d).dt.year == 2024) & d.who(d.ev("add_to_cart", "handbag")))),
]  # fmt: skip
