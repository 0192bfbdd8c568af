"""Lookalike expansion on real stores (embedded PostgreSQL, Qdrant local mode, the real embedder):
seeds are never returned, an added gate holds, a planted cohort comes back, the Qdrant
recommendation and the in-memory matrix agree, and the service resolves seeds from the thread or a
saved audience."""

from __future__ import annotations

import random

import pytest

from discovery.catalogue import load_catalogue
from discovery.compile import gate_sql
from discovery.engine import DiscoveryEngine
from discovery.lookalike import STRATEGIES, MatrixRanker, QdrantRanker, lookalike, ranker_for
from discovery.query import AudienceQuery, Behaviour, CRMFilter, Lookalike
from discovery.service import Conversation, Discovery
from ingest.sample import generate
from tests.conftest import SAMPLE_END, loaded_database


@pytest.fixture(scope="module")
def cohort_stores(pg_server_url, tmp_path_factory):
    """600 synthetic customers with a planted cohort of 60, ingested once."""
    files = generate(tmp_path_factory.mktemp("cohort600"), 600, 10, seed=23, end=SAMPLE_END, cohort=60)
    with loaded_database(pg_server_url, tmp_path_factory.mktemp("stores"), files.crm, files.events) as settings:
        yield settings, files.cohort


@pytest.fixture(scope="module")
def disc(cohort_stores):
    return Discovery.from_settings(cohort_stores[0])


def engine_of(disc: Discovery) -> DiscoveryEngine:
    return DiscoveryEngine(disc.settings, disc.engine, disc.qdrant, disc.embedder, load_catalogue(disc.engine))


def test_lookalikes_never_include_seeds(disc):
    de = engine_of(disc)
    seeds = list(range(1, 401, 2))  # 200 seeds spread over the ids
    seg = lookalike(de, AudienceQuery(limit=400, like=Lookalike(seed_ids=seeds)), seeds, now=SAMPLE_END)
    ids = [c.customer_id for c in seg.customers]
    assert ids and not set(ids) & set(seeds)
    assert len(ids) == len(set(ids)) == 400
    f = seg.funnel
    assert (f.stage, f.population, f.after_gate, f.after_semantic, f.returned) == ("lookalike", 600, 600, 400, 400)
    assert all(c.why.startswith("like seed customer") for c in seg.customers)
    assert [c.score for c in seg.customers] == sorted((c.score for c in seg.customers), reverse=True)


def test_lookalikes_respect_an_added_gate(disc):
    de = engine_of(disc)
    seeds = list(range(1, 61))
    q = AudienceQuery(
        crm=CRMFilter(countries=["DE"]),
        behaviours=[Behaviour(event_types=["purchase"], products=["socks"], negate=True)],
        limit=1000,
        like=Lookalike(seed_ids=seeds),
    )
    seg = lookalike(de, q, seeds, now=SAMPLE_END)
    gate = {r[0] for r in de._run(gate_sql(q, SAMPLE_END), [])}
    ids = {c.customer_id for c in seg.customers}
    assert ids and ids == gate - set(seeds)  # the whole gate but the seeds, nobody outside it
    assert all(c.country == "DE" for c in seg.customers)
    assert seg.funnel.after_gate == len(gate) and seg.funnel.after_semantic == len(gate - set(seeds))
    assert all("no purchase of socks" in c.why and "country DE" in c.why for c in seg.customers)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_planted_cohort_is_recovered(cohort_stores, disc, strategy):
    _, cohort = cohort_stores
    members = list(cohort.ids)
    seeds = random.Random(5).sample(members, len(members) // 5)
    rest = set(members) - set(seeds)
    de = engine_of(disc)
    q = AudienceQuery(limit=len(rest), like=Lookalike(seed_ids=seeds))
    seg = lookalike(de, q, seeds, now=SAMPLE_END, strategy=strategy)
    found = {c.customer_id for c in seg.customers}
    precision = len(found & rest) / len(found)
    assert precision >= 0.8, (strategy, precision)
    shares = seg.customers[0].why
    assert cohort.country in shares and cohort.favorite_color in shares, shares


def test_the_qdrant_recommendation_agrees_with_the_matrix(disc):
    de = engine_of(disc)
    seeds = list(range(100, 160))
    exact = ranker_for(de, seeds)
    assert isinstance(exact, MatrixRanker)
    qdrant = QdrantRanker(de, seeds, "average")
    a, b = exact.top(50, None), qdrant.top(50, None)
    assert not (set(a) | set(b)) & set(seeds)
    assert sorted(a.values(), reverse=True) == pytest.approx(sorted(b.values(), reverse=True), abs=1e-4)
    within = list(range(300, 500))
    a, b = exact.top(20, within), qdrant.top(20, within)
    assert set(a) <= set(within) and set(b) <= set(within)
    assert sorted(a.values(), reverse=True) == pytest.approx(sorted(b.values(), reverse=True), abs=1e-4)


def test_more_like_these_in_a_thread(disc):
    conv = Conversation()
    first = disc.answer("customers who bought socks", conv, offline=True, now=SAMPLE_END)
    seeds = [c.customer_id for c in first.customers]
    assert first.kind == "segment" and conv.segment_ids == seeds
    more = disc.answer("find 50 more like these", conv, offline=True, now=SAMPLE_END)
    ids = [c.customer_id for c in more.customers]
    assert more.kind == "segment" and len(ids) == 50 and not set(ids) & set(seeds)
    assert more.funnel.stage == "lookalike" and more.to_json()["funnel"]["stage"] == "lookalike"
    assert more.recipe.query["like"]["seed_ids"] == seeds
    assert "most like 20 seed customers" in more.answer
    why = disc.answer(f"why is customer {ids[3]} in?", conv, offline=True, now=SAMPLE_END)
    assert why.explain_customer == ids[3] and f"Customer {ids[3]} is in the segment: like seed customer" in why.answer
    seed = disc.answer(f"why is customer {seeds[0]} in?", conv, offline=True, now=SAMPLE_END)
    assert "does not match" in seed.answer  # a seed is never one of its lookalikes
    de_only = disc.answer("only Germany", conv, offline=True, now=SAMPLE_END)
    assert de_only.query.like.seed_ids == seeds  # the same seeds, now inside a gate
    assert de_only.customers and all(c.country == "DE" for c in de_only.customers)
    assert not {c.customer_id for c in de_only.customers} & set(seeds)


def test_a_saved_audience_is_resolved_by_the_injected_resolver(cohort_stores, disc):
    _, cohort = cohort_stores
    audiences = {"Luxury PL": list(cohort.ids[:12])}
    with_audiences = Discovery(disc.settings, disc.engine, disc.qdrant, disc.embedder, audiences.get)
    r = with_audiences.answer("20 customers like the Luxury PL audience", offline=True, now=SAMPLE_END)
    assert r.kind == "segment" and len(r.customers) == 20
    assert not {c.customer_id for c in r.customers} & set(audiences["Luxury PL"])
    assert r.query.like.seed_audience == "Luxury PL" and not r.query.like.seed_ids  # resolved anew each time
    unknown = with_audiences.answer("customers like the VIP audience", offline=True, now=SAMPLE_END)
    assert unknown.kind == "clarify" and "no saved audience named “VIP”" in unknown.answer
    without = disc.answer("customers like the Luxury PL audience", offline=True, now=SAMPLE_END)
    assert without.kind == "clarify" and "not available" in without.answer


def test_more_like_these_without_a_segment_says_what_to_do(disc):
    r = disc.answer("find 200 more like these", Conversation(), offline=True, now=SAMPLE_END)
    assert r.kind == "clarify" and "ask for a segment first" in r.answer
    conv = Conversation()
    first = disc.answer("customers from Germany", conv, offline=True, now=SAMPLE_END)
    missing = disc.answer("customers like the Nope audience", conv, offline=True, now=SAMPLE_END)
    assert missing.kind == "clarify" and conv.last_query == first.query  # the thread keeps its segment
    assert disc.answer("top 5", conv, offline=True, now=SAMPLE_END).query.crm.countries == ["DE"]
