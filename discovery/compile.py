"""Typed queries → parameterized SQL. Pure functions: values are always bound
parameters, identifiers come from fixed tables below, never from the question."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cdp.schema import GATE_ORDERS
from discovery.color_times import color_times_answers, color_times_rows
from discovery.compile_attributes import ATTRIBUTE_NAME_RE, ATTRIBUTES_TABLE, attribute_conditions, attributes_clause
from discovery.pair_times import pair_times_answers, pair_times_rows, times_clause
from discovery.query import AnalyticsQuery, AudienceQuery, Behaviour, CRMFilter
from discovery.type_times import type_times_answers, type_times_rows


@dataclass(frozen=True)
class CompiledSQL:
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)  # planner settings for this statement (cdp.db.read_only)

    def display(self) -> str:
        """The statement with its parameters inlined, for people to read (never executed); an
        array of more than DISPLAY_ARRAY_MAX values shows its first few and how many more."""
        out = self.sql
        for name in sorted(self.params, key=len, reverse=True):
            out = out.replace(f":{name}", _literal(self.params[name]))
        return out


DISPLAY_ARRAY_MAX = 100  # longer arrays are shown by their first DISPLAY_ARRAY_HEAD values
DISPLAY_ARRAY_HEAD = 20


def _literal(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "NULL", True: "TRUE", False: "FALSE"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        if len(value) > DISPLAY_ARRAY_MAX:  # candidate ids of a large gate: thousands
            head = ", ".join(_literal(v) for v in value[:DISPLAY_ARRAY_HEAD])
            return f"ARRAY[{head} /* … {len(value) - DISPLAY_ARRAY_HEAD:,} more */]"
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, datetime):
        return f"'{value:%Y-%m-%d %H:%M:%S}'"
    return "'" + str(value).replace("'", "''") + "'"


def event_conditions(b: Behaviour, i: int, now: datetime, alias: str = "e") -> tuple[list[str], dict]:
    conds: list[str] = []
    params: dict[str, Any] = {}
    if b.event_types:
        conds.append(f"{alias}.event_type = ANY(:b{i}_types)")
        params[f"b{i}_types"] = list(b.event_types)
    if b.products:
        conds.append(f"{alias}.product = ANY(:b{i}_products)")
        params[f"b{i}_products"] = list(b.products)
    if b.colors:
        conds.append(f"{alias}.color = ANY(:b{i}_colors)")
        params[f"b{i}_colors"] = list(b.colors)
    if b.min_price is not None:
        conds.append(f"{alias}.price >= :b{i}_min_price")
        params[f"b{i}_min_price"] = b.min_price
    if b.max_price is not None:
        conds.append(f"{alias}.price <= :b{i}_max_price")
        params[f"b{i}_max_price"] = b.max_price
    if b.attributes:
        attr_conds, attr_params = attribute_conditions(b.attributes, alias, prefix=f"b{i}_attr")
        conds += attr_conds
        params.update(attr_params)
    if b.window is not None:
        since, until = b.window.bounds(now)
        if since is not None:
            conds.append(f"{alias}.event_timestamp >= :b{i}_since")
            params[f"b{i}_since"] = since
        if until is not None:
            conds.append(f"{alias}.event_timestamp < :b{i}_until")
            params[f"b{i}_until"] = until
    return conds, params


def facts_kind(b: Behaviour, extra_where: str | None = None) -> str | None:
    """Which part of the gate's facts (ingest/facts.py) answers a behaviour, or None for the events.

    "items": any event on the named products / colors (of the named types), ever: the vocabulary
             items, or the (type, product) / (type, color) bit masks when they exist;
    "recent": any event of the named types since a date (the latest event per type);
    "count": at least N (1 or more) events of the named types, ever (the count per type);
    "times" / "type_times" / "color_times" / "any_type_times": (type, product) pairs / event
             types / colors / no type named, in windows, N > 1 or one price bound ever: the
             customer's rows of ascending timestamps and price range per key (*_times_answers).
    Raw SQL, attributes, price ranges, prices with a window or N > 1, colors and products
    together with a window or N > 1, and windows or N > 1 on products of any type read the
    events, through their gate index."""
    if extra_where or b.attributes:
        return None
    if pair_times_answers(b):
        return "times"
    if type_times_answers(b):
        return "type_times" if b.event_types else "any_type_times"
    if color_times_answers(b):
        return "color_times"
    if b.min_price is not None or b.max_price is not None:
        return None
    if b.window is not None:  # with an end date, only the events remain
        if b.window.end is not None or b.products or b.colors or b.min_events > 1:
            return None
        return "recent"
    if b.event_types and not (b.products or b.colors):
        return "count"  # ever: at least min_events of these types
    if b.min_events > 1:
        return None
    return "items"


def _vocabulary_items(b: Behaviour, i: int) -> tuple[str, dict]:
    conds: list[str] = []
    params: dict[str, Any] = {}
    for field_, col in (("event_types", "event_type"), ("products", "product"), ("colors", "color")):
        if getattr(b, field_):
            conds.append(f"v.{col} = ANY(:b{i}_{field_})")
            params[f"b{i}_{field_}"] = list(getattr(b, field_))
    where = " AND ".join(conds) or "TRUE"
    # sorted: intarray's && sorts both sides on every row unless they already are
    return f"ARRAY(SELECT v.item_id FROM event_vocabulary v WHERE {where} ORDER BY v.item_id)", params


def _type_slots(b: Behaviour, i: int, column: str) -> tuple[list[str], dict]:
    slots, params = [], {}
    for k, event_type in enumerate(b.event_types):
        params[f"b{i}_t{k}"] = event_type
        slots.append(f"c.{column}[(SELECT min(v.type_id) FROM event_vocabulary v WHERE v.event_type = :b{i}_t{k})]")
    return slots, params


def _pair_mask(b: Behaviour, i: int, params: dict) -> str | None:
    """The (event_type, product) or (event_type, color) pairs of `b` as bits of one bigint, for
    a behaviour naming products or colors but not both (customer_facts.tp_mask / tc_mask)."""
    if bool(b.products) == bool(b.colors):
        return None
    column, bit, key = ("tp_mask", "tp_bit", "products") if b.products else ("tc_mask", "tc_bit", "colors")
    where = f"v.{key[:-1]} = ANY(:b{i}_{key})"
    if b.event_types:
        where += f" AND v.event_type = ANY(:b{i}_event_types)"
    return f"(c.{column} & (SELECT bit_or(1::bigint << v.{bit}) FROM event_vocabulary v WHERE {where})) <> 0"


# the times rows of each facts_kind that reads them (discovery.pair_times.times_clause tests them)
TIMES_ROWS = {
    "times": pair_times_rows, "type_times": type_times_rows, "any_type_times": type_times_rows,
    "color_times": color_times_rows,
}  # fmt: skip


def facts_clause(b: Behaviour, i: int, now: datetime, kind: str) -> tuple[str, dict]:
    if kind == "items":
        items, params = _vocabulary_items(b, i)
        test = f"c.items && {items}"
        if (mask := _pair_mask(b, i, params)) is not None:
            # NULL when the vocabulary has too many pairs for a bigint, or the value is unknown
            test = f"COALESCE({mask}, {test})"
        return f"{'NOT ' if b.negate else ''}({test})", params
    if kind in TIMES_ROWS:
        spec, params = TIMES_ROWS[kind](b, i)
        return times_clause(spec, b, i, now, params), params
    if kind == "count":
        slots, params = _type_slots(b, i, "type_n")
        params[f"b{i}_min_events"] = b.min_events
        total = " + ".join(f"COALESCE({s}, 0)" for s in slots)
        return f"{'NOT ' if b.negate else ''}({total} >= :b{i}_min_events)", params
    assert b.window is not None  # facts_kind gives "recent" only to a behaviour with a window
    since, _ = b.window.bounds(now)
    slots, params = _type_slots(b, i, "type_last")
    params[f"b{i}_since"] = since
    latest = f"GREATEST({', '.join(slots)})" if slots else "c.last_activity"
    return f"{'NOT ' if b.negate else ''}COALESCE({latest} >= :b{i}_since, FALSE)", params


def behaviour_clause(b: Behaviour, i: int, now: datetime, extra_where: str | None = None) -> tuple[str, dict]:
    if (kind := facts_kind(b, extra_where)) is not None:
        return facts_clause(b, i, now, kind)
    conds, params = event_conditions(b, i, now)
    if extra_where:
        conds.append(f"({extra_where})")
    where = " AND ".join(conds) or "TRUE"
    if b.min_events > 1:
        params[f"b{i}_min_events"] = b.min_events
        return f"c.customer_id {'NOT IN' if b.negate else 'IN'} ({EVENTS_REACHING.format(where=where, i=i)})", params
    return f"{'NOT ' if b.negate else ''}EXISTS ({EVENTS_PROBE.format(where=where)})", params


EVENTS_PROBE = "SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND {where}"  # a customer's events
EVENTS_REACHING = (
    "SELECT e.customer_id FROM events e WHERE {where} GROUP BY e.customer_id HAVING count(*) >= :b{i}_min_events"
)


def crm_conditions(f: CRMFilter) -> tuple[list[str], dict]:
    """The CRM conditions. An optional field the data does not hold for a customer (NULL) meets
    no condition on it, SQL's three-valued logic kept throughout: a customer of unknown age is not
    "aged 25-34" nor "under 30", one of unknown country is neither "from Germany" nor "outside
    Germany" (NOT (NULL = ANY(..))) is NULL, not true: a marketer asking for customers outside
    Germany means customers known to live elsewhere)."""
    conds: list[str] = []
    params: dict[str, Any] = {}
    if f.countries:
        conds.append("c.country = ANY(:countries)")
        params["countries"] = list(f.countries)
    if f.exclude_countries:
        conds.append("NOT (c.country = ANY(:exclude_countries))")
        params["exclude_countries"] = list(f.exclude_countries)
    if f.min_age is not None:
        conds.append("c.age >= :min_age")
        params["min_age"] = f.min_age
    if f.max_age is not None:
        conds.append("c.age <= :max_age")
        params["max_age"] = f.max_age
    if f.min_spent is not None:
        conds.append("c.total_spent > :min_spent")
        params["min_spent"] = f.min_spent
    if f.max_spent is not None:
        conds.append("c.total_spent < :max_spent")
        params["max_spent"] = f.max_spent
    if f.favorite_colors:
        conds.append("c.favorite_color = ANY(:favorite_colors)")
        params["favorite_colors"] = list(f.favorite_colors)
    if f.likes_luxury is not None:
        conds.append("c.likes_luxury = :likes_luxury")
        params["likes_luxury"] = f.likes_luxury
    if f.customer_ids:
        conds.append("c.customer_id = ANY(:customer_ids)")
        params["customer_ids"] = list(f.customer_ids)
    return conds, params


def audience_where(q: AudienceQuery, now: datetime, extra_where: str | None = None) -> tuple[str, dict]:
    conds, params = crm_conditions(q.crm)
    if q.attributes:
        clause, p = attributes_clause(q.attributes)
        conds.append(clause)
        params.update(p)
    for i, b in enumerate(q.behaviours):
        clause, p = behaviour_clause(b, i, now, extra_where if i == 0 else None)
        conds.append(clause)
        params.update(p)
    if extra_where and not q.behaviours:
        clause, p = behaviour_clause(Behaviour(), 0, now, extra_where)
        conds.append(clause)
        params.update(p)
    return " AND ".join(conds) or "TRUE", params


# "relevance" without an intent is the spend order; each order has its index on customer_facts
ORDER_SQL = {
    name: ", ".join(f"c.{term.strip()}" for term in columns.split(","))
    for name, columns in {"relevance": GATE_ORDERS["total_spent"], **GATE_ORDERS}.items()
}

# The gate reads one narrow row per customer: the CRM columns it filters on, the luxury tag
# and the summary of the customer's events (ingest/facts.py). Aliased c, like customers.
GATE_FROM = "customer_facts c"
FROM_AUDIENCE = "customers c JOIN customer_profiles p USING (customer_id)"


def gate_sql(q: AudienceQuery, now: datetime, extra_where: str | None = None, cap: int | None = None) -> CompiledSQL:
    """Ids of every customer passing the behavioural and CRM conditions, in the query's
    SQL order (used as the ranking when there is no semantic intent); `cap` keeps the first.

    With an intent the semantic ranking orders the segment, so the gate is an unordered set."""
    where, params = audience_where(q, now, extra_where)
    order = None if q.intent and cap is None else ORDER_SQL[q.order_by]
    sql = f"SELECT c.customer_id FROM {GATE_FROM} WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    if cap is not None:
        sql += " LIMIT :gate_cap"
        params["gate_cap"] = cap
    return CompiledSQL(sql, params)


def gate_sample_sql(q: AudienceQuery, now: datetime, extra_where: str | None, cap: int) -> CompiledSQL:
    """One pass over the gate: its size and up to `cap` of its ids (all of them when it is no
    larger), unordered — so a gate of 800 k customers costs one scan, not 800 k rows to move."""
    where, params = audience_where(q, now, extra_where)
    params["gate_cap"] = cap
    return CompiledSQL(
        "SELECT count(*) AS size, (array_agg(c.customer_id))[1:CAST(:gate_cap AS int)] AS ids "
        f"FROM {GATE_FROM} WHERE {where}",
        params,
    )


def count_sql(q: AudienceQuery, now: datetime, extra_where: str | None = None) -> CompiledSQL:
    where, params = audience_where(q, now, extra_where)
    return CompiledSQL(f"SELECT count(*) FROM {GATE_FROM} WHERE {where}", params)


ENRICH_COLUMNS = (
    "customer_id", "first_name", "last_name", "email", "country", "age", "total_spent", "favorite_color",
    "interests", "preferred_colors", "likes_luxury", "purchases", "events", "event_counts", "last_activity",
    "product_scores", "color_scores", "profile_text",
)  # fmt: skip


def enrich_sql(ids: list[int], attributes: tuple[str, ...] = ()) -> CompiledSQL:
    """The customers' rows; with `attributes` (custom attribute names from the catalogue) an
    `attributes` JSON object of those too."""
    cols = ", ".join(f"p.{c}" if c in _PROFILE_COLS else f"c.{c}" for c in ENRICH_COLUMNS)
    source = FROM_AUDIENCE
    if attributes:
        pairs = ", ".join(f"'{n}', a.\"{n}\"" for n in attributes if ATTRIBUTE_NAME_RE.match(n))
        cols += f", jsonb_build_object({pairs}) AS attributes"
        source += f" LEFT JOIN {ATTRIBUTES_TABLE} a ON a.customer_id = c.customer_id"
    return CompiledSQL(f"SELECT {cols} FROM {source} WHERE c.customer_id = ANY(:ids)", {"ids": list(ids)})


def behaviour_count_sql(b: Behaviour, i: int, now: datetime, ids: list[int]) -> CompiledSQL:
    """How many of behaviour `b`'s events each of `ids` has (customers without any are left out)."""
    conds, params = event_conditions(b, i, now)
    params["ids"] = list(ids)
    where = " AND ".join(["e.customer_id = ANY(:ids)", *conds])
    return CompiledSQL(f"SELECT e.customer_id, count(*) FROM events e WHERE {where} GROUP BY 1", params)


_PROFILE_COLS = {
    "interests", "preferred_colors", "likes_luxury", "purchases", "events", "event_counts", "last_activity",
    "product_scores", "color_scores", "profile_text",
}  # fmt: skip


# A group of customers or events without the value (an optional field stored empty) is "unknown".
UNKNOWN_GROUP = "unknown"
_GROUP_SQL = {
    "country": f"COALESCE(c.country, '{UNKNOWN_GROUP}')",
    "favorite_color": f"COALESCE(c.favorite_color, '{UNKNOWN_GROUP}')",
    "likes_luxury": "c.likes_luxury",
    "age_band": (
        f"CASE WHEN c.age IS NULL THEN '{UNKNOWN_GROUP}' WHEN c.age < 18 THEN 'under 18' WHEN c.age < 25 THEN '18-24' WHEN c.age < 35 THEN '25-34' "
        "WHEN c.age < 45 THEN '35-44' WHEN c.age < 55 THEN '45-54' WHEN c.age < 65 THEN '55-64' ELSE '65+' END"
    ),
    "product": f"COALESCE(e.product, '{UNKNOWN_GROUP}')",
    "color": f"COALESCE(e.color, '{UNKNOWN_GROUP}')",
    "event_type": "e.event_type",
    "month": "to_char(date_trunc('month', e.event_timestamp), 'YYYY-MM')",
}
_EVENT_GROUPS = {"product", "color", "event_type", "month"}


def analytics_sql(a: AnalyticsQuery, now: datetime) -> CompiledSQL:
    """count / avg / sum / min / max, optionally grouped, over the audience."""
    where, params = audience_where(a.audience, now)
    event_level = a.field == "price" or (a.group_by in _EVENT_GROUPS) or a.field == "events"
    if event_level:
        # event-level: the events of the audience matching the first behaviour's conditions
        econds, eparams = event_conditions(a.audience.behaviours[0], 0, now) if a.audience.behaviours else ([], {})
        params.update(eparams)
        source = f"{GATE_FROM} JOIN events e ON e.customer_id = c.customer_id"
        where = " AND ".join([where, *econds])
    else:
        source = GATE_FROM
    if a.group_attribute or a.field_attribute:
        source += f" LEFT JOIN {ATTRIBUTES_TABLE} a ON a.customer_id = c.customer_id"
    value = {
        "customers": "c.customer_id",
        "total_spent": "c.total_spent",
        "age": "c.age",
        "price": "e.price",
        "events": "e.event_id",
        "purchases": "c.purchases",
    }[a.field]
    if a.field_attribute:
        value = f'a."{a.field_attribute}"'
    if a.measure == "count":
        agg = (
            "count(DISTINCT c.customer_id)"
            if a.field in ("customers", "total_spent", "age", "purchases")
            else "count(*)"
        )
        label: str = "customers" if a.field in ("customers", "total_spent", "age", "purchases") else a.field
    else:
        agg = f"round({a.measure}({value})::numeric, 2)"
        label = f"{a.measure}_{a.field_attribute or a.field}"
    if a.group_attribute:
        key, group = f'a."{a.group_attribute}"', a.group_attribute
    elif a.group_by is not None:
        key, group = _GROUP_SQL[a.group_by], a.group_by
    else:
        return CompiledSQL(f"SELECT {agg} AS {label} FROM {source} WHERE {where}", params)
    sql = (
        f"SELECT {key} AS {group}, {agg} AS {label} FROM {source} WHERE {where} "
        f"GROUP BY 1 ORDER BY 2 {'DESC' if a.order == 'desc' else 'ASC'}, 1"
    )
    if a.top:
        sql += " LIMIT :top"
        params["top"] = a.top
    return CompiledSQL(sql, params)
