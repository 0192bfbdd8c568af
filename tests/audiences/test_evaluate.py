"""Members of recipes with an explicit top-N, checked against independent computations."""

from __future__ import annotations

import numpy as np

from audiences.evaluate import Evaluator
from audiences.model import Recipe
from cdp.db import get_engine
from cdp.embedder import embedder_for, get_embedder
from cdp.vectors import get_qdrant
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery, CRMFilter
from tests.audiences.changes import read
from tests.audiences.conftest import COUNTRY, NOW


def test_top_n_without_intent_follows_the_query_order(world):
    crm, _ = read(world.v2.crm, world.v2.events)
    local = crm[crm.country == COUNTRY].assign(
        spent=lambda d: d.total_spent.astype(float), cid=lambda d: d.customer_id.astype(int)
    )
    expected = local.sort_values(["spent", "cid"], ascending=[False, True]).cid.head(5)
    recipe = Recipe(query=AudienceQuery(crm=CRMFilter(countries=[COUNTRY]), order_by="total_spent"), top_n=5)
    ev = Evaluator(world.settings, get_engine(world.settings)).evaluate(recipe, NOW)
    assert ev.ids.tolist() == sorted(expected) and ev.gate_size == len(local)


def test_top_n_with_intent_keeps_the_most_similar_of_the_whole_gate(world):
    crm, _ = read(world.v2.crm, world.v2.events)
    gate = sorted(crm.loc[crm.country == COUNTRY, "customer_id"].astype(int))
    intent = "luxury designer fashion"
    settings = world.settings
    points = get_qdrant(settings).retrieve(settings.qdrant_collection, gate, with_vectors=True)
    qv = get_embedder(settings.embedding_model).embed_one(intent)
    sims = {int(p.id): float(np.asarray(p.vector, dtype=np.float32) @ qv) for p in points}
    expected = sorted(sorted(sims, key=lambda i: (-sims[i], i))[:7])

    evaluator = Evaluator(settings, get_engine(settings))
    recipe = Recipe(query=AudienceQuery(crm=CRMFilter(countries=[COUNTRY]), intent=intent), top_n=7)
    first, second = evaluator.evaluate(recipe, NOW), evaluator.evaluate(recipe, NOW)
    assert first.ids.tolist() == second.ids.tolist() == expected
    assert first.gate_size == len(gate) and evaluator.intents_embedded == 1
    assert all(abs(first.scores[i] - sims[i]) < 1e-4 for i in expected)


def test_an_intent_refines_the_gate_as_the_question_s_segment_does(world):
    """A saved audience with an intent holds the segment's refined set (issue 16), not the whole gate."""
    crm, _ = read(world.v2.crm, world.v2.events)
    gate = sorted(crm.loc[crm.country == COUNTRY, "customer_id"].astype(int))
    engine = get_engine(world.settings)
    evaluator = Evaluator(world.settings, engine)
    query = AudienceQuery(crm=CRMFilter(countries=[COUNTRY]), intent="outdoor hiking", limit=1000)
    ev = evaluator.evaluate(Recipe(query=query), NOW)
    de = DiscoveryEngine(
        world.settings, engine, get_qdrant(world.settings), embedder_for(world.settings), load_catalogue(engine)
    )
    segment = de.hybrid(query, now=NOW)
    assert set(ev.ids.tolist()) <= set(gate) and 0 < len(ev.ids) < len(gate)  # selective: a true subset
    assert len(ev.ids) == segment.funnel.after_semantic and ev.refinement == segment.refinement
    assert set(ev.ids.tolist()) >= {c.customer_id for c in segment.customers}
    whole = evaluator.evaluate(Recipe(query=query.model_copy(update={"refine": "off"})), NOW)
    assert whole.ids.tolist() == gate and whole.refinement is None
