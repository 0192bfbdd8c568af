"""Questions on custom attributes through the offline planner and the real engine return the
customers and numbers pandas computes over the original export file."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from discovery.catalogue import consent_column, load_catalogue
from discovery.service import Discovery

NOW = datetime(2026, 11, 1, 12, 0)


@pytest.fixture(scope="module")
def discovery(loaded):
    return Discovery.from_settings(loaded)


@pytest.fixture(scope="module")
def df(export):
    frame = export.customers.copy()
    frame["id"] = frame["Kunden-ID"].astype(int)
    frame["orders"] = frame["Lifetime Orders"].astype(int)
    frame["joined"] = [datetime.strptime(v, "%d.%m.%Y").date() for v in frame["Joined"]]
    frame["spent"] = [Decimal(v.replace(",", ".")) for v in frame["Umsatz"]]
    return frame


def _ids(frame) -> set[int]:
    return set(frame["id"])


SEGMENTS = [
    ("gold tier customers", lambda d: d[d["Loyalty Tier"] == "gold"]),
    ("customers with loyalty tier gold or platinum", lambda d: d[d["Loyalty Tier"].isin(["gold", "platinum"])]),
    ("customers who signed up via instagram", lambda d: d[d["Signup Source"] == "instagram"]),
    ("customers who opted in to e-mail", lambda d: d[d["E-Mail Opt-in"] == "ja"]),
    ("customers who did not opt in to e-mail", lambda d: d[d["E-Mail Opt-in"] == "nein"]),
    ("customers with more than 10 lifetime orders", lambda d: d[d["orders"] > 10]),
    ("customers who joined after March 2025", lambda d: d[d["joined"] > date(2025, 3, 31)]),
    ("customers who are not gold tier", lambda d: d[d["Loyalty Tier"] != "gold"]),
    (
        "gold tier customers in München who opted in to e-mail",
        lambda d: d[(d["Loyalty Tier"] == "gold") & (d["Stadt"] == "München") & (d["E-Mail Opt-in"] == "ja")],
    ),
]


@pytest.mark.parametrize(("question", "truth"), SEGMENTS, ids=[q for q, _ in SEGMENTS])
def test_segments_on_custom_attributes_equal_pandas(discovery, df, question, truth):
    result = discovery.answer(question, offline=True, now=NOW)
    expected = _ids(truth(df))
    assert result.kind == "segment", (result.answer, result.notes)
    assert result.funnel.after_gate == len(expected), (result.recipe.query, result.notes)
    got = {c.customer_id for c in result.customers}
    assert got and got <= expected
    # one pass over the gate's own rows (customer_facts carries the attributes): no join per question
    gates = [s for s in result.recipe.sql if "FROM customer_facts" in s]
    assert gates and not any("customer_attributes" in s for s in gates)


def test_customers_per_loyalty_tier_equal_pandas(discovery, df):
    result = discovery.answer("how many customers per loyalty tier", offline=True, now=NOW)
    assert result.kind == "analytics", result.answer
    assert {r[0]: r[1] for r in result.rows} == df["Loyalty Tier"].value_counts().to_dict()


def test_average_spend_by_signup_source_equals_pandas(discovery, df):
    result = discovery.answer("average spend by signup source", offline=True, now=NOW)
    assert result.kind == "analytics", result.answer
    truth = {
        k: (sum(g["spent"]) / len(g)).quantize(Decimal("0.01"), ROUND_HALF_UP) for k, g in df.groupby("Signup Source")
    }
    assert {r[0]: Decimal(str(r[1])) for r in result.rows} == truth


def test_the_catalogue_lists_attributes_with_values_and_ranges(loaded, df):
    from cdp.db import get_engine

    engine = get_engine(loaded)
    cat = load_catalogue(engine)
    tier = cat.attribute("loyalty_tier")
    assert tier.type == "category" and set(tier.values) == set(df["Loyalty Tier"])
    orders = cat.attribute("lifetime_orders")
    assert (orders.low, orders.high) == (df["orders"].min(), df["orders"].max())
    joined = cat.attribute("joined")
    assert (joined.low, joined.high) == (min(df["joined"]), max(df["joined"]))
    assert consent_column(engine) == "e_mail_opt_in"


def test_the_segment_json_and_the_why_carry_the_attributes(discovery, df):
    result = discovery.answer("gold tier customers who opted in to e-mail", offline=True, now=NOW)
    doc = result.to_json()
    truth = df.set_index("id")
    for c in doc["customers"]:
        row = truth.loc[c["customer_id"]]
        assert c["attributes"]["loyalty_tier"] == row["Loyalty Tier"] == "gold"
        assert c["attributes"]["e_mail_opt_in"] is True
        assert c["attributes"]["stadt"] == row["Stadt"]
        assert c["attributes"]["lifetime_orders"] == row["orders"]
        assert "loyalty tier gold" in c["why"] and "e mail opt in yes" in c["why"]
        assert {"email", "favorite_color", "why"} <= set(c)  # the contract's keys stay


EVENT_SEGMENTS = [
    ("customers who bought through the app", "purchase", "Kanal", "app"),
    ("customers who viewed anything in the outdoor category", "view", "Kategorie", "outdoor"),
]


@pytest.mark.parametrize(("question", "kind", "column", "value"), EVENT_SEGMENTS, ids=[q[0] for q in EVENT_SEGMENTS])
def test_event_attributes_in_behaviours_equal_pandas(discovery, export, question, kind, column, value):
    ev = export.events_frame
    expected = set(ev[(ev["Ereignistyp"] == kind) & (ev[column] == value)]["Kunden-ID"].astype(int))
    result = discovery.answer(question, offline=True, now=NOW)
    assert result.kind == "segment", (result.answer, result.notes)
    assert result.funnel.after_gate == len(expected), (result.recipe.query, result.notes)
    assert {c.customer_id for c in result.customers} <= expected
