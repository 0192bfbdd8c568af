"""The gate's windows and repeat counts on products, over customer_pair_times (ingest/facts.py).

Pure functions: values are bound parameters; the vocabulary's numbers (tp_bit, the color key)
are looked up in the live event_vocabulary inside the statement, so the SQL holds no product
or color word and always matches the snapshot it runs on."""

from __future__ import annotations

from datetime import datetime

from discovery.query import Behaviour

PAIR_TIMES = "customer_pair_times"  # ingest/facts.py: (tp, customer_id) → ts[] latest first, cs[] parallel


def _color_key(i: int, k: int) -> str:
    """A color's key in customer_pair_times.cs: its smallest item_id (ingest/facts.COLOR_KEY_SQL)."""
    return f"(SELECT min(v.item_id) FROM event_vocabulary v WHERE v.color = :b{i}_c{k})"


def _row_test(b: Behaviour, i: int, since: datetime | None, params: dict) -> str:
    """Whether one pair row alone holds N events (of a color) since `since`. The row's events are
    latest first: its N-th latest is ts[N], a color's N-th latest ts[array_positions(cs, key)[N]]
    (NULL when there are fewer), so no row is unnested."""
    if not b.colors:
        if since is None:
            return f"cardinality(t.ts) >= :b{i}_min_events"
        return f"t.ts[:b{i}_min_events] >= :b{i}_since"
    tests = []
    for k, color in enumerate(b.colors):
        params[f"b{i}_c{k}"] = color
        key = _color_key(i, k)
        if since is None:
            tests.append(f"cardinality(array_positions(t.cs, {key})) >= :b{i}_min_events")
        elif b.min_events == 1:
            tests.append(f"t.ts[array_position(t.cs, {key})] >= :b{i}_since")
        else:
            tests.append(f"t.ts[(array_positions(t.cs, {key}))[:b{i}_min_events]] >= :b{i}_since")
    return "(" + " OR ".join(tests) + ")"


MAX_PAIRS = 2  # (type, product) pairs one behaviour may name here: each is looked up by the primary key


def pair_times_answers(b: Behaviour) -> bool:
    """Whether each pair row can answer `b` alone (no counting across rows, no end date): named
    event types and products (at most MAX_PAIRS pairs), and N = 1, or N > 1 on one pair and at
    most one color. The rest (any type, several pairs with N > 1, an end date) reads the events,
    whose gate index serves those ranges better than counting across the pairs' rows."""
    if not (b.event_types and b.products) or len(b.event_types) * len(b.products) > MAX_PAIRS:
        return False
    if b.window is not None and b.window.end is not None:
        return False
    if b.window is None and b.min_events == 1:
        return False  # ever: customer_facts' items
    one_pair = len(b.event_types) == 1 and len(b.products) == 1 and len(b.colors) <= 1
    return b.min_events == 1 or one_pair


def pair_times_clause(b: Behaviour, i: int, now: datetime) -> tuple[str, dict]:
    """At least N events on the named (type, product) pairs since the window's start (or ever),
    from the customer's pair rows: the N-th latest timestamp of the row (of the color)."""
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
    test = _row_test(b, i, since, params)
    sub = f"SELECT 1 FROM {PAIR_TIMES} t WHERE t.customer_id = c.customer_id AND t.tp = ANY(ARRAY[{', '.join(lookups)}]) AND {test}"
    return f"{'NOT ' if b.negate else ''}EXISTS ({sub})", params
