"""The gate without a semantic intent: its first `limit` customers in the query's SQL order, and its size.

Pure functions. The plain form is one pass: every matching row carries `count(*) OVER ()` and a
top-N sort keeps the first. For a gate of most of the population that buffers every matching row
to count it (at 1 M customers "more than 10 orders", 817 k customers: 363 ms, against 147 ms for
the count alone), so when each of the gate's conditions is on the customer's own facts row or one
primary-key probe of its pair, type, color or event rows, the statement first walks the order's
index (ingest/facts.py builds one per order, cdp.schema.GATE_ORDERS): the first `walk` customers
in that order, filtered. When at least `limit` of them match, they are exactly the gate's first
`limit` (every customer before them in the order was looked at) and the size is a plain count;
when fewer match (a small gate, or one whose customers sit low in the order, like "spent less
than 100" by spend) the plain form runs instead. Both are branches of one statement, so the size
and the customers come from one snapshot and the card shows one SQL; PostgreSQL runs only the
branch whose one-time filter holds.

When the gate's one condition is one behaviour on a times table or on the events, both the walk's
test and the size come from its rows alone (discovery.pair_times.lone_times, _events_lone): the size
is the rows' count (the distinct customers' over several keys or events), not a semi-join of
customer_facts ("3+ views in 30 days" at 1 M customers 286 → 172 ms), and a behaviour summed over
several keys ("2+ red or blue purchases in 90 days") or events is walked with a per-customer sum and
counted by its groups. Beside another condition a summed behaviour, or one read from the events, is
not walked: its subquery is a pass of its own that both the walk and the count would run ("a handbag
or a wallet bought 2+ times in 90 days" went from 247 to 586 ms walked). Model-written SQL
(sql_where) is never walked.
"""

from __future__ import annotations

from datetime import datetime

from discovery.compile import (
    EVENTS_PROBE,
    EVENTS_REACHING,
    GATE_FROM,
    ORDER_SQL,
    TIMES_ROWS,
    CompiledSQL,
    audience_where,
    crm_conditions,
    event_conditions,
    facts_kind,
)
from discovery.pair_times import lone_times, one_row_answers
from discovery.query import AudienceQuery, Behaviour

# facts_kind values answered by the gate's own row (no subquery over other rows)
ROW_KINDS = frozenset({"items", "recent", "count"})
WALK_MIN = 5_000  # index rows walked at least (~3 ms at 1 M customers)
WALK_PER_RESULT = 100  # and per customer asked for: a gate of 1 % of the population fills 20 from 2,000


def walk_rows(limit: int) -> int:
    return max(WALK_MIN, WALK_PER_RESULT * limit)


def _probed(b: Behaviour) -> bool:
    """Whether `b` is a test on the customer's own facts row, or one primary-key probe of its pair,
    type, color or event rows (an EXISTS, ~20 µs a row). Summed rows (N > 1 over several keys) and
    the events are not: their subquery is a pass of its own, which the walk and the count would
    both run."""
    kind = facts_kind(b)
    if kind in ROW_KINDS:
        return True
    return kind in TIMES_ROWS and one_row_answers(b, TIMES_ROWS[kind](b, 0)[0].single)


def _lone(
    q: AudienceQuery, now: datetime, extra_where: str | None, split: int | None = None
) -> tuple[str, str, dict[str, str]] | None:
    """(a test of one customer, the size statement, planner settings for it) from the behaviour's own rows,
    when the gate's one condition is one behaviour on a times table (pair_times.lone_times, which counts
    summed keys in two halves split at `split`) or on the events; else None."""
    if extra_where is not None or len(q.behaviours) != 1 or q.attributes or crm_conditions(q.crm)[0]:
        return None
    b = q.behaviours[0]
    kind = facts_kind(b)
    if b.negate or (kind is not None and kind not in TIMES_ROWS):
        return None
    if kind is None:
        return _events_lone(b, now)
    spec, params = TIMES_ROWS[kind](b, 0)  # the parameters audience_where bound already
    return lone_times(spec, b, 0, now, params, split)


def _events_lone(b: Behaviour, now: datetime) -> tuple[str, str, dict[str, str]]:
    """A lone behaviour read from the events (the conditions and parameters of compile.behaviour_clause):
    per customer through the events' customer index, counted by the distinct customers of the matching
    events — every customer with events is in customer_facts. At 1 M customers "a handbag over 200 in
    90 days" counts in 55 ms this way against 296 ms as a semi-join of customer_facts, and its first
    20 by spend are found among the first 44 customers walked (1 ms)."""
    where = " AND ".join(event_conditions(b, 0, now)[0]) or "TRUE"
    if b.min_events == 1:
        test = f"EXISTS ({EVENTS_PROBE.format(where=where)})"
        return test, f"SELECT count(DISTINCT e.customer_id) FROM events e WHERE {where}", {}
    test = f"(SELECT count(*) FROM events e WHERE e.customer_id = c.customer_id AND {where}) >= :b0_min_events"
    return test, f"SELECT count(*) FROM ({EVENTS_REACHING.format(where=where, i=0)}) s", {}


def walkable(q: AudienceQuery, extra_where: str | None) -> bool:
    """Whether every condition of the gate is on the customer's own row or one probe of its times
    rows (CRM fields, custom attributes, lifetime and latest-event facts, windows, repeats and
    prices on one key). Model-written SQL is never walked."""
    return extra_where is None and all(_probed(b) for b in q.behaviours)


def gate_top_sql(
    q: AudienceQuery,
    now: datetime,
    extra_where: str | None,
    limit: int,
    walk: int | None = None,
    split: int | None = None,
) -> CompiledSQL:
    """Rows (customer_id, size): the first `limit` ids of the gate in the query's SQL order, each
    carrying the gate's size. `walk` (tests) overrides how many index rows are walked first; `split`
    (the median customer id, for a large population) lets a lone behaviour summed over several keys be
    counted in two halves side by side."""
    where, params = audience_where(q, now, extra_where)
    params["gate_cap"] = limit
    order = ORDER_SQL[q.order_by]

    def counted(columns: str) -> str:  # the plain form: each matching row carries the gate's size
        return f"SELECT {columns}, count(*) OVER () AS size FROM {GATE_FROM} WHERE {where} ORDER BY {order} LIMIT :gate_cap"

    lone = _lone(q, now, extra_where, split)
    if lone is None and not walkable(q, extra_where):
        return CompiledSQL(counted("c.customer_id"), params)
    test, size, settings = lone or (where, f"SELECT count(*) FROM {GATE_FROM} WHERE {where}", {})
    if ":gate_split" in size:  # counted in two halves (_lone binds its own copy of the parameters)
        params["gate_split"] = split
    params["gate_walk"] = walk if walk is not None else walk_rows(limit)
    keys = ", ".join(dict.fromkeys(term.split()[0] for term in order.split(",")))  # c.total_spent, c.customer_id
    # one line, as every statement the card's SQL view and the recipe show
    sql = (
        "WITH walked AS MATERIALIZED ("
        f"SELECT {keys} FROM (SELECT * FROM {GATE_FROM} ORDER BY {order} LIMIT :gate_walk) c "
        f"WHERE {test} ORDER BY {order} LIMIT :gate_cap) "
        "SELECT c.customer_id, size FROM ("
        f"SELECT c.*, ({size}) AS size FROM walked c "
        "WHERE (SELECT count(*) FROM walked) >= :gate_cap "
        f"UNION ALL SELECT c.* FROM ({counted(keys)}) c "
        "WHERE (SELECT count(*) FROM walked) < :gate_cap"
        f") c ORDER BY {order}"
    )
    return CompiledSQL(sql, params, settings)
