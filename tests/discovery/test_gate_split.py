"""A large population's summed counts run as two halves of the customers side by side: the catalogue holds the
median customer id, the engine passes it to the gate and runs the statement with the planner setting it carries
(cdp.db.read_only), and the gate's customers and size are the same as in one pass."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from cdp.db import get_engine, read_only
from discovery.catalogue import SPLIT_MIN, _median_id, load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery, Behaviour, TimeWindow
from tests.conftest import SAMPLE_END

SUMMED = AudienceQuery(
    behaviours=[Behaviour(event_types=["purchase"], colors=["red", "blue"], window=TimeWindow(last=90), min_events=2)],
    limit=5,
)


def _ids(settings) -> list[int]:
    with get_engine(settings).connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT customer_id FROM customers ORDER BY customer_id"))]


def test_the_catalogue_holds_the_median_id_only_for_a_large_population(sample_settings):
    engine = get_engine(sample_settings)
    ids = _ids(sample_settings)
    with engine.connect() as conn:
        assert _median_id(conn, len(ids)) == ids[len(ids) // 2]
    catalogue = load_catalogue(engine)
    assert catalogue.customers == len(ids) < SPLIT_MIN
    assert catalogue.split_id is None  # 600 customers: starting two processes would cost what it saves


def test_the_engine_counts_in_halves_with_the_median_and_answers_as_in_one_pass(sample_settings):
    engine = get_engine(sample_settings)
    plain = DiscoveryEngine(sample_settings, engine, None, None, load_catalogue(engine))
    ids = _ids(sample_settings)
    split = DiscoveryEngine(sample_settings, engine, None, None, replace(plain.catalogue, split_id=ids[len(ids) // 2]))
    recipe_plain: list[str] = []
    recipe_split: list[str] = []
    one_pass = plain.gate(SUMMED, SAMPLE_END, recipe=recipe_plain)
    halves = split.gate(SUMMED, SAMPLE_END, recipe=recipe_split)
    assert one_pass.size > 5
    assert (halves.size, halves.ids) == (one_pass.size, one_pass.ids)
    assert "customer_id < " in recipe_split[0] and "customer_id < " not in recipe_plain[0]


def test_read_only_applies_a_statement_s_planner_cost_setting_and_refuses_anything_else(sample_settings):
    engine = get_engine(sample_settings)
    with read_only(engine, timeout_ms=5_000, planner={"parallel_tuple_cost": "0"}) as conn:
        assert conn.execute(sa.text("SHOW parallel_tuple_cost")).scalar() == "0"
    with read_only(engine, timeout_ms=5_000) as conn:  # set for that transaction only
        assert conn.execute(sa.text("SHOW parallel_tuple_cost")).scalar() == "0.1"
    for bad in ({"work_mem": "1"}, {"parallel_tuple_cost": "0; SET ROLE postgres"}, {"x = 1; --_cost": "0"}):
        with (
            pytest.raises(ValueError, match="not a planner cost setting"),
            read_only(engine, timeout_ms=5_000, planner=bad),
        ):
            pass
