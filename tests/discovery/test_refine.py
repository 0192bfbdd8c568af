"""Semantic refinement on real stores and the real embedder: the intent cuts the gate at the natural
break of the population's similarity scores (discovery.refine), inside every kind of gate."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from bot.views.result_card import result_card
from cdp.db import get_engine
from cdp.embedder import embedder_for
from cdp.vectors import get_qdrant
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery, Behaviour, CRMFilter
from discovery.refine import cut, natural_break
from discovery.service import Conversation, Discovery
from tests.conftest import SAMPLE_END


def _engine(settings, **update) -> DiscoveryEngine:
    engine = get_engine(settings)
    s = settings.model_copy(update=update) if update else settings
    return DiscoveryEngine(s, engine, get_qdrant(settings), embedder_for(settings), load_catalogue(engine))


def _luxury(settings) -> set[int]:
    with get_engine(settings).connect() as conn:
        return {r[0] for r in conn.execute(sa.text("SELECT customer_id FROM customer_profiles WHERE likes_luxury"))}


def _refined(de: DiscoveryEngine, q: AudienceQuery, **kw) -> tuple[set[int], object]:
    seg = de.hybrid(q.model_copy(update={"limit": 1000}), **kw)
    return {c.customer_id for c in seg.customers}, seg


def test_natural_break_splits_two_groups_and_keeps_a_gate_above_it():
    rng = np.random.default_rng(0)
    population = np.concatenate([rng.normal(0.3, 0.02, 300), rng.normal(0.5, 0.02, 100)])
    t = natural_break(population)
    assert t is not None and 0.36 < t < 0.44
    high = {i: 0.5 + i / 1000 for i in range(20)}
    kept, how = cut(high, population, "luxury")
    assert kept == sorted(high, key=lambda i: -high[i]) and how.kept == how.of == 20
    assert how.explanation.startswith("kept all 20")
    mixed = {1: 0.31, 2: 0.52, 3: 0.29, 4: 0.49}
    kept, how = cut(mixed, population, "luxury")
    assert kept == [2, 4] and how.explanation.startswith(
        "kept the 2 of 4 whose profiles read as “luxury”: similarity ≥ 0."
    )
    assert cut(mixed, population, "luxury", "off")[0] == [2, 4, 1, 3]


def test_luxury_intent_cuts_everyone_to_the_luxury_tagged(seed_settings):
    """The luxury sentence is held by a known subset (spend > 800): the refined set is that subset
    within the tolerance measured by `python -m bench refine` (precision ≥ 0.9, recall ≥ 0.7)."""
    de = _engine(seed_settings)
    lux = _luxury(seed_settings)
    got, seg = _refined(de, AudienceQuery(intent="luxury"))
    assert seg.funnel.after_gate == 500 and seg.funnel.after_semantic == len(got) < 500
    assert len(got & lux) / len(got) >= 0.9 and len(got & lux) / len(lux) >= 0.7
    assert seg.refinement.startswith(f"kept the {len(got)} of 500 whose profiles read as “luxury”: similarity ≥ ")
    top = de.hybrid(AudienceQuery(intent="luxury", limit=10))
    assert [c.customer_id for c in top.customers] == [c.customer_id for c in seg.customers[:10]]
    assert top.funnel.after_semantic == seg.funnel.after_semantic and top.funnel.returned == 10


def test_a_non_selective_intent_keeps_the_gate(seed_settings):
    de = _engine(seed_settings)
    first, _ = _refined(de, AudienceQuery(intent="luxury"))
    again, seg = _refined(de, AudienceQuery(crm=CRMFilter(customer_ids=sorted(first)), intent="luxury"))
    assert again == first and seg.funnel.after_semantic == seg.funnel.after_gate == len(first)
    assert seg.refinement.startswith(f"kept all {len(first)}")


@pytest.mark.parametrize(
    "gate",
    [
        {"crm": CRMFilter(countries=["DE", "PL"])},  # CRM only
        {"behaviours": [Behaviour(event_types=["purchase"])]},  # customer_facts
        {"behaviours": [Behaviour(event_types=["purchase"], min_price=1)]},  # the events themselves
    ],
    ids=["crm", "facts", "events"],
)
def test_refinement_inside_every_gate_kind(seed_settings, gate):
    de = _engine(seed_settings)
    everyone, _ = _refined(de, AudienceQuery(intent="luxury"))
    gated, _ = _refined(de, AudienceQuery(**gate, refine="off", intent="luxury"))
    got, seg = _refined(de, AudienceQuery(**gate, intent="luxury"))
    assert got == gated & everyone  # the same customers match the intent whatever the gate
    assert seg.funnel.after_gate == len(gated) > seg.funnel.after_semantic == len(got) > 0


def test_wider_and_narrower_move_the_cut(seed_settings):
    de = _engine(seed_settings)
    auto, _ = _refined(de, AudienceQuery(intent="luxury"))
    wider, w = _refined(de, AudienceQuery(intent="luxury", refine="wider"))
    narrower, n = _refined(de, AudienceQuery(intent="luxury", refine="narrower"))
    assert narrower < auto < wider
    assert "weaker matches included" in w.refinement and f"the natural break kept {len(auto)}" in w.refinement
    assert "only the strongest matches" in n.refinement
    off, o = _refined(de, AudienceQuery(intent="luxury", refine="off"))
    assert len(off) == 500 and o.funnel.after_semantic == 500 and "refinement off" in o.refinement


def test_without_the_vector_matrix_the_cut_is_the_same(seed_settings):
    with_matrix, _ = _refined(_engine(seed_settings), AudienceQuery(crm=CRMFilter(countries=["DE"]), intent="luxury"))
    qdrant_only = _engine(seed_settings, vector_matrix_max_points=0)
    got, _ = _refined(qdrant_only, AudienceQuery(crm=CRMFilter(countries=["DE"]), intent="luxury"))
    assert got == with_matrix


def test_a_large_gate_is_cut_at_the_same_break(seed_settings):
    """A gate larger than gate_fetch_max: ranked from the closest profiles, its refined size estimated
    from the gate's sample."""
    q = AudienceQuery(behaviours=[Behaviour(event_types=["purchase"])], intent="luxury")
    exact, e = _refined(_engine(seed_settings), q)
    large, seg = _refined(_engine(seed_settings, gate_fetch_max=100), q)
    assert large <= exact and len(large) >= 0.9 * len(exact)
    assert abs(seg.funnel.after_semantic - e.funnel.after_semantic) <= 0.2 * e.funnel.after_semantic
    assert seg.refinement.startswith(f"kept about {seg.funnel.after_semantic}")


def test_sample_outdoor_intent_keeps_the_outdoor_profiles(sample_settings):
    de = _engine(sample_settings)
    got, seg = _refined(de, AudienceQuery(intent="hiking camping"), now=SAMPLE_END)
    with get_engine(sample_settings).connect() as conn:
        outdoor = {
            r[0]
            for r in conn.execute(
                sa.text("SELECT customer_id FROM customer_profiles WHERE interests && ARRAY['hiking boots', 'tent']")
            )
        }
    assert outdoor and len(got & outdoor) / len(outdoor) >= 0.95 and seg.funnel.after_semantic < 600


def test_refine_members_cuts_given_ids_as_a_gate(seed_settings):
    """What a saved audience's evaluation calls: the same cut as a segment over those customers."""
    de = _engine(seed_settings)
    ids = list(range(1, 201))
    kept, line = de.refine_members(ids, "luxury")
    gated, seg = _refined(de, AudienceQuery(crm=CRMFilter(customer_ids=ids), intent="luxury"))
    assert set(kept) == gated and line == seg.refinement and 0 < len(kept) < 200
    assert de.refine_members(ids, "luxury", "off")[0][: len(kept)] == kept


def test_the_card_says_how_the_cut_was_made_and_what_widening_changed(seed_settings):
    discovery = Discovery.from_settings(seed_settings)
    conversation = Conversation()
    result = discovery.answer("customers in Germany into luxury", conversation, offline=True)
    f = result.funnel
    assert result.kind == "segment" and result.refinement.startswith(f"kept the {f.after_semantic} of {f.after_gate} ")
    assert f.after_semantic < f.after_gate
    card = str(result_card(result, card_id="card-1"))
    assert f"{f.after_semantic:,} refined" in card and "whose profiles read as “luxury”" in card
    widened = discovery.answer("include weaker matches", conversation, offline=True)
    assert widened.funnel.after_gate == f.after_gate and widened.funnel.after_semantic > f.after_semantic
    assert "weaker matches included" in widened.refinement
    assert f"the natural break kept {f.after_semantic}" in widened.refinement
    assert "weaker matches included" in str(result_card(widened, card_id="card-2"))
