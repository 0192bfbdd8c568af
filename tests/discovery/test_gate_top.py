"""The gate without an intent: its first customers in SQL order and its size, walked from the
order's index when every condition is on the customer's own row (discovery/gate_top.py).

Expected customers come from SQL written here over customers and events, not from the gate's tables."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cdp.db import get_engine, read_only
from cdp.schema import GATE_ORDERS
from discovery.gate_top import gate_top_sql
from discovery.pair_times import HALVES_SETTINGS
from discovery.query import AudienceQuery, Behaviour, CRMFilter, TimeWindow
from tests.conftest import SAMPLE_END

# The orders over the live tables, computed here from the events.
INDEPENDENT = """
SELECT c.customer_id FROM customers c
LEFT JOIN (SELECT customer_id, max(event_timestamp) AS la, count(*) FILTER (WHERE event_type = 'purchase') AS pu
           FROM events GROUP BY 1) e USING (customer_id)
WHERE {where} ORDER BY {order}"""
ORDERS = {
    "relevance": "c.total_spent DESC NULLS LAST, c.customer_id",
    "recent_activity": "e.la DESC NULLS LAST, c.customer_id",
    "purchases": "COALESCE(e.pu, 0) DESC, c.total_spent DESC NULLS LAST, c.customer_id",
    "age": "c.age, c.customer_id",
    "age_desc": "c.age DESC NULLS LAST, c.customer_id",
}


def _expected(settings, where: str, order_by: str) -> list[int]:
    with get_engine(settings).connect() as conn:
        return [r[0] for r in conn.execute(sa.text(INDEPENDENT.format(where=where, order=ORDERS[order_by])))]


def _over_events(settings, where: str) -> list[int]:
    """The gate's customers by `where` over customers and events (:since30, :since90 bound), in the spend order."""
    windows = {"since30": SAMPLE_END - timedelta(days=30), "since90": SAMPLE_END - timedelta(days=90)}
    with get_engine(settings).connect() as conn:
        sql = INDEPENDENT.format(where=where, order=ORDERS["relevance"])
        return [r[0] for r in conn.execute(sa.text(sql), windows)]


def _top(settings, q: AudienceQuery, walk: int | None = None, analyze: bool = False, split: int | None = None):
    compiled = gate_top_sql(q, SAMPLE_END, None, q.limit, walk=walk, split=split)
    with read_only(get_engine(settings), timeout_ms=30_000, planner=compiled.settings) as conn:
        if analyze:
            return "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN ANALYZE " + compiled.sql), compiled.params))
        rows = conn.execute(sa.text(compiled.sql), compiled.params).all()
    return [r.customer_id for r in rows], (rows[0].size if rows else 0)


def _answers_as_the_events(
    settings, q: AudienceQuery, where: str, walk: int | None = None, split: int | None = None
) -> None:
    """The gate's first 5 customers and its size equal `where` over customers and events."""
    expected = _over_events(settings, where)
    assert len(expected) > 5
    assert _top(settings, q, walk=walk, split=split) == (expected[:5], len(expected))


# (query, the same gate over customers and events)
CASES = [
    (CRMFilter(min_spent=300), "c.total_spent > 300"),  # broad, high in the spend order
    (CRMFilter(max_spent=150), "c.total_spent < 150"),  # at the bottom of the spend order
    (CRMFilter(countries=["DE", "FR"], min_age=30), "c.country IN ('DE', 'FR') AND c.age >= 30"),
    (CRMFilter(likes_luxury=True), "c.total_spent > 800"),  # the luxury threshold (Settings)
]


@pytest.mark.parametrize("order_by", sorted(ORDERS))
@pytest.mark.parametrize("crm, where", CASES)
@pytest.mark.parametrize("walk", [None, 3, 40, 100_000])
def test_the_first_customers_and_the_size_equal_sql_over_the_live_tables(sample_settings, crm, where, order_by, walk):
    expected = _expected(sample_settings, where, order_by)
    assert len(expected) > 12  # every case is larger than the page asked for
    ids, size = _top(sample_settings, AudienceQuery(crm=crm, order_by=order_by, limit=12), walk=walk)
    assert size == len(expected)
    assert ids == expected[:12]


def test_a_behaviour_on_the_customer_s_own_row_is_walked_and_gives_the_same_customers(sample_settings):
    q = AudienceQuery(behaviours=[Behaviour(event_types=["purchase"])], crm=CRMFilter(min_age=30), limit=7)
    expected = _expected(
        sample_settings, "c.age >= 30 AND EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id"
        " AND x.event_type = 'purchase')", "relevance",
    )  # fmt: skip
    assert "walked" in gate_top_sql(q, SAMPLE_END, None, q.limit).sql
    assert _top(sample_settings, q, walk=20) == (expected[:7], len(expected))
    assert _top(sample_settings, q) == (expected[:7], len(expected))


def test_a_gate_smaller_than_the_page_returns_all_of_it(sample_settings):
    expected = _expected(sample_settings, "c.total_spent > 300 AND c.country = 'DE' AND c.age < 25", "relevance")
    assert 0 < len(expected) < 50
    q = AudienceQuery(crm=CRMFilter(min_spent=300, countries=["DE"], max_age=24), limit=50)
    assert _top(sample_settings, q) == (expected, len(expected))


def test_a_broad_gate_is_counted_without_ranking_every_row_and_a_low_one_falls_back(sample_settings):
    """The plan, not the clock: a gate whose first customers are near the top of the order never
    runs the counted top-N sort; one whose customers sit at the bottom does."""
    broad = _top(sample_settings, AudienceQuery(crm=CRMFilter(min_spent=100), limit=10), analyze=True)
    low = _top(sample_settings, AudienceQuery(crm=CRMFilter(max_spent=150), limit=10), walk=40, analyze=True)
    window = "WindowAgg"
    assert window in broad and window in low
    broad_window = broad[broad.index(window) :].splitlines()[0]
    low_window = low[low.index(window) :].splitlines()[0]
    assert "never executed" in broad_window
    assert "never executed" not in low_window


TWO_PAIRS = Behaviour(event_types=["purchase"], products=["socks", "jacket"], window=TimeWindow(last=90), min_events=2)
ANY_TYPE_COLOURS = Behaviour(
    colors=["red", "blue"], window=TimeWindow(last=30), min_events=2
)  # a row per color, summed


def test_a_condition_summed_over_rows_or_read_from_the_events_beside_another_is_not_walked():
    """Its subquery is a pass of its own, which the walk and the count would both run. Alone, such a
    condition is walked (the tests below)."""
    colour_and_product = Behaviour(event_types=["view"], products=["socks"], colors=["red"], window=TimeWindow(last=30))
    for b in (TWO_PAIRS, ANY_TYPE_COLOURS, colour_and_product):
        q = AudienceQuery(behaviours=[b], crm=CRMFilter(min_age=30))
        assert "walked" not in gate_top_sql(q, SAMPLE_END, None, 20).sql
    assert "walked" not in gate_top_sql(AudienceQuery(), SAMPLE_END, "c.age > 30", 20).sql  # model-written SQL


SUMMED = [
    (TWO_PAIRS,
     "(SELECT count(*) FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'purchase'"
     " AND x.product IN ('socks', 'jacket') AND x.event_timestamp >= :since90) >= 2"),
    (ANY_TYPE_COLOURS,
     "(SELECT count(*) FROM events x WHERE x.customer_id = c.customer_id AND x.color IN ('red', 'blue')"
     " AND x.event_timestamp >= :since30) >= 2"),
]  # fmt: skip


@pytest.mark.parametrize("walk", [None, 3])
@pytest.mark.parametrize("behaviour, where", SUMMED)
def test_a_lone_summed_condition_is_walked_by_a_per_customer_sum_and_counted_by_its_groups(
    sample_settings, behaviour, where, walk
):
    q = AudienceQuery(behaviours=[behaviour], limit=5)
    sql = gate_top_sql(q, SAMPLE_END, None, q.limit).sql
    assert "walked" in sql
    walked = sql[: sql.index(") SELECT c.customer_id, size")]
    assert "GROUP BY" not in walked and "SELECT sum(" in walked  # a sum per customer, not a pass over every row
    _answers_as_the_events(sample_settings, q, where, walk)


def _median_customer(settings) -> int:
    with get_engine(settings).connect() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT customer_id FROM customers ORDER BY customer_id"))]
    return ids[len(ids) // 2]


@pytest.mark.parametrize("split", ["median", "a member's id", "below every id", "above every id"])
@pytest.mark.parametrize("behaviour, where", SUMMED)
def test_a_lone_summed_condition_counted_in_two_halves_gives_the_same_size(sample_settings, behaviour, where, split):
    """With the population's median id the count runs as two halves of the customers side by side (the planner
    setting that lets it travels with the statement); wherever the split falls, the size is the events'."""
    member = sorted(_over_events(sample_settings, where))[len(_over_events(sample_settings, where)) // 3]
    at = {"median": _median_customer(sample_settings), "a member's id": member}.get(split)  # the halves' boundary
    at = at if at is not None else {"below every id": -(2**62), "above every id": 2**62}[split]
    q = AudienceQuery(behaviours=[behaviour], limit=5)
    compiled = gate_top_sql(q, SAMPLE_END, None, q.limit, split=at)
    assert ":gate_split" in compiled.sql and compiled.params["gate_split"] == at
    assert compiled.settings == HALVES_SETTINGS
    assert gate_top_sql(q, SAMPLE_END, None, q.limit).settings == {}  # without a split: one pass, no setting
    _answers_as_the_events(sample_settings, q, where, split=at)
    _answers_as_the_events(sample_settings, q, where, walk=3, split=at)


def test_a_probe_of_one_row_is_not_split(sample_settings):
    """A lone probe (one key, or N = 1) is a count of rows, with nothing to group: the split changes nothing."""
    q = AudienceQuery(behaviours=[PROBED[0][0]], limit=5)
    assert gate_top_sql(q, SAMPLE_END, None, 5, split=_median_customer(sample_settings)) == gate_top_sql(
        q, SAMPLE_END, None, 5
    )


# (behaviour, the same over the events: one probe of the customer's pair or type rows)
PROBED = [
    (Behaviour(event_types=["view"], window=TimeWindow(last=30), min_events=3),
     "(SELECT count(*) FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'view'"
     " AND x.event_timestamp >= :since30) >= 3"),
    (Behaviour(event_types=["purchase"], min_price=100),
     "EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'purchase'"
     " AND x.price >= 100)"),
    (Behaviour(window=TimeWindow(last=30), min_events=4),
     "(SELECT count(*) FROM events x WHERE x.customer_id = c.customer_id AND x.event_timestamp >= :since30) >= 4"),
    (Behaviour(colors=["red"], window=TimeWindow(last=30)),
     "EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.color = 'red'"
     " AND x.event_timestamp >= :since30)"),
    (Behaviour(colors=["red", "blue"], window=TimeWindow(last=30)),
     "EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.color IN ('red', 'blue')"
     " AND x.event_timestamp >= :since30)"),
    (Behaviour(event_types=["purchase"], colors=["red"], min_events=2),
     "(SELECT count(*) FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'purchase'"
     " AND x.color = 'red') >= 2"),
    (Behaviour(event_types=["add_to_cart"], products=["socks"], window=TimeWindow(last=90)),
     "EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'add_to_cart'"
     " AND x.product = 'socks' AND x.event_timestamp >= :since90)"),
]  # fmt: skip


@pytest.mark.parametrize("walk", [None, 3])
@pytest.mark.parametrize("behaviour, where", PROBED)
def test_one_probe_of_the_pair_or_type_rows_is_walked_and_gives_the_same_customers(
    sample_settings, behaviour, where, walk
):
    q = AudienceQuery(behaviours=[behaviour], limit=5)
    assert "walked" in gate_top_sql(q, SAMPLE_END, None, q.limit).sql
    _answers_as_the_events(sample_settings, q, where, walk)


def test_every_order_has_its_index_on_the_gate_s_table(sample_settings):
    with get_engine(sample_settings).connect() as conn:
        defs = [
            r[0] for r in conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'customer_facts'"))
        ]
    for columns in GATE_ORDERS.values():
        assert any(f"({columns})" in d for d in defs), (columns, defs)


@pytest.mark.parametrize("behaviour, where", PROBED[:5])
def test_a_lone_probe_is_counted_from_its_rows_and_with_a_crm_condition_from_the_customers(
    sample_settings, behaviour, where
):
    """One probe of one key (3+ views, red of any type), of the customer's one row of all events (4+ in 30
    days) or of several keys (red or blue of any type: distinct customers) is counted straight from the times rows;
    with a CRM condition beside it the count joins the customers. Both equal SQL over the events."""
    for crm, crm_where in ((CRMFilter(), "TRUE"), (CRMFilter(min_age=30), "c.age >= 30")):
        q = AudienceQuery(behaviours=[behaviour], crm=crm, limit=5)
        sql = gate_top_sql(q, SAMPLE_END, None, q.limit).sql
        size_sql = sql[sql.index("SELECT c.*, (") : sql.index(") AS size FROM walked")]
        assert ("FROM customer_facts" in size_sql) == (crm_where != "TRUE"), size_sql
        _answers_as_the_events(sample_settings, q, f"{crm_where} AND {where}")


EVENTS_ONLY = [
    (Behaviour(event_types=["purchase"], min_price=100, window=TimeWindow(last=90)),  # a price in a window
     "EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'purchase'"
     " AND x.price >= 100 AND x.event_timestamp >= :since90)"),
    (Behaviour(products=["socks"], window=TimeWindow(last=90), min_events=2),  # a product of any type, N > 1
     "(SELECT count(*) FROM events x WHERE x.customer_id = c.customer_id AND x.product = 'socks'"
     " AND x.event_timestamp >= :since90) >= 2"),
]  # fmt: skip


@pytest.mark.parametrize("walk", [None, 3])
@pytest.mark.parametrize("behaviour, where", EVENTS_ONLY)
def test_a_lone_condition_on_the_events_is_walked_and_counted_by_its_customers(sample_settings, behaviour, where, walk):
    """Alone, a behaviour the events answer is tested per customer and counted by the distinct customers of
    its events; beside a CRM condition it is neither. Both equal SQL over the events."""
    q = AudienceQuery(behaviours=[behaviour], limit=5)
    sql = gate_top_sql(q, SAMPLE_END, None, q.limit).sql
    assert (
        "walked" in sql
        and "FROM customer_facts c WHERE" not in sql[sql.index("SELECT c.*, (") : sql.index(") AS size")]
    )
    beside = AudienceQuery(behaviours=[behaviour], crm=CRMFilter(min_age=30), limit=5)
    assert "walked" not in gate_top_sql(beside, SAMPLE_END, None, beside.limit).sql
    for query, crm_where in ((q, "TRUE"), (beside, "c.age >= 30")):
        _answers_as_the_events(sample_settings, query, f"{crm_where} AND {where}", walk)
