"""customer_color_times (per (event type, color) and customer: ascending timestamps, highest and
lowest price), customer_any_type_color_times (the same per color, whatever the type) and the any-type
windows over customer_event_times: each gate kind they answer
selects exactly the customers a direct query over the events selects, on data where colors and
prices are sometimes empty (NULL) and events sit on the windows' microsecond edges, and its SQL
reads no events table."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from cdp.db import get_engine
from discovery.compile import facts_kind, gate_sql
from discovery.query import AudienceQuery, Behaviour, TimeWindow
from ingest.sample import generate
from tests.conftest import SAMPLE_END, loaded_database
from tests.discovery.test_hybrid import _engine, _events_sql

EDGE_CUSTOMER = 7
# The edge customer's only events: red views on both sides of the 2026-05-31 / 2026-06-01
# midnight (an end date's bound) and of SAMPLE_END − 30 days to the microsecond (the start of
# "the last 30 days"), and one red purchase inside each of those windows, so that a sum over the
# (type, color) rows needs the view exactly at a bound.
EDGES = (
    datetime(2026, 5, 31, 23, 59, 59, 999999),
    datetime(2026, 6, 1),
    SAMPLE_END - timedelta(days=30),
    SAMPLE_END - timedelta(days=30, microseconds=1),
)
PURCHASES = (datetime(2026, 5, 15), SAMPLE_END - timedelta(days=1))


@pytest.fixture(scope="module")
def null_settings(pg_server_url, tmp_path_factory):
    """600 synthetic customers whose every 6th event has no color, every 7th no product and every
    11th no price; the edge customer's events are EDGES and PURCHASES only."""
    files = generate(tmp_path_factory.mktemp("colors600"), 600, 10, seed=11, end=SAMPLE_END)
    header, *rows = files.events.read_text().splitlines()
    out = []
    for row in rows:
        event_id, customer, event_type, product, color, price, ts = row.split(",")
        if int(customer) == EDGE_CUSTOMER:
            continue
        color = "" if int(event_id) % 6 == 0 else color
        product = "" if int(event_id) % 7 == 0 else product
        price = "" if int(event_id) % 11 == 0 else price
        out.append(",".join((event_id, customer, event_type, product, color, price, ts)))
    last_id = int(rows[-1].split(",")[0])
    edge_events = [("view", ts) for ts in EDGES] + [("purchase", ts) for ts in PURCHASES]
    for k, (event_type, ts) in enumerate(edge_events, start=1):
        out.append(f"{last_id + k},{EDGE_CUSTOMER},{event_type},socks,red,12.5,{ts:%Y-%m-%d %H:%M:%S.%f}")
    files.events.write_text("\n".join([header, *out]) + "\n")
    with loaded_database(pg_server_url, tmp_path_factory.mktemp("stores"), files.crm, files.events) as settings:
        yield settings


def _ids(settings, sql: str, params: dict | None = None) -> set[int]:
    with get_engine(settings).connect() as conn:
        return {r[0] for r in conn.execute(sa.text(sql), params or {})}


@pytest.mark.parametrize(
    ("table", "bit", "field", "by_type"),
    [
        ("customer_color_times", "tc_bit", "color", "event_type"),
        ("customer_pair_times", "tp_bit", "product", "event_type"),
        ("customer_any_type_color_times", "color_id", "color", None),
    ],
)
def test_the_color_and_pair_rows_are_the_events_grouped_by_their_key(null_settings, table, bit, field, by_type):
    """Each row holds its (type, color) / (type, product) / color's events' timestamps ascending and
    their highest and lowest price; events without a color / product have no row, every other is in one."""
    on = f"v.{field} = e.{field}" + (f" AND v.{by_type} = e.{by_type}" if by_type else "")
    with get_engine(null_settings).connect() as conn:
        nulls = conn.execute(sa.text(f"SELECT count(*) FROM events WHERE {field} IS NULL")).scalar()
        diff = conn.execute(
            sa.text(
                f"""WITH direct AS (
                       SELECT v.{bit}, e.customer_id,
                              array_agg(e.event_timestamp ORDER BY e.event_timestamp) AS ts,
                              max(e.price) AS max_price, min(e.price) AS min_price
                       FROM events e
                       JOIN (SELECT DISTINCT {by_type + ", " if by_type else ""}{field}, {bit} FROM event_vocabulary) v ON {on}
                       GROUP BY 1, 2)
                   SELECT count(*) FROM (
                       (SELECT * FROM direct EXCEPT ALL SELECT * FROM {table})
                       UNION ALL
                       (SELECT * FROM {table} EXCEPT ALL SELECT * FROM direct)) d"""
            )
        ).scalar()
        kept = conn.execute(sa.text(f"SELECT count(*) FROM events WHERE {field} IS NOT NULL")).scalar()
        stored = conn.execute(sa.text(f"SELECT sum(cardinality(ts)) FROM {table}")).scalar()
    assert nulls > 0 and diff == 0 and stored == kept


def test_the_event_times_hold_every_event_of_each_customer(null_settings):
    """One row per customer with events: all its timestamps ascending (whatever the type, product or
    color, NULL or not), and its highest and lowest price."""
    with get_engine(null_settings).connect() as conn:
        diff = conn.execute(
            sa.text(
                """WITH direct AS (
                       SELECT customer_id, array_agg(event_timestamp ORDER BY event_timestamp) AS ts,
                              max(price) AS max_price, min(price) AS min_price
                       FROM events GROUP BY 1)
                   SELECT count(*) FROM (
                       (SELECT * FROM direct EXCEPT ALL SELECT * FROM customer_event_times)
                       UNION ALL
                       (SELECT * FROM customer_event_times EXCEPT ALL SELECT * FROM direct)) d"""
            )
        ).scalar()
        rows, customers = conn.execute(
            sa.text("SELECT count(*), (SELECT count(DISTINCT customer_id) FROM events) FROM customer_event_times")
        ).one()
    assert diff == 0 and rows == customers > 500


COLOR_CASES = [
    ("color_times", [Behaviour(colors=["red"], window=TimeWindow(last=30))]),
    ("color_times", [Behaviour(event_types=["view"], colors=["red"], window=TimeWindow(last=30))]),
    ("color_times", [Behaviour(event_types=["purchase"], colors=["red"], min_events=2)]),
    ("color_times", [Behaviour(event_types=["purchase"], colors=["red"], min_events=2, negate=True)]),
    (
        "color_times",
        [Behaviour(event_types=["purchase"], colors=["red", "blue"], window=TimeWindow(last=90), min_events=2)],
    ),
    ("color_times", [Behaviour(colors=["red"], window=TimeWindow(last=90), min_events=3)]),
    ("color_times", [Behaviour(colors=["red", "blue"], min_events=4)]),
    ("color_times", [Behaviour(colors=["black"], min_events=2, negate=True)]),
    ("color_times", [Behaviour(event_types=["purchase"], colors=["red"], min_price=100)]),
    ("color_times", [Behaviour(event_types=["view", "add_to_cart"], colors=["blue"], max_price=30)]),
    ("color_times", [Behaviour(colors=["red"], min_price=150, negate=True)]),
    ("color_times", [Behaviour(event_types=["purchase"], colors=["red"], window=TimeWindow(last=60), negate=True)]),
    ("color_times", [Behaviour(colors=["red"], window=TimeWindow(start=date(2026, 6, 1), end=date(2026, 8, 31)))]),
    ("color_times", [Behaviour(event_types=["view"], colors=["red"], window=TimeWindow(end=date(2026, 5, 31)))]),
    (
        "color_times",
        [
            Behaviour(
                event_types=["view", "purchase"],
                colors=["red", "blue"],
                window=TimeWindow(start=date(2026, 5, 1), end=date(2026, 9, 30)),
                min_events=3,
            )
        ],
    ),
    ("color_times", [Behaviour(colors=["no-such-color"], window=TimeWindow(last=30))]),
    ("color_times", [Behaviour(event_types=["no-such-type"], colors=["red"], min_events=2, negate=True)]),
    # any type: the customer's row of customer_event_times (all of its events): windows, N+, prices
    ("any_type_times", [Behaviour(window=TimeWindow(last=30), min_events=4)]),
    ("any_type_times", [Behaviour(window=TimeWindow(last=30), min_events=3, negate=True)]),
    ("any_type_times", [Behaviour(min_events=12)]),
    ("any_type_times", [Behaviour(min_price=180)]),
    ("any_type_times", [Behaviour(max_price=20, negate=True)]),
    ("any_type_times", [Behaviour(window=TimeWindow(start=date(2026, 6, 1), end=date(2026, 8, 31)))]),
    ("any_type_times", [Behaviour(window=TimeWindow(end=date(2026, 5, 31)), negate=True)]),
    ("any_type_times", [Behaviour(window=TimeWindow(start=date(2026, 5, 1), end=date(2026, 9, 30)), min_events=5)]),
    # (type, product) pairs, with products sometimes NULL
    ("times", [Behaviour(event_types=["view"], products=["watch"], window=TimeWindow(last=120), min_events=2)]),
    (
        "times",
        [
            Behaviour(
                event_types=["add_to_cart", "view"],
                products=["jacket", "shoes"],
                window=TimeWindow(start=date(2026, 6, 1)),
                min_events=3,
            )
        ],
    ),
    ("times", [Behaviour(event_types=["purchase"], products=["watch"], max_price=300)]),
    # still the events: a color with a product, too many (type, color) pairs
    ("events", [Behaviour(colors=["red"], products=["socks"], window=TimeWindow(last=30))]),
    (
        "events",
        [
            Behaviour(
                event_types=["view", "purchase", "add_to_cart"], colors=["red", "blue"], window=TimeWindow(last=30)
            )
        ],
    ),
]


TABLES = {
    "color_times": "customer_color_times",
    "any_type_times": "customer_event_times",
    "times": "customer_pair_times",
}


def _table(kind: str, behaviours: list[Behaviour]) -> str:
    """The times table a case reads: a color's without a type named is its row over every type."""
    any_type = kind == "color_times" and not behaviours[0].event_types
    return "customer_any_type_color_times" if any_type else TABLES[kind]


@pytest.mark.parametrize(("kind", "behaviours"), COLOR_CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(COLOR_CASES)])
def test_the_color_and_any_type_rows_match_the_events(null_settings, kind, behaviours):
    assert [facts_kind(b) or "events" for b in behaviours] == [kind] * len(behaviours)
    compiled = gate_sql(AudienceQuery(behaviours=behaviours, limit=1000), SAMPLE_END)
    reads_events = re.search(r"\bevents\b", compiled.sql) is not None
    assert reads_events == (kind == "events")
    if kind != "events":
        tables = set(re.findall(r"\bcustomer_\w+_times\b", compiled.sql))
        assert tables == {_table(kind, behaviours)}
    gate = _ids(null_settings, compiled.sql, compiled.params)
    independent = " AND ".join(_events_sql(b, SAMPLE_END) for b in behaviours)
    expected = _ids(null_settings, f"SELECT customer_id FROM customers c WHERE {independent}")
    assert gate == expected
    if "no-such-" not in str(behaviours):
        assert 0 < len(expected) < 600  # the case tells customers apart


@pytest.mark.parametrize(
    ("window", "edges_inside"),
    [
        (TimeWindow(end=date(2026, 5, 31)), 1),  # 23:59:59.999999 counts, midnight does not
        (TimeWindow(start=date(2026, 6, 1), end=date(2026, 6, 30)), 1),  # midnight counts
        (TimeWindow(last=30), 1),  # SAMPLE_END − 30 days counts, one microsecond earlier does not
    ],
)
@pytest.mark.parametrize("event_types", [[], ["view"]])
def test_events_on_a_window_s_microsecond_edges_count_as_over_the_events(
    null_settings, window, edges_inside, event_types
):
    """The edge customer's red views on each side of a bound: the color rows count the one inside
    as the events' SQL does, alone (a view) and summed with a purchase (any type), for N = 1 to
    one above the customer's count."""
    since, until = window.bounds(SAMPLE_END)
    assert sum((since is None or t >= since) and (until is None or t < until) for t in EDGES) == edges_inside
    for n in (1, 2, 3):
        for negate in (False, True):
            b = Behaviour(event_types=event_types, colors=["red"], window=window, min_events=n, negate=negate)
            assert facts_kind(b) == "color_times"
            compiled = gate_sql(AudienceQuery(behaviours=[b], limit=1000), SAMPLE_END)
            gate = _ids(null_settings, compiled.sql, compiled.params)
            expected = _ids(null_settings, f"SELECT customer_id FROM customers c WHERE {_events_sql(b, SAMPLE_END)}")
            assert gate == expected
            with get_engine(null_settings).connect() as conn:
                count = conn.execute(
                    sa.text(f"SELECT count(*) FROM events e WHERE {_conds(b, SAMPLE_END)}"), {"c": EDGE_CUSTOMER}
                ).scalar()
            assert (EDGE_CUSTOMER in gate) == ((count >= n) != negate)


def _conds(b: Behaviour, now: datetime) -> str:
    """The edge customer's events matching `b` (types, colors, window), for its own count."""
    sql = _events_sql(b.model_copy(update={"negate": False, "min_events": 1}), now)
    inner = re.search(r"WHERE (.*)\) >= 1$", sql).group(1)
    return inner.replace("e.customer_id = c.customer_id", "e.customer_id = :c")


def test_a_color_question_runs_through_the_read_only_engine(null_settings):
    """The bot's path (the read-only role and its views): the color and event rows are granted to it."""
    q = AudienceQuery(
        behaviours=[
            Behaviour(colors=["red"], window=TimeWindow(last=60), min_events=2),
            Behaviour(window=TimeWindow(start=date(2026, 6, 1), end=date(2026, 9, 30))),
        ],
        limit=1000,
    )
    seg = _engine(null_settings).hybrid(q, now=SAMPLE_END)
    independent = " AND ".join(_events_sql(b, SAMPLE_END) for b in q.behaviours)
    expected = _ids(null_settings, f"SELECT customer_id FROM customers c WHERE {independent}")
    assert expected and {c.customer_id for c in seg.customers} == expected
    assert any("customer_any_type_color_times" in s for s in seg.sql) and any(
        "customer_event_times" in s for s in seg.sql
    )
