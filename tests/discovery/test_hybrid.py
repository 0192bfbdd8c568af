"""Hybrid discovery on real stores: the gate holds for every customer (checked with
independent SQL), ranking is restricted to the gate, luxury intent ranks luxury first."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from cdp.db import get_engine
from cdp.embedder import embedder_for
from cdp.vectors import get_qdrant
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine, by_score
from discovery.query import AudienceQuery, Behaviour, CRMFilter, TimeWindow
from tests.conftest import SAMPLE_END


def _engine(settings) -> DiscoveryEngine:
    engine = get_engine(settings)
    return DiscoveryEngine(settings, engine, get_qdrant(settings), embedder_for(settings), load_catalogue(engine))


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
        refine="off",  # the whole gate, ranked (the cut is tested in test_refine)
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
    seg = de.hybrid(AudienceQuery(intent="luxury high-end premium customers", limit=20, refine="off"))
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


def test_type_and_pair_rows_answer_a_hybrid_question(sample_settings):
    """Through the engine as the bot runs it (a read-only transaction with its own work_mem):
    N+ summed over two types in a window and a price ever on two pairs, in one gate."""
    de = _engine(sample_settings)
    q = AudienceQuery(
        behaviours=[
            Behaviour(event_types=["view", "add_to_cart"], window=TimeWindow(last=90), min_events=3),
            Behaviour(event_types=["purchase"], products=["handbag", "watch"], min_price=150),
        ],
        limit=1000,
    )
    seg = de.hybrid(q, now=SAMPLE_END)
    expected = _independent_gate(
        sample_settings,
        """SELECT customer_id FROM customers c
           WHERE (SELECT count(*) FROM events e WHERE e.customer_id = c.customer_id
                  AND e.event_type IN ('view', 'add_to_cart') AND e.event_timestamp >= :since) >= 3
             AND EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.event_type = 'purchase'
                         AND e.product IN ('handbag', 'watch') AND e.price >= 150)""",
        {"since": datetime(2026, 8, 3, 12, 0, 0)},
    )
    assert expected and {c.customer_id for c in seg.customers} == expected
    assert any("customer_type_times" in s for s in seg.sql) and any("customer_pair_times" in s for s in seg.sql)


def test_semantic_search_through_llamaindex_with_crm_filters(seed_settings):
    de = _engine(seed_settings)
    seg = de.semantic("luxury items", CRMFilter(countries=["PL"]), limit=15)
    assert len(seg.customers) == 15 and all(c.country == "PL" for c in seg.customers)
    assert sum(c.likes_luxury for c in seg.customers) >= 12
    assert seg.embedding_tokens > 0


def test_unrestricted_ranking_equals_exact_scoring_of_every_customer(seed_settings):
    de = _engine(seed_settings)
    ids = list(range(1, 501))
    qv = de.embedder.embed_one("luxury red fashion")
    qdrant_only = DiscoveryEngine(
        seed_settings.model_copy(update={"vector_matrix_max_points": 0}),
        de.engine,
        de.qdrant,
        de.embedder,
        de.catalogue,
    )
    fast_scores = qdrant_only.top(qv, 40)  # Qdrant's own unrestricted top-k
    fast = by_score(fast_scores)
    exact, exact_scores = de.rank(ids, qv, top=15)
    assert fast[:15] == exact[:15]
    assert all(abs(fast_scores[i] - exact_scores[i]) < 1e-4 for i in fast[:15])


def test_the_in_memory_matrix_ranks_a_gate_exactly_as_qdrant_does(seed_settings):
    from qdrant_client import models

    de = _engine(seed_settings)
    gate = list(range(3, 500, 3)) + [10_000_001]  # an id without a vector is simply not ranked
    qv = de.embedder.embed_one("outdoor hiking gear")
    ranked, scores = de.rank(gate, qv, top=20)  # local mode: the matrix
    res = de.qdrant.query_points(
        seed_settings.qdrant_collection,
        query=qv.tolist(),
        query_filter=models.Filter(must=[models.HasIdCondition(has_id=gate)]),
        limit=len(gate),
    )
    assert ranked[:20] == [int(p.id) for p in res.points][:20] and len(scores) == len(gate) - 1
    assert all(abs(scores[int(p.id)] - p.score) < 1e-4 for p in res.points)
    by_id = DiscoveryEngine(
        seed_settings.model_copy(update={"vector_matrix_max_points": 0}),
        de.engine, de.qdrant, de.embedder, de.catalogue,
    )  # fmt: skip
    assert by_id.rank(gate, qv, top=20)[0][:20] == ranked[:20]  # vectors fetched by id


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


def _events_sql(b: Behaviour, now: datetime) -> str:
    """The customers with (or, negated, without) events matching `b`, written directly over the
    events table and independently of discovery.compile."""
    conds = ["e.customer_id = c.customer_id"]
    for col, values in (("event_type", b.event_types), ("product", b.products), ("color", b.colors)):
        if values:
            conds.append(f"e.{col} IN ({', '.join(repr(v) for v in values)})")
    if b.window is not None and b.window.last is not None:
        conds.append(
            f"e.event_timestamp >= TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}' - INTERVAL '{b.window.last} {b.window.unit}'"
        )
    if b.window is not None and b.window.start is not None:
        conds.append(f"e.event_timestamp >= DATE '{b.window.start}'")
    if b.window is not None and b.window.end is not None:
        conds.append(f"e.event_timestamp < DATE '{b.window.end}' + 1")
    if b.min_price is not None:
        conds.append(f"e.price >= {b.min_price}")
    if b.max_price is not None:
        conds.append(f"e.price <= {b.max_price}")
    n = f"(SELECT count(*) FROM events e WHERE {' AND '.join(conds)})"
    return f"{n} {'<' if b.negate else '>='} {b.min_events}"


FACTS_CASES = [
    ("items", [Behaviour(products=["jacket"]), Behaviour(products=["shoes"])]),
    ("items", [Behaviour(event_types=["purchase"], products=["socks"], colors=["red"])]),
    ("items", [Behaviour(event_types=["purchase"], products=["watch"], negate=True)]),
    ("items", [Behaviour(colors=["red", "blue"], event_types=["add_to_cart"])]),
    ("items", [Behaviour(products=["no-such-product"])]),
    ("items", [Behaviour(products=["no-such-product"], negate=True)]),
    ("recent", [Behaviour(event_types=["view"], window=TimeWindow(last=30))]),
    ("recent", [Behaviour(event_types=["view", "purchase"], window=TimeWindow(last=3, unit="weeks"))]),
    ("recent", [Behaviour(window=TimeWindow(last=14))]),
    ("recent", [Behaviour(event_types=["purchase"], window=TimeWindow(last=2, unit="months"), negate=True)]),
    ("recent", [Behaviour(event_types=["add_to_cart"], window=TimeWindow(start=date(2026, 9, 1)))]),
    ("count", [Behaviour(event_types=["purchase", "add_to_cart"], min_events=3)]),
    ("count", [Behaviour(event_types=["purchase"])]),
    ("count", [Behaviour(event_types=["add_to_cart"], negate=True)]),
    ("count", [Behaviour(event_types=["view"], min_events=2, negate=True)]),
    ("events", [Behaviour(products=["socks"], min_events=2)]),
    ("times", [Behaviour(event_types=["view"], products=["jacket"], window=TimeWindow(last=60))]),
    # repeat counts and windows on named (type, product) pairs: the customer's pair rows
    ("times", [Behaviour(event_types=["purchase"], products=["handbag"], window=TimeWindow(last=90), min_events=2)]),
    (
        "times",
        [
            Behaviour(
                event_types=["purchase"], products=["handbag"], window=TimeWindow(last=90), min_events=2, negate=True
            )
        ],
    ),
    (
        "times",
        [
            Behaviour(event_types=["add_to_cart"], products=["watch"], window=TimeWindow(last=30)),
            Behaviour(
                event_types=["purchase"], products=["watch"], window=TimeWindow(last=1, unit="years"), negate=True
            ),
        ],
    ),
    ("times", [Behaviour(event_types=["add_to_cart"], products=["watch"], window=TimeWindow(last=30), negate=True)]),
    ("times", [Behaviour(event_types=["view"], products=["socks"], min_events=3)]),
    ("times", [Behaviour(event_types=["view"], products=["jacket", "shoes"], window=TimeWindow(last=3, unit="weeks"))]),
    (
        "events",
        [
            Behaviour(
                event_types=["purchase"], products=["socks"], colors=["red"], window=TimeWindow(last=6, unit="months")
            )
        ],
    ),
    (
        "events",
        [
            Behaviour(
                event_types=["purchase", "view"], products=["socks"], colors=["red", "blue"], window=TimeWindow(last=60)
            )
        ],
    ),
    (
        "events",
        [
            Behaviour(
                event_types=["view"], products=["socks"], colors=["red"], window=TimeWindow(last=120), min_events=2
            )
        ],
    ),
    ("events", [Behaviour(event_types=["view"], products=["socks"], colors=["red"], min_events=2, negate=True)]),
    (
        "times",
        [
            Behaviour(
                event_types=["add_to_cart"],
                products=["handbag"],
                window=TimeWindow(start=date(2026, 9, 1)),
                min_events=2,
            )
        ],
    ),
    ("times", [Behaviour(event_types=["purchase"], products=["no-such-product"], window=TimeWindow(last=30))]),
    (
        "times",
        [
            Behaviour(
                event_types=["no-such-type"], products=["watch"], window=TimeWindow(last=30), min_events=2, negate=True
            )
        ],
    ),
    (
        "events",
        [Behaviour(event_types=["purchase"], products=["socks"], colors=["no-such-color"], window=TimeWindow(last=30))],
    ),
    # any type, colors with a window or N > 1: still the events
    ("events", [Behaviour(products=["jacket", "shoes"], window=TimeWindow(last=3, unit="weeks"))]),
    (
        "times",
        [
            Behaviour(
                event_types=["view", "add_to_cart"],
                products=["jacket", "watch"],
                window=TimeWindow(last=120),
                min_events=2,
            )
        ],
    ),
    ("events", [Behaviour(products=["socks", "shoes"], colors=["red", "blue"], min_events=2)]),
    ("events", [Behaviour(products=["socks"], window=TimeWindow(start=date(2026, 8, 1), end=date(2026, 9, 30)))]),
    ("events", [Behaviour(products=["handbag"], window=TimeWindow(start=date(2026, 9, 1)), min_events=2, negate=True)]),
    ("times", [Behaviour(event_types=["view"], products=["watch"], window=TimeWindow(end=date(2026, 8, 31)))]),
    ("events", [Behaviour(products=["no-such-product"], window=TimeWindow(last=30), min_events=2, negate=True)]),
    (
        "type_times",
        [Behaviour(event_types=["purchase"], window=TimeWindow(start=date(2026, 8, 1), end=date(2026, 9, 30)))],
    ),
    ("type_times", [Behaviour(event_types=["purchase"], min_price=150)]),
    ("color_times", [Behaviour(colors=["red"], window=TimeWindow(last=30))]),
    # prices: a range, or with a window or N > 1, still the events
    ("events", [Behaviour(event_types=["purchase"], min_price=50, max_price=150)]),
    ("events", [Behaviour(event_types=["purchase"], min_price=100, window=TimeWindow(last=90))]),
    ("events", [Behaviour(event_types=["purchase"], products=["handbag"], min_price=100, min_events=2)]),
    ("color_times", [Behaviour(event_types=["view"], window=TimeWindow(last=30), min_events=2, colors=["red"])]),
    # event types: end dates, N > 1 in a window (one type or summed over several), prices ever
    ("type_times", [Behaviour(event_types=["purchase"], window=TimeWindow(end=date(2026, 8, 31)))]),
    (
        "type_times",
        [Behaviour(event_types=["view", "add_to_cart"], window=TimeWindow(end=date(2026, 8, 31)), negate=True)],
    ),
    ("type_times", [Behaviour(event_types=["view"], window=TimeWindow(last=30), min_events=3)]),
    ("type_times", [Behaviour(event_types=["view"], window=TimeWindow(last=30), min_events=2, negate=True)]),
    ("type_times", [Behaviour(event_types=["view", "purchase"], window=TimeWindow(last=60), min_events=4)]),
    (
        "type_times",
        [
            Behaviour(
                event_types=["add_to_cart", "purchase"],
                window=TimeWindow(start=date(2026, 8, 1), end=date(2026, 10, 15)),
                min_events=3,
            )
        ],
    ),
    (
        "type_times",
        [  # N above any customer's count: no one has it, so everyone of the other behaviour passes
            Behaviour(event_types=["view"], window=TimeWindow(last=1, unit="years"), min_events=1000, negate=True),
            Behaviour(event_types=["purchase"], window=TimeWindow(end=date(2026, 8, 31))),
        ],
    ),
    ("type_times", [Behaviour(event_types=["purchase"], max_price=30)]),
    ("type_times", [Behaviour(event_types=["purchase", "add_to_cart"], min_price=200)]),
    ("type_times", [Behaviour(event_types=["purchase"], min_price=150, negate=True)]),
    ("type_times", [Behaviour(event_types=["no-such-type"], window=TimeWindow(last=30), min_events=2)]),
    ("type_times", [Behaviour(event_types=["no-such-type"], min_price=10, negate=True)]),
    ("type_times", [Behaviour(event_types=["purchase", "no-such-type"], window=TimeWindow(last=90), min_events=2)]),
    # pairs: end dates, N > 1 summed over several pairs, prices ever
    (
        "times",
        [
            Behaviour(
                event_types=["purchase"],
                products=["handbag"],
                window=TimeWindow(start=date(2026, 6, 1), end=date(2026, 9, 30)),
            )
        ],
    ),
    (
        "times",
        [
            Behaviour(
                event_types=["view"],
                products=["socks", "shoes"],
                window=TimeWindow(end=date(2026, 9, 30)),
                min_events=2,
            )
        ],
    ),
    (
        "times",
        [Behaviour(event_types=["purchase"], products=["handbag", "watch"], window=TimeWindow(last=90), min_events=2)],
    ),
    (
        "times",
        [
            Behaviour(
                event_types=["view"],
                products=["socks", "jacket"],
                window=TimeWindow(last=60),
                min_events=2,
                negate=True,
            )
        ],
    ),
    ("times", [Behaviour(event_types=["purchase"], products=["handbag"], min_price=200)]),
    ("times", [Behaviour(event_types=["purchase", "add_to_cart"], products=["watch"], max_price=300)]),
    (
        "times",
        [Behaviour(event_types=["purchase"], products=["jacket", "no-such-product"], min_price=100, negate=True)],
    ),
    (
        "times",
        [
            Behaviour(
                event_types=["view"],
                products=["socks"],
                window=TimeWindow(last=1, unit="years"),
                min_events=1000,
                negate=True,
            ),
            Behaviour(event_types=["purchase"], products=["handbag"], min_price=200),
        ],
    ),
]


@pytest.mark.parametrize(("kind", "behaviours"), FACTS_CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(FACTS_CASES)])
def test_the_gate_over_customer_facts_matches_the_events(sample_settings, kind, behaviours):
    """Each behaviour the per-customer facts answer (ever / recently / how often, by type, product
    and color) selects exactly the customers a direct query over the events selects."""
    from discovery.compile import facts_kind, gate_sql

    assert [facts_kind(b) or "events" for b in behaviours] == [kind] * len(behaviours)
    q = AudienceQuery(behaviours=behaviours, limit=1000)
    compiled = gate_sql(q, SAMPLE_END)
    assert ("FROM events" in compiled.sql) == (kind == "events")
    masked = kind == "items" and any(bool(b.products) != bool(b.colors) for b in behaviours)
    assert masked == ("_mask &" in compiled.sql)  # one product or color dimension: the bit masks
    with get_engine(sample_settings).connect() as conn:
        gate = {r[0] for r in conn.execute(sa.text(compiled.sql), compiled.params)}
    independent = " AND ".join(_events_sql(b, SAMPLE_END) for b in behaviours)
    expected = _independent_gate(sample_settings, f"SELECT customer_id FROM customers c WHERE {independent}", {})
    assert gate == expected
    if "no-such-" not in str(behaviours):
        assert 0 < len(expected) < 600  # the case tells customers apart


LARGE_GATES = [
    AudienceQuery(behaviours=[Behaviour(event_types=["view"], window=TimeWindow(last=30))], intent="outdoor hiking"),
    AudienceQuery(crm=CRMFilter(likes_luxury=True), intent="luxury high-end fashion", limit=15),
    AudienceQuery(behaviours=[Behaviour(products=["jacket"]), Behaviour(products=["shoes"])], intent="sporty"),
    AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], min_events=3)], intent="bargain hunters", limit=40),
]


@pytest.mark.parametrize("q", LARGE_GATES, ids=["viewed-30d", "luxury", "jacket-and-shoes", "3-purchases"])
def test_a_gate_too_large_to_fetch_ranks_the_same_customers(sample_settings, q):
    """Above gate_fetch_max the closest profiles are checked against the gate in SQL instead of
    fetching every id: the segment, its scores and the funnel's gate size are the same."""
    exact = _engine(sample_settings).hybrid(q, now=SAMPLE_END)
    small = _engine(sample_settings.model_copy(update={"gate_fetch_max": 10}))
    seg = small.hybrid(q, now=SAMPLE_END)
    assert exact.funnel.after_gate > 10 and seg.funnel.after_gate == exact.funnel.after_gate
    assert [c.customer_id for c in seg.customers] == [c.customer_id for c in exact.customers]
    assert len(seg.customers) == q.limit
    assert all(abs(a.score - b.score) < 1e-5 for a, b in zip(seg.customers, exact.customers, strict=True))
    checks = [s for s in seg.sql if "customer_id = ANY(ARRAY[" in s and "FROM customer_facts" in s]
    assert checks  # candidates checked, the gate not fetched
    assert all(len(s) < 3_000 and " more */]" in s for s in checks)  # the recipe shows 20 of the candidates
    assert not any(
        "customer_id = ANY(ARRAY[" in s for s in exact.sql if "count(*) AS size" not in s and "FROM customer_facts" in s
    )


def test_without_an_intent_the_gate_returns_the_top_in_sql_order_and_its_size(sample_settings):
    de = _engine(sample_settings)
    q = AudienceQuery(behaviours=[Behaviour(event_types=["purchase"])], crm=CRMFilter(min_age=30), limit=7)
    seg = de.hybrid(q, now=SAMPLE_END)
    rows = _independent_gate_rows(
        sample_settings,
        "SELECT c.customer_id FROM customers c WHERE c.age >= 30 AND EXISTS (SELECT 1 FROM events e"
        " WHERE e.customer_id = c.customer_id AND e.event_type = 'purchase') ORDER BY c.total_spent DESC, c.customer_id",
    )
    assert seg.funnel.after_gate == len(rows) > 7
    assert [c.customer_id for c in seg.customers] == rows[:7]


def _independent_gate_rows(settings, sql: str) -> list[int]:
    with get_engine(settings).connect() as conn:
        return [r[0] for r in conn.execute(sa.text(sql))]


def test_the_gate_gives_the_same_customers_without_intarray_or_bit_masks(database_url, small_sample, tmp_path):
    """intarray and the pair bit masks only speed the gate up: a server without intarray (or a
    role that cannot create it), and a vocabulary too large for the masks, answer the same."""
    import ingest
    from cdp.settings import Settings
    from discovery.compile import gate_sql
    from tests.conftest import settings_fields

    settings = Settings(**settings_fields(database_url=database_url, data_dir=tmp_path))
    ingest.run(settings, small_sample.crm, small_sample.events)
    engine = get_engine(settings)
    products = load_catalogue(engine).products
    q = AudienceQuery(
        behaviours=[Behaviour(products=[products[0]]), Behaviour(event_types=["purchase"], products=[products[1]], negate=True)],
        limit=1000,
    )  # fmt: skip
    compiled = gate_sql(q, SAMPLE_END)

    def gate() -> set[int]:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.text(compiled.sql), compiled.params)}

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'intarray'")).first()
        assert conn.execute(sa.text("SELECT count(tp_mask) FROM customer_facts")).scalar() > 0
    with_intarray = gate()
    with engine.begin() as conn:
        conn.execute(sa.text("DROP EXTENSION intarray"))
    assert with_intarray and gate() == with_intarray
    with engine.begin() as conn:  # as built when the vocabulary has too many pairs for a bigint mask
        conn.execute(sa.text("UPDATE customer_facts SET tp_mask = NULL, tc_mask = NULL"))
    assert gate() == with_intarray


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (TimeWindow(start=date(2026, 5, 1), end=date(2026, 5, 31)), 3),  # both midnights are bounds
        (TimeWindow(start=date(2026, 5, 2)), 3),
        (TimeWindow(end=date(2026, 4, 30)), 1),
        (TimeWindow(last=31), 4),  # since 2026-05-01 00:00:00 exactly: that event counts
        (TimeWindow(start=date(2026, 6, 2), end=date(2026, 6, 30)), 0),
    ],
)
def test_a_row_counts_the_events_at_the_window_bounds_as_the_events_sql_does(sample_settings, window, expected):
    """[since, until): an event at since's exact microsecond counts, one at until's does not."""
    from discovery.pair_times import row_count, row_test

    ts = [
        datetime(2026, 4, 30, 23, 59, 59, 999999),
        datetime(2026, 5, 1),
        datetime(2026, 5, 2),
        datetime(2026, 5, 31, 23, 59, 59, 999999),
        datetime(2026, 6, 1),
    ]
    params: dict = {"ts": ts}
    sql = row_count(Behaviour(event_types=["view"], window=window), 0, datetime(2026, 6, 1), params)
    with get_engine(sample_settings).connect() as conn:
        got = conn.execute(sa.text(f"SELECT {sql} FROM (SELECT CAST(:ts AS timestamp[]) AS ts) t"), params).scalar()
        since, until = window.bounds(datetime(2026, 6, 1))
        direct = conn.execute(
            sa.text(
                "SELECT count(*) FROM unnest(CAST(:ts AS timestamp[])) x"
                " WHERE x >= coalesce(CAST(:s AS timestamp), '-infinity') AND x < coalesce(CAST(:u AS timestamp), 'infinity')"
            ),
            {"ts": ts, "s": since, "u": until},
        ).scalar()
    assert got == direct == expected
    for n in (1, 2, 3, 4, 5, 6):  # the one-row test says the same as the count
        params = {"ts": ts, "b0_min_events": n}
        b = Behaviour(event_types=["view"], window=window, min_events=n)
        test = row_test(b, 0, datetime(2026, 6, 1), params)
        with get_engine(sample_settings).connect() as conn:
            passed = conn.execute(
                sa.text(f"SELECT {test} FROM (SELECT CAST(:ts AS timestamp[]) AS ts) t"), params
            ).scalar()
        assert bool(passed) == (expected >= n)


@pytest.mark.parametrize("products", [[], ["jacket"]])
def test_a_window_starting_at_an_event_s_own_timestamp_includes_it(sample_settings, products):
    """`now` set so that the window starts at the exact microsecond of a customer's event: the type
    and pair rows count it as the events do; N above any customer's count selects no one."""
    from discovery.compile import facts_kind, gate_sql

    where = "event_type = 'view'" + (" AND product = 'jacket'" if products else "")
    with get_engine(sample_settings).connect() as conn:
        ts = conn.execute(
            sa.text(f"SELECT event_timestamp FROM events WHERE {where} ORDER BY event_id LIMIT 1")
        ).scalar()
    now = ts + (datetime(2026, 3, 31) - datetime(2026, 3, 1))  # 30 days
    for n, negate in ((1, False), (2, False), (2, True), (10_000, False)):
        b = Behaviour(event_types=["view"], products=products, window=TimeWindow(last=30), min_events=n, negate=negate)
        if n > 1 or products:
            assert facts_kind(b) == ("times" if products else "type_times")
        compiled = gate_sql(AudienceQuery(behaviours=[b], limit=1000), now)
        with get_engine(sample_settings).connect() as conn:
            gate = {r[0] for r in conn.execute(sa.text(compiled.sql), compiled.params)}
        expected = _independent_gate(
            sample_settings, f"SELECT customer_id FROM customers c WHERE {_events_sql(b, now)}", {}
        )
        assert gate == expected
        if n == 1:
            assert expected  # at least the customer whose event starts the window
        if n == 10_000:
            assert not expected
