"""An intent's gate (its size and up to `cap` of its ids), driven from a behaviour's own rows when few pass.

Pure functions. The plain form (discovery.compile.gate_sample_sql) is one pass over customer_facts: at 1 M
customers "carted a watch in the last 30 days, never bought one" scans all 1 M facts rows and hash-joins the
48 k pair rows of carted watches in the window (207-286 ms). When the gate holds a behaviour that one row of
one times key answers (a primary-key probe: one (type, product), (type, color), color or type, not negated),
those rows are few and every customer with rows is in customer_facts, the gate is those rows each probing
its customer's facts row instead: 127-139 ms against 151-178 ms for the same gate alone (alternating); among
other gates that push customer_facts out of shared buffers (bench gate's loop) the probes read it back and the
gain is not clear (p50 288 / 205 ms against 270 / 256 ms in two A/B runs on a loaded machine).
Driving costs a probe per row, so it runs only when at most `drive_cap` rows pass (by default 1/16 of the
customers, about where the probes cost as much as the scan): the rows are read once into a CTE stopped at
`drive_cap` + 1, and the statement's two branches, behind one-time filters on that count, are the driven
form and the plain one (PostgreSQL runs only one). Model-written SQL (sql_where) is never driven.
"""

from __future__ import annotations

from datetime import datetime

from discovery.compile import GATE_FROM, TIMES_ROWS, CompiledSQL, audience_where, facts_kind, gate_sample_sql
from discovery.pair_times import TimesRows, probe_tests, times_clause
from discovery.query import AudienceQuery, Behaviour

DRIVE_SHARE = 16  # drive when at most customers / DRIVE_SHARE rows pass the behaviour's row test
DRIVE_MIN = 1_000  # and always up to this many (a small database's gates)
_AGGREGATE = "SELECT count(*) AS size, (array_agg(c.customer_id))[1:CAST(:gate_cap AS int)] AS ids"


def drive_cap(customers: int) -> int:
    return max(DRIVE_MIN, customers // DRIVE_SHARE)


def _driver(q: AudienceQuery) -> tuple[int, Behaviour, TimesRows, dict] | None:
    """The first behaviour one row of one times key answers (not negated, not every event of the
    customer: that row is most customers'), with its rows and their parameters, numbered after the
    other behaviours (0 .. n - 2 once it is taken out)."""
    fresh = len(q.behaviours)
    for k, b in enumerate(q.behaviours):
        kind = facts_kind(b)
        if b.negate or kind not in TIMES_ROWS or kind == "any_type_times":
            continue
        spec, params = TIMES_ROWS[kind](b, fresh)
        if spec.single:
            return k, b, spec, params
    return None


def intent_gate_sql(
    q: AudienceQuery, now: datetime, extra_where: str | None, cap: int, customers: int, drive: int | None = None
) -> CompiledSQL:
    """The gate's size and up to `cap` of its ids (unordered): driven from a behaviour's rows when at most
    `drive` (by default drive_cap(customers)) of them pass, else one pass over customer_facts."""
    found = _driver(q) if extra_where is None else None
    if found is None:
        return gate_sample_sql(q, now, extra_where, cap)
    k, b, spec, rows_params = found
    fresh = len(q.behaviours)
    rest = q.model_copy(update={"behaviours": [x for n, x in enumerate(q.behaviours) if n != k]})
    where, params = audience_where(rest, now)
    params.update(rows_params)
    tests = probe_tests(spec, b, fresh, now, params)
    probe = times_clause(spec, b, fresh, now, params)  # the same test as the plain form's EXISTS
    params.update(gate_cap=cap, drive_cap=drive_cap(customers) if drive is None else drive)
    facts = f"SELECT c.customer_id FROM {GATE_FROM} WHERE c.customer_id = d.customer_id AND {where} OFFSET 0"
    sql = (
        f"WITH driving AS MATERIALIZED (SELECT t.customer_id FROM {spec.table} t WHERE {tests} "
        "LIMIT CAST(:drive_cap AS int) + 1) "
        f"SELECT g.* FROM ({_AGGREGATE} FROM driving d CROSS JOIN LATERAL ({facts}) c) g "
        "WHERE (SELECT count(*) FROM driving) <= :drive_cap "
        f"UNION ALL SELECT g.* FROM ({_AGGREGATE} FROM {GATE_FROM} WHERE {where} AND {probe}) g "
        "WHERE (SELECT count(*) FROM driving) > :drive_cap"
    )
    return CompiledSQL(sql, params)
