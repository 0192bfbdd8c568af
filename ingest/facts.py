"""The gate's table: one narrow row per customer with what the behavioural gate asks most.

customer_facts_new holds the CRM columns the gate filters on, the luxury tag, and a summary
of each customer's events: the vocabulary items (event type, product, color) they had any
event on, and per event type the number of events and the latest one. When the vocabulary
has at most 63 (event type, product) pairs, tp_mask holds the customer's pairs as bits of one
bigint (tc_mask the same for colors): "any event on jacket" is then one AND per row instead
of an array overlap (NULL otherwise: the gate falls back to the items). A gate over these is
one pass over a ~240 MB table at 1 M customers, instead of scanning millions of events
("any event on jacket and any on shoes": 3.1 s over the events) or moving through the 600 MB
profiles.

The custom customer attributes that are not personal are copied in as "attr:<name>" columns
(cdp.schema.ATTRIBUTE_COLUMN): an attribute condition is then a comparison on the gate's own
row, not a semi-join on customer_attributes (2-3x the whole pass at 1 M customers).

customer_pair_times_new answers what a lifetime summary cannot: how many events on a product
fell in a window ("bought a handbag 2+ times in the last 90 days", "carted a watch in the last
30 days, never bought one", "bought a handbag or a wallet between March and May") and whether
one was at a price ("bought a handbag over 200"). One row per customer and (event type,
product) pair (tp, the vocabulary's tp_bit) with the timestamps of its events ascending and
their highest and lowest price (events without a product have none). Rows are stored in (tp,
customer_id) order, so a behaviour on a product reads only its pairs' rows (~1/40 of the table
each), and width_bucket over the ascending timestamps (a binary search) counts the events in any
window without unnesting.
customer_type_times_new is the same per (event type, customer) (t, the vocabulary's type_id):
"bought between March and May", "3+ views in 30 days", "bought anything over 200".
customer_event_times_new holds one row per customer with all of its events, whatever their type:
"any event between March and May", "4+ events of any kind in 30 days", "anything over 200".
customer_color_times_new is the same per (event type, color) and customer (tc, the vocabulary's
tc_bit), for colors without a product: "viewed red anything in 30 days", "2+ red purchases
ever"; events without a color have no row. customer_any_type_color_times_new is the same per
color and customer whatever the event type (c, the vocabulary's color_id): "anything red in 30
days", "anything red over 100" read one row per customer instead of summing or de-duplicating a
row per type (at 1 M customers 91 ms against 564 ms for the three types' rows, 4.1 M rows, 610 MB,
built in 34 s). A color with a product, prices with a window or N > 1, and products of any type
with a window or N > 1 still go to the events, see discovery.pair_times.pair_times_answers,
discovery.type_times.type_times_answers and discovery.color_times.color_times_answers. The five
times tables are built on a thread of their own beside the embedding, after the events' index and
customer_facts_new were started beside the profiles (ingest.pipeline.profiles_and_gate_tables).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.schema import ATTRIBUTE_COLUMN, GATE_ORDERS
from cdp.settings import Settings
from ingest.profiles import LIKES_LUXURY_SQL, PURCHASE_TYPE

MASK_BITS = 63  # bits of a bigint a mask may use (the sign bit stays clear)


def _mask(column: str, usable: bool) -> str:
    return f"bit_or(1::bigint << v.{column})" if usable else "NULL::bigint"


def vocabulary_join(nulls: bool) -> str:
    """The events' join to their vocabulary item. An event without product or color (NULL:
    optional fields) has an item of its own; NULL = NULL is not true, so then the keys are
    compared through COALESCE (still an equi-join) — only when the vocabulary holds a NULL."""
    if not nulls:
        return "JOIN event_vocabulary_new v USING (event_type, product, color)"
    keys = " AND ".join(f"COALESCE(v.{c}, '') = COALESCE(e.{c}, '')" for c in ("product", "color"))
    return f"JOIN event_vocabulary_new v ON v.event_type = e.event_type AND {keys}"


def facts_sql(
    n_types: int, tp_mask: bool = True, tc_mask: bool = True, nulls: bool = False, attributes: tuple[str, ...] = ()
) -> str:
    """CREATE TABLE AS for `n_types` event types (type_id 1..n from event_vocabulary_new):
    type_n[k] / type_last[k] are the count and the latest timestamp of type k's events;
    tp_mask / tc_mask are built when the vocabulary's pairs fit in a bigint; `attributes` (the
    custom customer attributes that are not personal) are copied in as "attr:<name>"."""
    inlined = "".join(f', a."{name}" AS "{ATTRIBUTE_COLUMN.format(name)}"' for name in attributes)
    joined = "LEFT JOIN customer_attributes_new a USING (customer_id)" if attributes else ""
    n = ", ".join(f"count(*) FILTER (WHERE v.type_id = {k})" for k in range(1, n_types + 1))
    last = ", ".join(f"max(e.event_timestamp) FILTER (WHERE v.type_id = {k})" for k in range(1, n_types + 1))
    return f"""CREATE TABLE customer_facts_new AS
        SELECT c.customer_id, c.country, c.age, c.total_spent, c.favorite_color,
               {LIKES_LUXURY_SQL} AS likes_luxury,
               COALESCE(s.purchases, 0) AS purchases,
               s.last_activity,
               COALESCE(s.items, '{{}}') AS items,
               s.tp_mask, s.tc_mask,
               COALESCE(s.type_n, array_fill(0, ARRAY[{n_types}])) AS type_n,
               COALESCE(s.type_last, array_fill(NULL::timestamp, ARRAY[{n_types}])) AS type_last{inlined}
        FROM customers_new c
        {joined}
        LEFT JOIN (
            SELECT e.customer_id,
                   array_agg(DISTINCT v.item_id ORDER BY v.item_id) AS items,
                   {_mask("tp_bit", tp_mask)} AS tp_mask,
                   {_mask("tc_bit", tc_mask)} AS tc_mask,
                   ARRAY[{n}]::int[] AS type_n,
                   ARRAY[{last}]::timestamp[] AS type_last,
                   count(*) FILTER (WHERE e.event_type = '{PURCHASE_TYPE}') AS purchases,
                   max(e.event_timestamp) AS last_activity
            FROM events_new e
            {vocabulary_join(nulls)}
            GROUP BY e.customer_id
        ) s USING (customer_id)"""


def times_sql(table: str, key: str, bit: str, columns: str, optional: str | None = None) -> str:
    """CREATE TABLE AS for a times table: one row per vocabulary number `bit` (as `key`) and
    customer, with the timestamps ascending and the highest and lowest price. The events join
    their key's distinct vocabulary rows on the key's own `columns`: joined to the whole
    vocabulary on (type, product, color) the planner expected ~50 rows of 2 M events and sorted
    them all for a merge join (pair times 3.5-4.0 s → 2.0 s at 100 k). Events whose `optional`
    field is empty (NULL) have no row: no product / color condition matches them."""
    where = f"WHERE {optional} IS NOT NULL" if optional else ""
    return f"""CREATE TABLE {table} AS
    SELECT v.{bit} AS {key}, e.customer_id, array_agg(e.event_timestamp ORDER BY e.event_timestamp) AS ts,
           max(e.price) AS max_price, min(e.price) AS min_price
    FROM events_new e
    JOIN (SELECT DISTINCT {columns}, {bit} FROM event_vocabulary_new {where}) v USING ({columns})
    GROUP BY v.{bit}, e.customer_id
    ORDER BY v.{bit}, e.customer_id"""


PAIR_TIMES_SQL = times_sql("customer_pair_times_new", "tp", "tp_bit", "event_type, product", "product")
TYPE_TIMES_SQL = times_sql("customer_type_times_new", "t", "type_id", "event_type")
COLOR_TIMES_SQL = times_sql("customer_color_times_new", "tc", "tc_bit", "event_type, color", "color")
ANY_TYPE_COLOR_TIMES_SQL = times_sql("customer_any_type_color_times_new", "c", "color_id", "color", "color")


def _vocabulary_has_nulls(conn: sa.Connection) -> bool:
    return bool(
        conn.execute(sa.text("SELECT bool_or(product IS NULL OR color IS NULL) FROM event_vocabulary_new")).scalar()
    )


def build_facts(engine: Engine, settings: Settings) -> None:
    """customer_facts_new from customers_new, events_new and event_vocabulary_new (after the
    events' indexes exist: the aggregate reads the events in customer order)."""
    with engine.begin() as conn:
        # per sort and per parallel worker: 256 MB took PostgreSQL to 2.2 GB at 1 M customers
        conn.execute(sa.text("SET LOCAL work_mem = '96MB'"))
        conn.execute(sa.text("DROP TABLE IF EXISTS customer_facts_new"))
        n_types, tp, tc = conn.execute(
            sa.text("SELECT coalesce(max(type_id), 0), max(tp_bit), max(tc_bit) FROM event_vocabulary_new")
        ).one()
        sql = facts_sql(
            max(n_types, 1), (tp or 0) < MASK_BITS, (tc or 0) < MASK_BITS, _vocabulary_has_nulls(conn), _inlined(conn)
        )
        conn.execute(sa.text(sql), {"luxury": settings.luxury_threshold})
        conn.execute(sa.text("ALTER TABLE customer_facts_new ADD PRIMARY KEY (customer_id)"))
        for columns in dict.fromkeys(GATE_ORDERS.values()):  # ~1 s each at 1 M customers
            conn.execute(sa.text(f"CREATE INDEX ON customer_facts_new ({columns})"))
    _vacuum(engine, "customer_facts_new")


def _inlined(conn: sa.Connection) -> tuple[str, ...]:
    """The custom customer attributes the gate filters on in customer_facts (not the personal ones:
    the read-only role's view of customer_facts shows every column)."""
    if not conn.execute(sa.text("SELECT to_regclass('customer_attribute_defs_new') IS NOT NULL")).scalar():
        return ()
    rows = conn.execute(
        sa.text("SELECT name FROM customer_attribute_defs_new WHERE scope = 'customer' AND NOT pii ORDER BY position")
    )
    return tuple(r[0] for r in rows)


def build_pair_times(engine: Engine) -> None:
    """customer_pair_times_new from events_new and event_vocabulary_new. Needs no index: the
    pipeline builds it while the events' indexes and customer_facts_new are built."""
    _build_times(engine, "customer_pair_times_new", PAIR_TIMES_SQL, "tp")


def build_type_times(engine: Engine) -> None:
    """customer_type_times_new from events_new and event_vocabulary_new, as the pair times."""
    _build_times(engine, "customer_type_times_new", TYPE_TIMES_SQL, "t")


EVENT_TIMES_SQL = """CREATE TABLE customer_event_times_new AS
    SELECT e.customer_id, array_agg(e.event_timestamp ORDER BY e.event_timestamp) AS ts,
           max(e.price) AS max_price, min(e.price) AS min_price
    FROM events_new e GROUP BY e.customer_id ORDER BY e.customer_id"""


def build_event_times(engine: Engine) -> None:
    """customer_event_times_new: one row per customer with all of its events, whatever their type
    (10 s at 1 M customers). Not rows of the type times: one more key there made every type's
    count read a third more of that table ("3+ views in 30 days" 265 → 587 ms at 1 M)."""
    _build_times(engine, "customer_event_times_new", EVENT_TIMES_SQL, None)


def build_color_times(engine: Engine) -> None:
    """customer_color_times_new from events_new and event_vocabulary_new, as the pair times."""
    _build_times(engine, "customer_color_times_new", COLOR_TIMES_SQL, "tc")


def build_any_type_color_times(engine: Engine) -> None:
    """customer_any_type_color_times_new from events_new and event_vocabulary_new, as the pair times."""
    _build_times(engine, "customer_any_type_color_times_new", ANY_TYPE_COLOR_TIMES_SQL, "c")


def _build_times(engine: Engine, table: str, sql: str, key: str | None) -> None:
    """`table` from its CREATE TABLE AS `sql`, keyed by (`key`, customer_id), or customer_id alone."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL work_mem = '96MB'"))  # as the facts: per sort and worker
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(sa.text(sql))
        conn.execute(sa.text(f"ALTER TABLE {table} ADD PRIMARY KEY ({f'{key}, ' if key else ''}customer_id)"))
        if key is not None:
            # The rows are in key order: a block range index (a few kB) lets the planner see that a
            # few keys' rows are a few contiguous pages (it costs the primary key's bitmap as if
            # they were spread over the table, and chose a 1 GB scan for two pairs at 1 M).
            conn.execute(sa.text(f"CREATE INDEX ON {table} USING brin ({key}) WITH (pages_per_range = 16)"))
    _vacuum(engine, table)


def _vacuum(engine: Engine, table: str) -> None:
    """Set hint bits and statistics now (~1 s at 1 M) rather than on the first questions after the swap."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM (ANALYZE) {table}"))
