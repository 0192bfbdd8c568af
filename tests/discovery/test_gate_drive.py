"""An intent's gate driven from a behaviour's own rows (discovery/gate_drive.py): whichever branch runs,
its size and ids are the customers SQL written here over customers and events selects, and the branch that
runs is the one the rows' count asks for."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cdp.db import get_engine, read_only
from discovery import compile as c
from discovery.gate_drive import intent_gate_sql
from discovery.query import AudienceQuery, Behaviour, CRMFilter, TimeWindow
from tests.conftest import SAMPLE_END
from tests.discovery.test_hybrid import _engine

INTENT = "likes the outdoors"
LAST_30 = TimeWindow(last=30)
# (gate conditions, the same over customers and events: :since30 bound)
CASES = [
    (  # carted socks in 30 days, never bought socks: a (type, product) row
        AudienceQuery(
            intent=INTENT,
            behaviours=[
                Behaviour(event_types=["add_to_cart"], products=["socks"], window=LAST_30),
                Behaviour(event_types=["purchase"], products=["socks"], negate=True),
            ],
        ),
        "EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'add_to_cart'"
        " AND x.product = 'socks' AND x.event_timestamp >= :since30) AND NOT EXISTS (SELECT 1 FROM events x"
        " WHERE x.customer_id = c.customer_id AND x.event_type = 'purchase' AND x.product = 'socks')",
    ),
    (  # aged 30+ who viewed red in 30 days: a (type, color) row beside a CRM condition
        AudienceQuery(
            intent=INTENT,
            crm=CRMFilter(min_age=30),
            behaviours=[Behaviour(event_types=["view"], colors=["red"], window=LAST_30)],
        ),
        "c.age >= 30 AND EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id"
        " AND x.event_type = 'view' AND x.color = 'red' AND x.event_timestamp >= :since30)",
    ),
    (  # 2+ events on red of any type in 30 days, not from DE: a color's row over every type, N > 1
        AudienceQuery(
            intent=INTENT,
            crm=CRMFilter(exclude_countries=["DE"]),
            behaviours=[Behaviour(colors=["red"], window=LAST_30, min_events=2)],
        ),
        "c.country <> 'DE' AND (SELECT count(*) FROM events x WHERE x.customer_id = c.customer_id"
        " AND x.color = 'red' AND x.event_timestamp >= :since30) >= 2",
    ),
    (  # a purchase over 150, behind a behaviour the facts row answers: the type's row is still found
        AudienceQuery(
            intent=INTENT,
            behaviours=[
                Behaviour(event_types=["view"]),
                Behaviour(event_types=["purchase"], min_price=150),
            ],
        ),
        "EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'view')"
        " AND EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id AND x.event_type = 'purchase'"
        " AND x.price >= 150)",
    ),
]


def _over_events(settings, where: str) -> set[int]:
    with get_engine(settings).connect() as conn:
        sql = f"SELECT c.customer_id FROM customers c WHERE {where}"
        return {r[0] for r in conn.execute(sa.text(sql), {"since30": SAMPLE_END - timedelta(days=30)})}


def _run(settings, compiled: c.CompiledSQL, analyze: bool = False):
    with read_only(get_engine(settings), timeout_ms=30_000) as conn:
        if analyze:
            return "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN ANALYZE " + compiled.sql), compiled.params))
        return conn.execute(sa.text(compiled.sql), compiled.params).one()


@pytest.mark.parametrize("q, where", CASES)
def test_both_branches_give_the_customers_of_sql_over_the_events(sample_settings, q, where):
    expected = _over_events(sample_settings, where)
    assert 5 < len(expected) < 300  # a gate that tells customers apart
    for drive in (10_000, 0):  # driven (every passing row fits), then the plain pass
        compiled = intent_gate_sql(q, SAMPLE_END, None, 1_000, 600, drive)
        size, ids = _run(sample_settings, compiled)
        assert size == len(expected) and set(ids) == expected, drive
        plan = _run(sample_settings, compiled, analyze=True)
        scans = [line for line in plan.splitlines() if "Seq Scan on customer_facts" in line]
        assert scans and all(("never executed" in line) == (drive > 0) for line in scans), plan
    capped = intent_gate_sql(q, SAMPLE_END, None, 3, 600, 10_000)  # the ids capped, the size whole
    size, ids = _run(sample_settings, capped)
    assert size == len(expected) and len(ids) == 3 and set(ids) <= expected


def test_a_gate_without_a_single_row_behaviour_is_the_plain_pass():
    """Negated, summed over two keys, every event of the customer, or beside model-written SQL: not driven."""
    plain = [
        AudienceQuery(intent=INTENT, behaviours=[Behaviour(event_types=["view"], products=["socks"], window=LAST_30, negate=True)]),
        AudienceQuery(intent=INTENT, behaviours=[Behaviour(colors=["red", "blue"], window=LAST_30, min_events=2)]),
        AudienceQuery(intent=INTENT, behaviours=[Behaviour(window=LAST_30, min_events=4)]),
        AudienceQuery(intent=INTENT, crm=CRMFilter(min_age=30)),
    ]  # fmt: skip
    for q in plain:
        assert intent_gate_sql(q, SAMPLE_END, None, 100, 600) == c.gate_sample_sql(q, SAMPLE_END, None, 100)
    driven = AudienceQuery(intent=INTENT, behaviours=[Behaviour(colors=["red"], window=LAST_30)])
    assert "WITH driving" in intent_gate_sql(driven, SAMPLE_END, None, 100, 600).sql
    model_sql = intent_gate_sql(driven, SAMPLE_END, "c.age > 30", 100, 600)
    assert model_sql == c.gate_sample_sql(driven, SAMPLE_END, "c.age > 30", 100)


def test_the_engine_s_gate_with_an_intent_runs_the_driven_form(sample_settings):
    """DiscoveryEngine.gate, as a question runs it: the driven form for a gate this small, the same customers."""
    q, where = CASES[0]
    recipe: list[str] = []
    gate = _engine(sample_settings).gate(q, SAMPLE_END, recipe=recipe)
    expected = _over_events(sample_settings, where)
    assert gate.size == len(expected) and set(gate.ids or []) == expected
    assert len(recipe) == 1 and recipe[0].startswith("WITH driving")
