"""One world for the package: a generated sample ingested, audiences saved on it, a changed version
ingested, and every audience refreshed from new store objects (as a new process would)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import ingest
from audiences.model import Recipe, recipe_from_result
from audiences.refresh import Audiences, Outcome, pending, refresh_all, save
from cdp.db import dispose_engines, get_engine
from cdp.settings import Settings
from discovery.query import AudienceQuery, Behaviour, CRMFilter
from discovery.service import Discovery
from ingest.sample import generate
from tests.audiences.changes import Changed, buyers, change, read
from tests.conftest import SAMPLE_END, loaded_database

NOW = SAMPLE_END
DAYS = 90
COUNTRY = "DE"


@dataclass
class World:
    settings: Settings
    v1: tuple[Path, Path]
    v2: Changed
    product: str
    vanish: str
    run2: int
    pending_before: list[str]
    saved_size: int
    outcomes: dict[str, Outcome]

    def audiences(self) -> Audiences:
        return Audiences.from_settings(self.settings)


def pick_products(crm_path: Path, ev_path: Path) -> tuple[str, str]:
    """From the data: the product most bought in COUNTRY in the window, and the rarest other one."""
    crm, ev = read(crm_path, ev_path)
    counts = {p: len(buyers(crm, ev, COUNTRY, p, NOW, DAYS)) for p in sorted(set(ev["product"]))}
    product = max(counts, key=lambda p: (counts[p], p))
    rare = ev.loc[ev["product"] != product, "product"].value_counts()
    return product, str(rare.index[-1])


@pytest.fixture(scope="package")
def world(pg_server_url, tmp_path_factory):
    base = tmp_path_factory.mktemp("audiences")
    v1 = generate(base / "v1", 300, 10, seed=5, end=SAMPLE_END)
    product, vanish = pick_products(v1.crm, v1.events)
    with loaded_database(pg_server_url, base / "stores", v1.crm, v1.events) as settings:
        aud = Audiences.from_settings(settings)
        question = f"customers in Germany who purchased {product} in the last {DAYS} days"
        result = Discovery.from_settings(settings).answer(question, offline=True, now=NOW)
        _, first = save(
            aud, "DE buyers", recipe_from_result(result), owner="U1", channel="C1", thread_ts="1.1", now=NOW
        )
        vanishing = AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], products=[vanish])])
        save(aud, f"{vanish} buyers", Recipe(query=vanishing), owner="U2", now=NOW)
        broken, _ = save(aud, "Broken one", Recipe(query=AudienceQuery(crm=CRMFilter(countries=[COUNTRY]))), owner="U3",
                         now=NOW)  # fmt: skip
        v2 = change(v1.crm, v1.events, base / "v2", country=COUNTRY, product=product, vanish=vanish, now=NOW, days=DAYS)
        run2 = ingest.run(settings, v2.crm, v2.events)["id"]
        with get_engine(settings).begin() as conn:  # as if the typed query had changed shape since it was saved
            conn.execute(
                sa.text(
                    "UPDATE saved_audiences SET recipe = jsonb_set(recipe, '{query,crm,retired}', 'true') WHERE id = :id"
                ),
                {"id": broken.id},
            )
        pending_before = [a.name for a in pending(settings, aud=aud)]
        dispose_engines()  # a new process: new engine, new store objects; history comes from PostgreSQL
        outcomes = {o.audience.name: o for o in refresh_all(settings, run2, now=NOW)}
        yield World(settings, (v1.crm, v1.events), v2, product, vanish, run2, pending_before, first.size_after or 0,
                    outcomes)  # fmt: skip
