"""The profile texts the ingestion assembles in SQL equal the profile-text function's, customer by
customer: on generated data and on edge cases (no events, ties, no preferred colors, luxury,
age-band boundaries, unknown countries, underscores and non-ASCII values, optional values
missing)."""

from __future__ import annotations

import sqlalchemy as sa

import ingest
from cdp.db import get_engine
from cdp.settings import Settings
from ingest.profile_text import profile_text
from ingest.profiles import text_hash
from ingest.sample import generate
from tests.conftest import SAMPLE_END, settings_fields

EDGE_CUSTOMERS = [
    # id, country, age, total_spent, favorite_color
    (9001, "DE", 17, "10.00", "blue"),  # no events at all
    (9002, "XX", 18, "5000.00", "red"),  # unknown code, luxury, ties between two products and two colors
    (9003, "DEU", 24, "999.99", "türkis"),  # alpha-3 code, one product on one color
    (9004, "Narnia", 25, "1000.01", "green"),  # a name, not a code
    (9005, "PL", 64, "0.00", "black"),  # three products with equal scores: the first two by name
    (9006, "FR", 65, "250.00", "white"),  # its only event has an empty color (stored empty): no preferred color
    (9007, "IT", 99, "1000.00", "pink"),  # exactly the luxury threshold: not luxury
    # optional values missing (stored empty): their part of the text is left out
    (9008, "", 30, "", ""),  # no country, no spend, no favourite color
    (9009, "DE", "", "2000.00", "blue"),  # no age; its one event has no product
    (9010, "", "", "", ""),  # nothing but the id
]
EDGE_EVENTS = [
    # customer, type, product, color
    (9002, "view", "watch", "red"),
    (9002, "view", "handbag", "gold"),
    (9003, "purchase", "hiking_boots", "grün"),
    (9004, "add_to_cart", "tent", "green"),
    (9004, "view", "tent", "green"),
    (9005, "view", "scarf", "red"),
    (9005, "view", "dress", "blue"),
    (9005, "view", "backpack", "red"),
    (9006, "view", "socks", ""),
    (9008, "purchase", "tent", "green"),
    (9009, "view", "", "blue"),
]


def _with_edge_cases(files) -> None:
    with files.crm.open("a", encoding="utf-8") as f:
        for cid, country, age, spent, color in EDGE_CUSTOMERS:
            f.write(
                f"{cid},First{cid},Last{cid},c{cid}@example.com,{country},{age},{spent},{color},2025-01-01 00:00:00\n"
            )
    with files.events.open("a", encoding="utf-8") as f:
        for n, (cid, kind, product, color) in enumerate(EDGE_EVENTS):
            f.write(f"{990000 + n},{cid},{kind},{product},{color},10.00,2026-10-0{1 + n % 9} 10:00:00\n")


def test_sql_profile_texts_equal_the_profile_text_function(database_url, tmp_path):
    files = generate(tmp_path / "sample", 300, 6, seed=5, end=SAMPLE_END)
    _with_edge_cases(files)
    settings = Settings(
        **settings_fields(database_url=database_url, data_dir=tmp_path / "data", luxury_threshold=1000.0)
    )
    seen: dict = {}

    def read_new_tables(stage: str) -> None:  # the profiles stage done: customer_profiles_new is built
        if stage != "profiles":
            return
        with get_engine(settings).connect() as conn:
            seen["rows"] = conn.execute(
                sa.text(
                    """SELECT p.customer_id, c.country, c.age, c.favorite_color, p.interests, p.preferred_colors,
                              p.likes_luxury, p.profile_text, p.text_hash
                       FROM customer_profiles_new p JOIN customers_new c USING (customer_id)"""
                )
            ).all()
            seen["customers"] = conn.execute(sa.text("SELECT count(*) FROM customers_new")).scalar()

    ingest.run(settings, files.crm, files.events, embed=False, after_stage=read_new_tables)
    rows, customers = seen["rows"], seen["customers"]
    assert len(rows) == customers == 300 + len(EDGE_CUSTOMERS)
    by_id = {}
    for cid, country, age, fav, interests, colors, lux, text, digest in rows:
        expected = profile_text(
            country=country,
            age=age,
            favorite_color=fav,
            interests=interests,
            preferred_colors=colors,
            likes_luxury=lux,
        )
        assert text == expected, cid
        assert digest == text_hash(expected), cid
        by_id[cid] = text
    assert by_id[9001] == "Customer from Germany, aged under 18. Favourite color: blue. No shopping activity yet."
    assert by_id[9002].endswith(
        "Interested in handbag and watch. Prefers gold and red items. This customer likes luxury items."
    )
    assert by_id[9002].startswith("Customer from XX, aged 18-24.")
    assert by_id[9003] == (
        "Customer from Germany, aged 18-24. Favourite color: türkis. Interested in hiking boots. Prefers grün items."
    )
    assert by_id[9004].startswith("Customer from Narnia, aged 25-34.") and by_id[9004].endswith("likes luxury items.")
    assert "Interested in backpack and dress. Prefers red and blue items." in by_id[9005]
    assert by_id[9006] == "Customer from France, aged 65 or older. Favourite color: white. Interested in socks."
    assert by_id[9008] == "Customer aged 25-34. Interested in tent. Prefers green items."
    assert by_id[9009] == (
        "Customer from Germany. Favourite color: blue. No shopping activity yet. Prefers blue items. "
        "This customer likes luxury items."
    )
    assert by_id[9010] == "No shopping activity yet."
    assert by_id[9007] == "Customer from Italy, aged 65 or older. Favourite color: pink. No shopping activity yet."
    # the generated customers: several distinct texts, some with luxury and some without events
    generated = [t for cid, t in by_id.items() if cid < 9000]
    assert len(set(generated)) > 100
