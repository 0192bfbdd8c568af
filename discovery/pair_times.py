"""The gate's windows and repeat counts on products, over customer_pair_times (ingest/facts.py).

Pure functions: values are bound parameters; the vocabulary's numbers (tp_bit, the color key)
are looked up in the live event_vocabulary inside the statement, so the SQL holds no product
or color word and always matches the snapshot it runs on."""

from __future__ import annotations

from datetime import datetime

from discovery.query import Behaviour


def vocabulary_where(b: Behaviour, i: int) -> tuple[str, dict]:
    """The event_vocabulary rows (alias v) of the behaviour's types, products and colors."""
    conds, params = [], {}
    for field_, col in (("event_types", "event_type"), ("products", "product"), ("colors", "color")):
        if getattr(b, field_):
            conds.append(f"v.{col} = ANY(:b{i}_{field_})")
            params[f"b{i}_{field_}"] = list(getattr(b, field_))
    return " AND ".join(conds) or "TRUE", params


PAIR_TIMES = "customer_pair_times"  # ingest/facts.py: (tp, customer_id) → ts[] ascending, cs[] parallel


def _color_key(i: int, k: int) -> str:
    """A color's key in customer_pair_times.cs: its smallest item_id (ingest/facts.COLOR_KEY_SQL)."""
    return f"(SELECT min(v.item_id) FROM event_vocabulary v WHERE v.color = :b{i}_c{k})"


def _nth_latest(positions: str, b: Behaviour, i: int) -> str:
    """The N-th latest of the row's events at `positions` (ascending): NULL when there are fewer."""
    return f"t.ts[{positions}[cardinality({positions}) - :b{i}_min_events + 1]]"


def _row_test(b: Behaviour, i: int, since: datetime | None, params: dict) -> str:
    """Whether one pair row alone holds N events (of a color) since `since`: no unnest."""
    if not b.colors:
        if since is None:
            return f"cardinality(t.ts) >= :b{i}_min_events"
        return f"t.ts[cardinality(t.ts) - :b{i}_min_events + 1] >= :b{i}_since"
    tests = []
    for k, color in enumerate(b.colors):
        params[f"b{i}_c{k}"] = color
        positions = f"(array_positions(t.cs, {_color_key(i, k)}))"
        tests.append(
            f"cardinality({positions}) >= :b{i}_min_events"
            if since is None
            else f"{_nth_latest(positions, b, i)} >= :b{i}_since"
        )
    return "(" + " OR ".join(tests) + ")"


def pair_times_clause(b: Behaviour, i: int, now: datetime) -> tuple[str, dict]:
    """At least N events on the named products in the window, from the customer's pair rows.

    Without an end, each pair row answers alone when N = 1, or when one pair and at most one
    color can match: the N-th latest timestamp (of the color). Otherwise the events of the rows
    that may hold some are counted."""
    where, params = vocabulary_where(b, i)
    since, until = b.window.bounds(now) if b.window is not None else (None, None)
    params[f"b{i}_min_events"] = b.min_events
    if since is not None:
        params[f"b{i}_since"] = since
    pairs = f"t.tp = ANY(ARRAY(SELECT DISTINCT v.tp_bit FROM event_vocabulary v WHERE {where}))"
    one_pair = len(b.event_types) == 1 and len(b.products) == 1 and len(b.colors) <= 1
    if until is None and (b.min_events == 1 or one_pair):
        test = _row_test(b, i, since, params)
        sub = f"SELECT 1 FROM {PAIR_TIMES} t WHERE t.customer_id = c.customer_id AND {pairs} AND {test}"
        return f"{'NOT ' if b.negate else ''}EXISTS ({sub})", params
    rows, events = [pairs], []
    if b.colors:
        keys = (
            f"ARRAY(SELECT min(v.item_id) FROM event_vocabulary v WHERE v.color = ANY(:b{i}_colors) GROUP BY v.color)"
        )
        rows.append(f"t.cs && {keys}")
        events.append(f"u.color_key = ANY({keys})")
    if since is not None:
        rows.append(f"t.ts[cardinality(t.ts)] >= :b{i}_since")
        events.append(f"u.ts >= :b{i}_since")
    if until is not None:
        params[f"b{i}_until"] = until
        rows.append(f"t.ts[1] < :b{i}_until")
        events.append(f"u.ts < :b{i}_until")
    counted = (
        f"SELECT t.customer_id FROM {PAIR_TIMES} t CROSS JOIN LATERAL unnest(t.ts, t.cs) AS u(ts, color_key) "
        f"WHERE {' AND '.join(rows + events)} GROUP BY t.customer_id HAVING count(*) >= :b{i}_min_events"
    )
    # EXISTS over the grouped rows: a hash semi / anti join, never a NOT IN over a large set
    sub = f"SELECT 1 FROM ({counted}) g WHERE g.customer_id = c.customer_id"
    return f"{'NOT ' if b.negate else ''}EXISTS ({sub})", params
