"""Hybrid discovery on real stores: the gate holds for every customer (checked with
independent SQL), ranking is restricted to the gate, luxury intent ranks luxury first."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from cdp.db import get_engine
from cdp.embedder import get_embedder
from cdp.vectors import get_qdrant
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery, Behaviour, CRMFilter, TimeWindow
from tests.conftest import SAMPLE_END


def _engine(settings) -> DiscoveryEngine:
    engine = get_engine(settings)
    return DiscoveryEngine(
        settings, engine, get_qdrant(settings), get_embedder(settings.embedding_model), load_catalogue(engine)
    )


def _independent_gate(settings, sql: str, params: dict) -> set[int]:
    with get_engine(settings).connect() as conn:
        return {r[0] for r in conn.execute(sa.text(sql), params)}


def test_every_returned_customer_satisfies_the_gate(seed_settings):
    de = _engine(seed_settings)
    q = AudienceQuery(
        behaviours=[Behaviour(event_types=["purchase"], products=["socks"], colors=["red"])],
        crm=CRMFilter(countries=["DE", "PL"], min_spent=500),
        intent="luxury fashion",
        limit=1000,
    )
    seg = de.hybrid(q)

    expected = _independent_gate(
        seed_settings,
        """SELECT DISTINCT c.customer_id FROM customers c JOIN events e USING (customer_id)
           WHERE e.event_type = 'purchase' AND e.product = 'socks' AND e.color = 'red'
             AND c.country IN ('DE', 'PL') AND c.total_spent > 500""",
        {},
    )
    got = {c.customer_id for c in seg.customers}
    assert expected and got == expected
    assert seg.funnel.after_gate == len(expected) and seg.funnel.population == 500
    assert seg.funnel.returned == len(got)
    scores = [c.score for c in seg.customers]
    assert scores == sorted(scores, reverse=True)
    assert all(c.why and "purchase of red socks" in c.why for c in seg.customers)


def test_luxury_intent_ranks_luxury_customers_first(seed_settings):
    de = _engine(seed_settings)
    seg = de.hybrid(AudienceQuery(intent="luxury high-end premium customers", limit=20))
    assert (seg.funnel.after_gate, seg.funnel.after_semantic, seg.funnel.returned) == (500, 500, 20)
    assert not any("SELECT c.customer_id FROM" in s for s in seg.sql)  # no condition: no gate to fetch
    top = seg.customers[:10]
    assert sum(c.likes_luxury for c in top) >= 8


def test_ranking_is_restricted_to_the_gate(seed_settings):
    de = _engine(seed_settings)
    q = AudienceQuery(crm=CRMFilter(countries=["AT"], likes_luxury=False), intent="luxury", limit=50)
    seg = de.hybrid(q)
    assert seg.customers and all(c.country == "AT" and not c.likes_luxury for c in seg.customers)


def test_empty_gate_says_why_and_how_old_the_data_is(seed_settings):
    de = _engine(seed_settings)
    q = AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], window=TimeWindow(last=60))], intent="luxury")
    seg = de.hybrid(q, now=datetime(2026, 11, 23))
    assert seg.customers == [] and seg.funnel.after_gate == 0 and seg.funnel.after_semantic == 0
    assert "2026-02-19" in seg.notes[0] and "days old" in seg.notes[0]
    assert seg.embedding_tokens == 0  # the vector search was skipped


def test_time_windows_and_negation_on_recent_data(sample_settings):
    de = _engine(sample_settings)
    now = SAMPLE_END
    q = AudienceQuery(
        behaviours=[
            Behaviour(event_types=["purchase"], window=TimeWindow(last=30, unit="days")),
            Behaviour(event_types=["purchase"], products=["socks"], negate=True),
        ],
        limit=1000,
    )
    seg = de.hybrid(q, now=now)
    expected = _independent_gate(
        sample_settings,
        """SELECT customer_id FROM customers c
           WHERE EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.event_type = 'purchase'
                         AND e.event_timestamp >= :since)
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.event_type = 'purchase'
                             AND e.product = 'socks')""",
        {"since": datetime(2026, 10, 2, 12, 0, 0)},
    )
    assert expected and {c.customer_id for c in seg.customers} == expected


@pytest.mark.parametrize("min_events", [2, 3])
def test_repeat_counts(sample_settings, min_events):
    de = _engine(sample_settings)
    q = AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], min_events=min_events)], limit=1000)
    seg = de.hybrid(q, now=SAMPLE_END)
    expected = _independent_gate(
        sample_settings,
        "SELECT customer_id FROM events WHERE event_type = 'purchase' GROUP BY 1 HAVING count(*) >= :n",
        {"n": min_events},
    )
    assert {c.customer_id for c in seg.customers} == expected


def test_semantic_search_through_llamaindex_with_crm_filters(seed_settings):
    de = _engine(seed_settings)
    seg = de.semantic("luxury items", CRMFilter(countries=["PL"]), limit=15)
    assert len(seg.customers) == 15 and all(c.country == "PL" for c in seg.customers)
    assert sum(c.likes_luxury for c in seg.customers) >= 12
    assert seg.embedding_tokens > 0


def test_unrestricted_ranking_equals_exact_scoring_of_every_customer(seed_settings):
    de = _engine(seed_settings)
    ids = list(range(1, 501))
    fast, fast_scores, _ = de.rank(ids, "luxury red fashion", top=15, everyone=True)
    exact, exact_scores, _ = de.rank(ids, "luxury red fashion", top=15)
    assert fast[:15] == exact[:15]
    assert all(abs(fast_scores[i] - exact_scores[i]) < 1e-4 for i in fast[:15])


def test_the_in_memory_matrix_ranks_a_gate_exactly_as_qdrant_does(seed_settings):
    from qdrant_client import models

    de = _engine(seed_settings)
    gate = list(range(3, 500, 3)) + [10_000_001]  # an id without a vector is simply not ranked
    ranked, scores, _ = de.rank(gate, "outdoor hiking gear", top=20)  # local mode: the matrix
    qv = de.embedder.embed_one("outdoor hiking gear").tolist()
    res = de.qdrant.query_points(
        seed_settings.qdrant_collection,
        query=qv,
        query_filter=models.Filter(must=[models.HasIdCondition(has_id=gate)]),
        limit=len(gate),
    )
    assert ranked[:20] == [int(p.id) for p in res.points][:20] and len(scores) == len(gate) - 1
    assert all(abs(scores[int(p.id)] - p.score) < 1e-4 for p in res.points)
    by_id = DiscoveryEngine(
        seed_settings.model_copy(update={"vector_matrix_max_points": 0}),
        de.engine, de.qdrant, de.embedder, de.catalogue,
    )  # fmt: skip
    assert by_id.rank(gate, "outdoor hiking gear", top=20)[0][:20] == ranked[:20]  # vectors fetched by id


def test_a_new_snapshot_rebuilds_the_matrix(seed_settings):
    from dataclasses import replace

    from discovery.vector_matrix import matrix_for

    de = _engine(seed_settings)
    store = str(seed_settings.qdrant_dir)
    first = matrix_for(de.qdrant, store, seed_settings.qdrant_collection, (de.catalogue.run_id,), 10_000)
    assert len(first.ids) == 500 and first.vectors.shape == (500, de.embedder.dim)
    assert matrix_for(de.qdrant, store, seed_settings.qdrant_collection, (de.catalogue.run_id,), 10_000) is first
    later = replace(de.catalogue, run_id=(de.catalogue.run_id or 0) + 1)
    assert matrix_for(de.qdrant, store, seed_settings.qdrant_collection, (later.run_id,), 10_000) is not first
    assert matrix_for(de.qdrant, store, seed_settings.qdrant_collection, (later.run_id + 1,), 499) is None


@pytest.mark.parametrize(
    ("behaviour", "independent"),
    [
        (Behaviour(event_types=["purchase", "add_to_cart"], min_events=3),
         "SELECT customer_id FROM customers c WHERE (SELECT count(*) FROM events e WHERE e.customer_id = c.customer_id"
         " AND e.event_type IN ('purchase', 'add_to_cart')) >= 3"),
        (Behaviour(event_types=["purchase"], negate=True),
         "SELECT customer_id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM events e"
         " WHERE e.customer_id = c.customer_id AND e.event_type = 'purchase')"),
        (Behaviour(event_types=["view"], min_events=2, negate=True),
         "SELECT customer_id FROM customers c WHERE (SELECT count(*) FROM events e WHERE e.customer_id = c.customer_id"
         " AND e.event_type = 'view') < 2"),
    ],
)  # fmt: skip
def test_event_type_counts_read_from_the_profiles_match_the_events(sample_settings, behaviour, independent):
    from discovery.compile import gate_sql

    q = AudienceQuery(behaviours=[behaviour], limit=1000)
    compiled = gate_sql(q, SAMPLE_END)
    assert "event_counts" in compiled.sql and "FROM events" not in compiled.sql
    with get_engine(sample_settings).connect() as conn:
        gate = {r[0] for r in conn.execute(sa.text(compiled.sql), compiled.params)}
    expected = _independent_gate(sample_settings, independent, {})
    assert expected and gate == expected
