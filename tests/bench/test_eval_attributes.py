"""The custom-attribute category: its sample (extra CRM columns, canonical ones untouched), its
mapping, its gold answers on a hand-written sample, and a run that asks it after the other categories."""

from __future__ import annotations

import pandas as pd

from bench.eval.attribute_cases import ATTRIBUTE_CASES
from bench.eval.cases import ATTRS, CATEGORIES
from bench.eval.gold import Data, Ids, Number, Rows
from bench.eval.report import ATTRIBUTE_SAMPLE, render
from bench.eval.runner import NOW, run_eval
from ingest.files import CRM
from ingest.mapping import parse_mapping
from ingest.sample import add_attributes, attribute_mapping, generate
from tests.conftest import write_csv

HEADER = f"{','.join(CRM.columns)},loyalty_tier,signup_source,email_opt_in,lifetime_orders,joined"
ROWS = [  # id, country, age, spend, colour, created; tier, source, opt-in, orders, joined
    "1,A,A,a@x.com,DE,30,900.00,gold,2025-01-01 00:00:00,gold,instagram,yes,12,2025-05-02",
    "2,B,B,b@x.com,DE,25,100.00,red,2025-01-01 00:00:00,platinum,tiktok,yes,25,2024-03-01",
    "3,C,C,c@x.com,FR,61,300.00,blue,2025-01-01 00:00:00,platinum,google,no,20,2025-03-31",
    "4,D,D,d@x.com,FR,24,41.00,pink,2025-01-01 00:00:00,bronze,tiktok,yes,3,2024-12-31",
]
EVENTS = [
    "1,1,purchase,shoes,black,80.00,2026-10-20 10:00:00",  # within 90 days
    "2,2,purchase,shoes,black,80.00,2026-05-20 10:00:00",  # more than 90 days ago
    "3,2,add_to_cart,handbag,black,300.00,2026-10-30 10:00:00",
    "4,4,add_to_cart,handbag,red,300.00,2026-10-30 10:00:00",
]


def _gold(case_id: str, data: Data):
    return next(c for c in ATTRIBUTE_CASES if c.id == case_id).gold(data)


def test_the_category_has_at_least_12_questions_apart_from_the_plain_samples():
    assert len(ATTRIBUTE_CASES) >= 12 and {c.category for c in ATTRIBUTE_CASES} == {ATTRS}
    assert ATTRS not in CATEGORIES


def test_golds_match_facts_computed_by_hand(tmp_path):
    crm = write_csv(tmp_path / "crm.csv", HEADER, ROWS)
    events = write_csv(
        tmp_path / "events.csv", "event_id,customer_id,event_type,product,color,price,event_timestamp", EVENTS
    )
    d = Data(crm, events, NOW)
    expected = {
        "attr-gold": Ids(frozenset({1})),  # the tier, not the favourite colour (both 'gold' for customer 1 only)
        "attr-gold-platinum-de": Ids(frozenset({1, 2})),
        "attr-instagram": Ids(frozenset({1})),
        "attr-not-opted-in": Ids(frozenset({3})),
        "attr-orders-10": Ids(frozenset({1, 2, 3})),
        "attr-joined-after-march-2025": Ids(frozenset({1})),  # 2025-03-31 is in March
        "attr-not-bronze": Ids(frozenset({1, 2, 3})),
        "attr-count-gold": Number(1),
        "attr-per-tier": Rows({"platinum": 2, "gold": 1, "bronze": 1}),
        "attr-avg-spend-by-source": Rows({"instagram": 900, "tiktok": 70.5, "google": 300}, tol=0.01),
        "attr-gold-shoes-90d": Ids(frozenset({1})),
        "attr-tiktok-optin-under-30": Ids(frozenset({2, 4})),
        "attr-platinum-fr-20-orders": Ids(frozenset({3})),
        "attr-joined-2024-cart": Ids(frozenset({2, 4})),
    }
    for case_id, gold in expected.items():
        assert _gold(case_id, d) == gold, case_id
    for case in ATTRIBUTE_CASES:
        assert case.gold(d) is not None, case.id


def test_the_attribute_sample_keeps_the_canonical_columns_and_is_deterministic(tmp_path):
    files = generate(tmp_path / "s", 40, 2, seed=42, end=NOW)
    a = add_attributes(files.crm, tmp_path / "a.csv", seed=42)
    b = add_attributes(files.crm, tmp_path / "b.csv", seed=42)
    assert a.read_bytes() == b.read_bytes()
    plain, extra = pd.read_csv(files.crm, dtype=str), pd.read_csv(a, dtype=str)
    pd.testing.assert_frame_equal(extra[list(plain.columns)], plain)
    assert set(extra.email_opt_in) <= {"yes", "no"} and extra.lifetime_orders.astype(int).between(0, 30).all()
    located = parse_mapping(attribute_mapping())
    assert set(located.mapping.crm.attributes) == set(extra.columns) - set(plain.columns)
    assert located.mapping.crm.attributes["email_opt_in"].role == "consent"


def test_a_run_asks_the_attribute_category_after_the_others_on_the_mapped_sample(settings, tmp_path):
    files = generate(tmp_path / "sample", 60, 4, seed=42, end=NOW)
    run = run_eval(settings, files.crm, files.events, limit=len(CATEGORIES) + 2, offline_only=True)
    offline = run.outcomes["offline"]
    # one question per category in turn, then a second count; the attribute one is asked (and listed) last
    assert [o.case.category for o in offline] == [*CATEGORIES, CATEGORIES[0], ATTRS]
    attrs = [o for o in offline if o.case.category == ATTRS]
    assert [o.case.id for o in attrs] == [ATTRIBUTE_CASES[0].id]
    assert attrs[0].kind == "segment" and not attrs[0].score.why.startswith("error")
    assert (settings.data_dir / "crm_attributes.csv").exists()
    text = render(run)
    assert f"| {ATTRS} | 1 |" in text and ATTRIBUTE_SAMPLE in text
