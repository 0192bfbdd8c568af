"""Saved audiences as lookalike seeds: audiences.seeds.seed_resolver injected into Discovery (as the bot's
create_app and `python -m discovery` do); real stores, a saved audience evaluated on them."""

from __future__ import annotations

import pytest

from audiences.model import Recipe
from audiences.refresh import Audiences, save
from audiences.seeds import seed_resolver
from discovery.query import AudienceQuery, CRMFilter
from discovery.service import Discovery
from ingest.sample import generate
from tests.conftest import SAMPLE_END, loaded_database


@pytest.fixture(scope="module")
def stores(pg_server_url, tmp_path_factory):
    files = generate(tmp_path_factory.mktemp("seeds300"), 300, 8, seed=4, end=SAMPLE_END)
    with loaded_database(pg_server_url, tmp_path_factory.mktemp("stores"), files.crm, files.events) as settings:
        yield settings


def test_customers_like_a_saved_audience(stores):
    aud = Audiences.from_settings(stores)
    recipe = Recipe(query=AudienceQuery(crm=CRMFilter(countries=["PL"], likes_luxury=True)))
    save(aud, "Luxury PL", recipe, owner="U1", now=SAMPLE_END)
    members = seed_resolver(aud.store)("luxury pl")  # names are found in any case
    assert members and len(members) == len(set(members))

    disc = Discovery.from_settings(stores, seed_resolver(aud.store))
    r = disc.answer("30 customers like the Luxury PL audience in Germany", offline=True, now=SAMPLE_END)
    assert r.kind == "segment" and len(r.customers) == 30
    assert not {c.customer_id for c in r.customers} & set(members) and {c.country for c in r.customers} == {"DE"}
    assert r.recipe.query["like"] == {"seed_audience": "Luxury PL"}
    assert r.answer.startswith("The 30 customers most like the audience “Luxury PL” among the")

    unknown = disc.answer("customers like the Spring Sale audience", offline=True, now=SAMPLE_END)
    assert unknown.kind == "clarify" and "no saved audience named “Spring Sale”" in unknown.answer
    assert seed_resolver(aud.store)(" " * 3) is None  # not a valid name: no audience has it
