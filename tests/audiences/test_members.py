"""The stored membership form and the exact diff (pure functions)."""

from __future__ import annotations

import numpy as np

from audiences import members as m
from audiences.errors import NotASegment
from audiences.model import recipe_from_result
from discovery.query import AudienceQuery
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
