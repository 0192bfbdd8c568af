"""The gate's windows, repeat counts and prices on event types, over customer_type_times (ingest/facts.py).

Pure functions: values are bound parameters; the vocabulary's type numbers (type_id) are looked
up in the live event_vocabulary inside the statement. One row per event type and customer with
the type's timestamps ascending and its highest and lowest price: "bought between March and
May", "3+ views in 30 days", "bought anything over 200" read the named types' rows instead of
the events; with no type named (discovery.compile's kind "any_type_times") the customer's one row
of all its events in customer_event_times answers the same: "any event between March and May".
The row tests are discovery.pair_times.times_clause's."""

from __future__ import annotations

from discovery.pair_times import TimesRows, named_keys, price_answered
from discovery.query import Behaviour

TYPE_TIMES = "customer_type_times"  # ingest/facts.py: (t, customer_id) → ts[] ascending, max/min price
EVENT_TIMES = "customer_event_times"  # ingest/facts.py: customer_id → all its events' ts[] ascending, max/min price


def type_times_answers(b: Behaviour) -> bool:
    """Whether the customer's type rows answer `b`: event types only (no product, color or
    attribute), and a window with an end date or N > 1 in a window, or one price bound ever
    (price_answered). Ever without a price, and N = 1 since a date, are customer_facts' type
    counts and latest timestamps. With no type named the customer's row of customer_event_times
    (all of its events) answers the same, and N > 1 ever ("5+ events of any kind"): "any event
    between March and May", "4+ events of any kind in 30 days" (at 1 M customers 3.4 s over the
    events' gate index, summed over all of a customer's type rows 2.0 s for the first), "anything
    over 200"."""
    if b.products or b.colors or b.attributes or not price_answered(b):
        return False
    if b.min_price is not None or b.max_price is not None:
        return True
    if b.window is None:
        return not b.event_types and b.min_events > 1
    return b.window.end is not None or b.min_events > 1


def type_times_rows(b: Behaviour, i: int) -> tuple[TimesRows, dict]:
    """The customer's rows of the named types (summed over the types when N > 1), or with no type
    named its one row of all its events: at least N events in the window, or one at the price."""
    params: dict = {}
    if not b.event_types:  # the customer's row of all its events
        return TimesRows(EVENT_TIMES, "TRUE", True), params
    lookups = []
    for k, event_type in enumerate(b.event_types):
        params[f"b{i}_tt{k}"] = event_type
        lookups.append(f"(SELECT min(v.type_id) FROM event_vocabulary v WHERE v.event_type = :b{i}_tt{k})")
    return named_keys(TYPE_TIMES, "t", lookups), params
