"""Offline planner phrasings for lookalikes: "find 200 more like these", "more like these in Germany",
"500 lookalikes who never bought a jacket", "customers like the Luxury PL audience" (pure, no database)."""

from __future__ import annotations

import pytest

from discovery.query import AudienceQuery, Behaviour, CRMFilter, Lookalike
from tests.discovery.test_planner import SYNTH, ask, segment

THREAD = Lookalike()  # seeds: the thread's last segment (filled in by discovery.service)


@pytest.mark.parametrize(
    ("question", "limit"),
    [
        ("find 200 more like these", 200),
        ("Find more like these", 20),
        ("more like them please", 20),
        ("show me 50 more customers like those", 50),
        ("find people similar to these", 20),
        ("similar customers", 20),
        ("lookalikes", 20),
        ("300 lookalikes of this segment", 300),
        ("give me more similar ones", 20),
        ("expand this audience to 400", 400),
        ("find five more like these", 5),
    ],
)
def test_more_like_these(question, limit):
    assert segment(question) == AudienceQuery(like=THREAD, limit=limit)


def test_more_like_these_with_a_gate_of_its_own():
    assert segment("more like these in Germany") == AudienceQuery(crm=CRMFilter(countries=["DE"]), like=THREAD)
    q = segment("500 lookalikes who never bought a jacket")
    assert q == AudienceQuery(
        behaviours=[Behaviour(event_types=["purchase"], products=["jacket"], negate=True)], limit=500, like=THREAD
    )
    q = segment("100 more like these older than 40 who spent more than 500", SYNTH)
    assert (q.crm.min_age, q.crm.min_spent, q.limit, q.like) == (41, 500, 100, THREAD)


def test_a_lookalike_is_its_own_plan_not_a_refinement():
    first = ask("customers who bought socks in Poland")
    q = segment("find 200 more like these in Germany", previous=first)
    assert q == AudienceQuery(crm=CRMFilter(countries=["DE"]), limit=200, like=THREAD)  # no socks, no Poland


def test_follow_ups_refine_a_lookalike_and_keep_its_seeds():
    seeded = ask("find 200 more like these")
    seeded.query = seeded.query.model_copy(update={"like": Lookalike(seed_ids=[3, 1, 2])})  # as the service stores it
    q = segment("only Germany", previous=seeded)
    assert q.like == Lookalike(seed_ids=[3, 1, 2]) and q.crm.countries == ["DE"] and q.limit == 200
    q = segment("top 5", previous=ask("only Germany", previous=seeded))
    assert q.like == Lookalike(seed_ids=[3, 1, 2]) and q.limit == 5
    again = segment("find more like these", previous=seeded)
    assert again.like == THREAD  # "these" are now the lookalikes shown: the service fills them in


@pytest.mark.parametrize(
    ("question", "name", "crm", "limit"),
    [
        ("customers like the Luxury PL audience", "Luxury PL", CRMFilter(), 20),
        ("find 50 people similar to the VIP DE audience", "VIP DE", CRMFilter(), 50),
        (
            "lookalikes of the audience “Spring Sale 2026” in Germany",
            "Spring Sale 2026",
            CRMFilter(countries=["DE"]),
            20,
        ),
        ("customers like the saved audience Luxury PL", "Luxury PL", CRMFilter(), 20),
        ("300 lookalikes of audience Jacket fans from Poland", "Jacket fans", CRMFilter(countries=["PL"]), 300),
    ],
)
def test_a_saved_audience_as_seeds(question, name, crm, limit):
    assert segment(question) == AudienceQuery(crm=crm, limit=limit, like=Lookalike(seed_audience=name))


def test_lookalikes_of_one_customer_still_say_how_to_ask():
    p = ask("find customers like customer 42")
    assert p.kind == "clarify" and "lookalike" in p.message and "find more like these" in p.message


def test_words_that_only_look_alike_are_not_lookalikes():
    for question in ("customers who like jackets", "people who like luxury", "customers similar in age"):
        assert ask(question).query is None or ask(question).query.like is None, question
    p = ask("500 lookalikes who bought cars")
    assert p.kind == "clarify" and "cars" in p.message  # a product not in the data is still said so
