"""Gold answers of the evaluation on a tiny hand-written sample, against facts computed by hand."""

from __future__ import annotations

import pytest

from bench.eval.cases import CASES
from bench.eval.gold import Clarify, Data, Ids, NoData, Number, Property, Rows, Top
from bench.eval.runner import NOW
from tests.conftest import write_csv

CRM = [  # id, country, age, total_spent, favourite colour
    "1,A,A,a@x.com,DE,30,900.00,blue,2025-01-01 00:00:00",
    "2,B,B,b@x.com,PL,45,120.50,red,2025-01-01 00:00:00",
    "3,C,C,c@x.com,DE,61,2500.00,green,2025-01-01 00:00:00",
    "4,D,D,d@x.com,FR,24,40.00,pink,2025-01-01 00:00:00",
]
EVENTS = [  # now = 2026-11-01 00:00
    "1,1,purchase,socks,red,10.00,2026-10-20 10:00:00",  # red socks, within 30 days
    "2,1,view,tent,green,200.00,2026-06-01 10:00:00",
    "3,2,purchase,socks,red,8.00,2026-04-15 10:00:00",  # red socks, but more than 6 months ago
    "4,2,add_to_cart,handbag,black,300.00,2026-10-30 10:00:00",
    "5,3,view,tent,green,210.00,2026-09-10 10:00:00",
    "6,3,purchase,tent,green,210.00,2026-09-11 10:00:00",
    "7,3,purchase,watch,black,800.00,2026-10-05 10:00:00",
    "8,3,purchase,watch,gold,820.00,2026-10-06 10:00:00",
    "9,3,purchase,sneakers,blue,90.00,2026-08-01 10:00:00",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Data:
    d = tmp_path_factory.mktemp("tiny")
    crm = write_csv(
        d / "crm.csv", "customer_id,first_name,last_name,email,country,age,total_spent,favorite_color,created_at", CRM
    )
    events = write_csv(d / "events.csv", "event_id,customer_id,event_type,product,color,price,event_timestamp", EVENTS)
    return Data(crm, events, NOW)


def gold(case_id: str, data: Data):
    return next(c for c in CASES if c.id == case_id).gold(data)


@pytest.mark.parametrize(
    ("case_id", "expected"),
    [
        ("count-all", Number(4)),
        ("count-de", Number(2)),
        ("count-never-purchased", Number(1)),  # customer 4
        ("count-spent-1000", Number(1)),  # customer 3
        ("count-socks-30d", Number(1)),  # customer 1
        ("avg-spend-de", Number(1700, tol=0.01)),  # (900 + 2500) / 2
        ("max-spend-pl", Number(120.5, tol=0.01)),
        ("min-age", Number(24)),
        ("red-socks-6m", Ids(frozenset({1}))),  # customer 2 bought them on 04-15, before 05-01
        ("viewed-tent-not-bought", Ids(frozenset({1}))),  # 3 viewed a tent and bought one
        ("3-purchases", Ids(frozenset({3}))),
        ("handbag-abandoners", Ids(frozenset({2}))),
        ("never-carted", Ids(frozenset({1, 3, 4}))),
        ("not-pl-de", Ids(frozenset({4}))),
        ("spent-1000-watch-2m", Ids(frozenset({3}))),
        # issue 16: "like luxury" is the refinement: the red-socks gate, the luxury tag the property
        ("red-socks-luxury", Property(frozenset({1}), frozenset({1, 3}), "spent more than 800 (the luxury tag)")),
        ("purchases-per-month", Rows({"2026-04": 1, "2026-08": 1, "2026-09": 1, "2026-10": 3})),
        ("top5-products-purchases", Rows({"socks": 2, "watch": 2, "tent": 1, "sneakers": 1}, top=5)),
        ("oldest5-pl", Top({2: 45}, 5)),
        ("fu-luxury-fr-top5", Top({}, 5)),  # customer 4 in France spent 40
        ("vague-help", Clarify()),
        ("watch-january", NoData()),
    ],
)
def test_gold_answers_match_facts_computed_by_hand(data, case_id, expected):
    assert gold(case_id, data) == expected


def test_semantic_golds_state_the_hard_conditions_and_the_property(data):
    luxury = gold("into-luxury", data)
    assert isinstance(luxury, Property)
    assert luxury.allowed == {1, 2, 3, 4} and luxury.good == {1, 3}  # spent more than 800
    outdoor = gold("hiking-camping-at", data)
    assert outdoor.allowed == frozenset() and outdoor.good == {1, 3}  # nobody in Austria; tents
    socks = gold("socks-high-end", data)
    assert socks.allowed == {1, 2} and socks.good == {1, 3}
    assert gold("bargain-hunters", data).good == frozenset()  # median prices 105, 154, 210


def test_every_gold_computes_on_a_tiny_sample(data):
    for case in CASES:
        assert case.gold(data) is not None, case.id
