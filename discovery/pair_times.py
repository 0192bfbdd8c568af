"""The gate's windows and repeat counts on products, over customer_pair_times (ingest/facts.py).

Pure functions: values are bound parameters; the vocabulary's numbers (tp_bit) are looked up in the live event_vocabulary inside the statement, so the SQL holds no product
or color word and always matches the snapshot it runs on."""

from __future__ import annotations

from datetime import datetime

from discovery.query import Behaviour

PAIR_TIMES = "customer_pair_times"  # ingest/facts.py: (tp, customer_id) → ts[], latest first


def _row_test(b: Behaviour, i: int, since: datetime | None) -> str:
    """Whether one pair row alone holds N events since `since`. The row's timestamps are latest
    first: its N-th latest is ts[N] (NULL when there are fewer), so no row is unnested."""
    if since is None:
        return f"cardinality(t.ts) >= :b{i}_min_events"
    return f"t.ts[:b{i}_min_events] >= :b{i}_since"


MAX_PAIRS = 2  # (type, product) pairs one behaviour may name here: each is looked up by the primary key


def pair_times_answers(b: Behaviour) -> bool:
    """Whether each pair row can answer `b` alone (no counting across rows, no end date): named
    event types and products (at most MAX_PAIRS pairs), no color, and N = 1 or one pair. The
    rest reads the events, whose gate index (event_type, product, color, event_timestamp) is an
    exact range for them: any type, several pairs with N > 1, an end date, and colors (measured
    at 1 M: "bought red socks in the last 6 months" 467 ms over the events, 568 ms over the
    pair rows with a color array, which must read every color's rows of the pair)."""
    if not (b.event_types and b.products) or len(b.event_types) * len(b.products) > MAX_PAIRS:
        return False
    if b.colors:
        return False
    if b.window is not None and b.window.end is not None:
        return False
    if b.window is None and b.min_events == 1:
        return False  # ever: customer_facts' items
    return b.min_events == 1 or len(b.event_types) * len(b.products) == 1


def pair_times_clause(b: Behaviour, i: int, now: datetime) -> tuple[str, dict]:
    """At least N events on the named (type, product) pairs since the window's start (or ever),
    from the customer's pair rows: the N-th latest timestamp of the row."""
    params: dict = {f"b{i}_min_events": b.min_events}
    since = b.window.bounds(now)[0] if b.window is not None else None
    if since is not None:
        params[f"b{i}_since"] = since
    # Each pair by its own equality: the planner then expects a few pairs' share of the rows and
    # reads them through the primary key (with = ANY(ARRAY(…)) or IN (SELECT …) it guesses a
    # large share and scans the whole table: 2 s instead of 30 ms at 1 M customers; IN (one
    # scalar subquery) becomes a hash join, which scans it too).
    lookups = []
    for a, event_type in enumerate(b.event_types):
        params[f"b{i}_pt{a}"] = event_type
        for k, product in enumerate(b.products):
            params[f"b{i}_pp{k}"] = product
            lookups.append(
                f"(SELECT min(v.tp_bit) FROM event_vocabulary v WHERE v.event_type = :b{i}_pt{a} AND v.product = :b{i}_pp{k})"
            )
    test = _row_test(b, i, since)
    sub = f"SELECT 1 FROM {PAIR_TIMES} t WHERE t.customer_id = c.customer_id AND t.tp = ANY(ARRAY[{', '.join(lookups)}]) AND {test}"
    return f"{'NOT ' if b.negate else ''}EXISTS ({sub})", params
