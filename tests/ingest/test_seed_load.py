"""The original demo's files load exactly, and the features match an independent computation."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from cdp.vectors import get_qdrant
from ingest import run
from ingest.profile_text import LUXURY_SENTENCE
from tests.conftest import SEED_CRM, SEED_EVENTS

WEIGHTS = {"purchase": 3, "add_to_cart": 2, "view": 1}


def _top2(scores: pd.Series) -> list[str]:
    # score descending, then name ascending: the documented tie-break
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _ in ordered[:2]]


def test_seed_files_load_exactly_and_features_match(settings, engine):
    record = run(settings, SEED_CRM, SEED_EVENTS)

    assert record["status"] == "succeeded"
    assert (record["crm_loaded"], record["crm_rejected"]) == (500, 0)
    assert (record["events_loaded"], record["events_rejected"]) == (5000, 0)
    assert record["embeddings_computed"] == 500
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 500
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == 5000
        profile = conn.execute(sa.text("SELECT * FROM customer_profiles WHERE customer_id = 1")).mappings().one()

    events = pd.read_csv(SEED_EVENTS)
    mine = events[events.customer_id == 1].assign(w=lambda d: d.event_type.map(WEIGHTS).fillna(1))
    assert profile["interests"] == _top2(mine.groupby("product").w.sum())
    assert profile["preferred_colors"] == _top2(mine.groupby("color").w.sum())
    assert profile["purchases"] == int((mine.event_type == "purchase").sum())
    assert profile["events"] == len(mine)
    crm = pd.read_csv(SEED_CRM).set_index("customer_id")
    assert profile["likes_luxury"] == (crm.loc[1, "total_spent"] > 800)

    # one point per customer, id = customer_id, payload in the original demo's shape
    client = get_qdrant(settings)
    assert client.count(settings.qdrant_collection).count == 500
    point = client.retrieve(settings.qdrant_collection, [1], with_payload=True)[0]
    meta = point.payload["metadata"]
    assert point.payload["customer_id"] == 1 and meta["customer_id"] == 1
    assert meta["email"] == crm.loc[1, "email"]
    assert meta["calculated_interests"] == profile["interests"]
    text = point.payload["text"]
    assert crm.loc[1, "email"] not in text and crm.loc[1, "first_name"] not in text
    assert str(crm.loc[1, "total_spent"]) not in text
    assert (LUXURY_SENTENCE in text) == bool(profile["likes_luxury"])


def test_luxury_customers_have_the_luxury_sentence(settings, engine):
    run(settings, SEED_CRM, SEED_EVENTS)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.likes_luxury, p.profile_text, c.total_spent FROM customer_profiles p JOIN customers c USING (customer_id)"
            )
        ).all()
    assert sum(1 for r in rows if r.likes_luxury) == 304  # total_spent > 800 in the seed CRM
    for lux, text, spent in rows:
        assert lux == (spent > 800)
        assert (LUXURY_SENTENCE in text) == lux
