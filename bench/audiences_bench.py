"""Refreshing saved audiences after an ingestion.

python -m bench audiences --customers 100000 --events-per-customer 20 [--audiences 50]
    ingests a generated sample, saves N audiences built from the live vocabulary (purchases /
    carts / views of products and colours in windows, repeat buyers, never-bought, CRM-only,
    top-N by spend, and intents with a top-N ranked by similarity), ingests a changed version
    of the files (1 % of customers removed, 1 % moved to another country, 1 % gain a purchase),
    then times refresh_all: the total and the per-audience p50 / p95 / max. Profiles are not
    embedded by the refresh: only each distinct intent, once.
"""

from __future__ import annotations

import itertools
import statistics
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from audiences.model import Recipe
from audiences.refresh import Audiences, refresh_all, save
from bench.ingest_bench import SAMPLE_END as NOW
from bench.ingest_bench import sample
from bench.stats import percentile
from bench.stores import temp_stores
from discovery.catalogue import Catalogue
from discovery.query import AudienceQuery, Behaviour, CRMFilter, TimeWindow
from ingest.pipeline import run
from ingest.progress import Progress

INTENTS = ("luxury high-end fashion", "outdoor hiking adventures", "bargain hunters")
CHANGED_SHARE = 0.01


def recipes(cat: Catalogue, n: int) -> list[Recipe]:
    """`n` recipes of every kind, cycling through the live vocabulary (nothing hard-coded but intents)."""
    products, colors, countries = (
        itertools.cycle(cat.products),
        itertools.cycle(cat.colors),
        itertools.cycle(cat.countries),
    )
    kinds = [
        lambda: AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], products=[next(products)],
                                                    window=TimeWindow(last=90))], crm=CRMFilter(countries=[next(countries)])),
        lambda: AudienceQuery(behaviours=[Behaviour(event_types=["add_to_cart"], colors=[next(colors)],
                                                    window=TimeWindow(last=30))]),
        lambda: AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], products=[next(products)], min_events=2)]),
        lambda: AudienceQuery(behaviours=[Behaviour(event_types=["view"], products=[next(products)]),
                                          Behaviour(event_types=["purchase"], products=[next(products)], negate=True)]),
        lambda: AudienceQuery(crm=CRMFilter(countries=[next(countries)], min_age=25, max_age=44, min_spent=300)),
        lambda: AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], min_price=80, window=TimeWindow(last=60))]),
    ]  # fmt: skip
    out: list[Recipe] = []
    for i in range(n):
        if i % 10 == 8:  # an intent with a top-N: ranked by similarity over the whole gate
            q = AudienceQuery(crm=CRMFilter(countries=[next(countries)]), intent=INTENTS[i % len(INTENTS)])
            out.append(Recipe(query=q, top_n=500))
        elif i % 10 == 9:
            out.append(Recipe(query=AudienceQuery(crm=CRMFilter(min_spent=500), order_by="total_spent"), top_n=1000))
        else:
            out.append(Recipe(query=kinds[i % len(kinds)]()))
    return out


def changed_files(crm: Path, events: Path, out: Path, seed: int = 1) -> tuple[Path, Path]:
    """The sample with 1 % of customers removed (and their events), 1 % moved to another country
    and 1 % given a purchase two days before the sample's end."""
    rng = np.random.default_rng(seed)
    c = pd.read_csv(crm, dtype=str, keep_default_na=False)
    e = pd.read_csv(events, dtype=str, keep_default_na=False)
    ids = c.customer_id.to_numpy()
    k = max(1, int(len(ids) * CHANGED_SHARE))
    picked = rng.permutation(ids)
    removed, moved, gained = set(picked[:k]), set(picked[k : 2 * k]), picked[2 * k : 3 * k]
    countries = sorted(set(c.country))
    shift = {x: countries[(i + 1) % len(countries)] for i, x in enumerate(countries)}
    mask = c.customer_id.isin(moved)
    c.loc[mask, "country"] = c.loc[mask, "country"].map(shift)
    c = c[~c.customer_id.isin(removed)]
    e = e[~e.customer_id.isin(removed)]
    products = sorted(set(e["product"]))
    start = int(e.event_id.astype(np.int64).max()) + 1
    new = pd.DataFrame({
        "event_id": [str(start + i) for i in range(len(gained))],
        "customer_id": gained,
        "event_type": "purchase",
        "product": [products[i % len(products)] for i in range(len(gained))],
        "color": e["color"].iloc[0],
        "price": "99.00",
        "event_timestamp": (NOW - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f"),
    })  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    crm2, events2 = out / "crm_customers.csv", out / "clickstream_events.csv"
    c.to_csv(crm2, index=False)
    pd.concat([e, new], ignore_index=True).to_csv(events2, index=False)
    return crm2, events2


def refresh_bench(customers: int, per: float, n: int = 50) -> str:
    crm, events, n_events = sample(customers, per)
    with temp_stores("bench-audiences-") as settings:
        t0 = time.perf_counter()
        run(settings, crm, events, progress=Progress(False))
        first_ingest = time.perf_counter() - t0
        aud = Audiences.from_settings(settings)
        for i, recipe in enumerate(recipes(aud.evaluator.catalogue(), n)):
            save(aud, f"bench audience {i:02d}", recipe, owner="bench", now=NOW)
        crm2, events2 = changed_files(crm, events, settings.data_dir / "changed")
        t1 = time.perf_counter()
        record = run(settings, crm2, events2, progress=Progress(False))
        second_ingest = time.perf_counter() - t1
        aud = Audiences.from_settings(settings)  # a fresh evaluator: the intents are embedded again, once each
        t2 = time.perf_counter()
        outcomes = refresh_all(settings, record["id"], aud=aud, now=NOW)
        total = time.perf_counter() - t2
    secs = [o.seconds for o in outcomes]
    failed = [o for o in outcomes if o.status != "succeeded"]
    sizes = [o.size_after or 0 for o in outcomes]
    return (
        f"- {len(outcomes)} saved audiences refreshed after an ingestion at {customers:,} customers / "
        f"{n_events:,} events: **{total:.1f} s total**; per audience p50 {statistics.median(secs):.2f} s, "
        f"**p95 {percentile(secs, 0.95):.2f} s**, max {max(secs):.2f} s; {len(failed)} failed\n"
        f"  - members: median {int(statistics.median(sizes)):,}, max {max(sizes):,}; joined "
        f"{sum(len(o.joined) for o in outcomes):,}, left {sum(len(o.left) for o in outcomes):,} in all\n"
        f"  - intents embedded by the refresh: {aud.evaluator.intents_embedded} (profiles embedded: 0); "
        f"the changed ingestion embedded {record['embeddings_computed']:,} profiles\n"
        f"  - ingestion: first {first_ingest:.1f} s, changed files {second_ingest:.1f} s "
        f"(1 % removed, 1 % moved country, 1 % new purchase)\n"
    )
