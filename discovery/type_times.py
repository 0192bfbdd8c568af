"""The gate's windows, repeat counts and prices on event types, over customer_type_times (ingest/facts.py).

Pure functions: values are bound parameters; the vocabulary's type numbers (type_id) are looked
up in the live event_vocabulary inside the statement. One row per event type and customer with
the type's timestamps ascending and its highest and lowest price: "bought between March and
May", "3+ views in 30 days", "bought anything over 200" read the named types' rows instead of
the events; "any event between March and May" (no type named: discovery.compile's kind
"any_type_times") reads all of the customer's rows. The row tests are
discovery.pair_times.times_clause's."""

from __future__ import annotations

from datetime import datetime

from discovery.pair_times import keys_test, price_answered, times_clause
from discovery.query import Behaviour

TYPE_TIMES = "customer_type_times"  # ingest/facts.py: (t, customer_id) → ts[] ascending, max/min price


def type_times_answers(b: Behaviour) -> bool:
    """Whether the customer's type rows answer `b`: event types only (no product, color or
    attribute), and a window with an end date or N > 1 in a window, or one price bound ever
    (price_answered) on named types. Ever without a price, and N = 1 since a date, are
    customer_facts' type counts and latest timestamps. With no type named, a window with an end
    date reads all of the customer's type rows ("any event between March and May", N > 1 summed
    over them: 165 → 112 ms at 100 k customers); N > 1 since a date with no type ("4+ events of
    any kind in 30 days") stays on the events' gate index, which reads only the window's entries
    (on par at 100 k: 143-240 ms over the events, 150-225 over all the type rows), and so does a
    price with no type named."""
    if b.products or b.colors or b.attributes or not price_answered(b):
        return False
    if b.min_price is not None or b.max_price is not None:
        return bool(b.event_types)
    if b.window is None:
        return False
    if not b.event_types:
        return b.window.end is not None
    return b.window.end is not None or b.min_events > 1


def type_times_clause(b: Behaviour, i: int, now: datetime) -> tuple[str, dict]:
    """At least N events of the named types (any type when none is named) in the window, or one
    at the price, from the customer's type rows (summed over the types when N > 1)."""
    params: dict = {}
    if not b.event_types:  # all of the customer's rows: no key to look up
        return times_clause(TYPE_TIMES, "TRUE", False, b, i, now, params), params
    lookups = []
    for k, event_type in enumerate(b.event_types):
        params[f"b{i}_tt{k}"] = event_type
        lookups.append(f"(SELECT min(v.type_id) FROM event_vocabulary v WHERE v.event_type = :b{i}_tt{k})")
    return times_clause(TYPE_TIMES, keys_test("t", lookups), len(lookups) == 1, b, i, now, params), params
