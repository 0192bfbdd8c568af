"""Pure parts: the stored membership form, the exact diff, recipes from answers, vanished values."""

from __future__ import annotations

import numpy as np

from audiences import members as m
from audiences.errors import NotASegment
from audiences.evaluate import vanished
from audiences.model import recipe_from_result
from discovery.catalogue import Catalogue
from discovery.query import AudienceQuery, Behaviour, CRMFilter, Lookalike
from discovery.result import Recipe, Result


def test_encode_decode_round_trips_and_is_compact():
    rng = np.random.default_rng(3)
    ids = np.unique(rng.choice(200_000, size=100_000, replace=False).astype(np.int64))
    blob = m.encode(rng.permutation(ids))
    assert m.decode(blob).tolist() == ids.tolist()
    assert len(blob) < ids.nbytes / 3
    assert m.decode(m.encode(np.zeros(0, dtype=np.int64))).tolist() == []
    assert m.decode(None).tolist() == []


def test_diff_is_exact():
    old, new = m.as_sorted([5, 1, 9, 3]), m.as_sorted([3, 4, 9, 10, 10])
    joined, left = m.diff(new, old)
    assert joined.tolist() == [4, 10] and left.tolist() == [1, 5]


def test_a_recipe_comes_only_from_a_segment_and_keeps_an_explicit_top_n():
    table = Result(kind="analytics", question="how many?", answer="3", mode="offline")
    try:
        recipe_from_result(table)
    except NotASegment as exc:
        assert "ask for an audience first" in str(exc)
    else:
        raise AssertionError("an analytics answer was saved")
    seg = Result(kind="segment", question="q", answer="a", mode="agent", query=AudienceQuery(limit=50),
                 recipe=Recipe(model="m1", data_snapshot={"run_id": 4}))  # fmt: skip
    r = recipe_from_result(seg)
    assert (r.top_n, r.run_id, r.model) == (50, 4, "m1")
    page = Result(kind="segment", question="q", answer="a", mode="agent", query=AudienceQuery())
    assert recipe_from_result(page).top_n is None and recipe_from_result(page, top_n=20).top_n == 20


def test_a_lookalike_segment_is_not_saved_as_a_refreshing_audience_and_says_what_to_do():
    seg = Result(kind="segment", question="200 more like these", answer="a", mode="offline",
                 query=AudienceQuery(like=Lookalike(seed_ids=[1, 2, 3])))  # fmt: skip
    try:
        recipe_from_result(seg)
    except NotASegment as exc:
        assert "lookalike" in str(exc) and "Save the seed audience" in str(exc)
    else:
        raise AssertionError("a lookalike segment was saved as conditions it does not have")


def test_vanished_values_are_named_with_what_the_condition_now_does():
    cat = Catalogue(products=("p1", "p2"), colors=("c1",), countries=("AA",), event_types=("purchase",),
                    favorite_colors=("c1",), customers=1)  # fmt: skip
    q = AudienceQuery(
        behaviours=[
            Behaviour(event_types=["purchase"], products=["gone"]),
            Behaviour(products=["p1", "gone2"]),
            Behaviour(colors=["c9"], negate=True),
        ],
        crm=CRMFilter(countries=["AA", "ZZ"]),
    )
    notes = vanished(q, cat)
    assert notes[0].startswith("product 'gone' no longer appears in the data") and notes[0].endswith("matches nobody")
    assert notes[1].startswith("product 'gone2'") and "only the rest of its values" in notes[1]
    assert notes[2].startswith("colour 'c9'") and notes[2].endswith("now excludes nobody")
    assert notes[3].startswith("country 'ZZ'") and len(notes) == 4
    assert vanished(AudienceQuery(crm=CRMFilter(countries=["AA"])), cat) == []
