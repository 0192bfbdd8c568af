"""Synthetic CRM and clickstream files in the seed format, of any size, deterministic for
a seed and an end time. Timestamps end at `end` (default: now), so questions about "the
last 30 days" have answers. Generated in chunks with numpy + pyarrow: 20 M events take
well under the time the pipeline needs to load them, in bounded memory.

`cohort=N` plants a hidden group of N customers sharing one combination of profile facets, drawn
from the vocabulary: a country, an age band, a favourite color, a spend range (so the luxury tag
agrees) and events only on two products of different personas in one color. Everyone else is
generated exactly as without a cohort. The members and their facets are returned (and written by
`python -m ingest sample --cohort N` to cohort.json), never into the CSV files: lookalike benchmarks
and tests take some members as seeds and measure how many of the others come back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ingest.files import CRM, EVENTS

VOCAB_FILE = Path(__file__).with_name("sample_vocab.json")
CHUNK_CUSTOMERS = 50_000


@dataclass(frozen=True)
class Cohort:
    """The planted group: its members and the facets they share."""

    ids: tuple[int, ...]
    country: str
    ages: tuple[int, int]  # inclusive; one age band of the profile text
    favorite_color: str
    products: tuple[str, str]
    color: str
    spend: tuple[float, float]

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}


@dataclass(frozen=True)
class SampleFiles:
    crm: Path
    events: Path
    customers: int
    events_count: int
    cohort: Cohort | None = None


COHORT_AGES = ((25, 34), (35, 44), (45, 54))


def plant_cohort(vocab: dict, customers: int, size: int, seed: int) -> Cohort:
    """Members and a facet combination, from their own random stream (the rest of the data is unchanged)."""
    rng = np.random.default_rng([seed, 1])
    personas = sorted(vocab["personas"])
    a, b = rng.choice(len(personas), size=2, replace=False)
    first = sorted(vocab["personas"][personas[a]]["products"])
    second = sorted(set(vocab["personas"][personas[b]]["products"]) - set(first))
    colors = sorted({c for p in vocab["personas"].values() for c in p["colors"]})
    luxury = bool(rng.random() < 0.5)
    ids = np.sort(rng.choice(np.arange(1, customers + 1), size=min(size, customers), replace=False))
    return Cohort(
        ids=tuple(int(i) for i in ids),
        country=str(rng.choice(sorted(vocab["countries"]))),
        ages=COHORT_AGES[int(rng.integers(len(COHORT_AGES)))],
        favorite_color=str(rng.choice(colors)),
        products=(str(rng.choice(first)), str(rng.choice(second))),
        color=str(rng.choice(colors)),
        spend=(1000.0, 2500.0) if luxury else (150.0, 600.0),
    )


def _weights(d: dict) -> tuple[list[str], np.ndarray]:
    keys = list(d)
    w = np.array([float(d[k]) for k in keys])
    return keys, w / w.sum()


def generate(
    out_dir: Path,
    customers: int,
    events_per_customer: float,
    seed: int = 42,
    end: datetime | None = None,
    cohort: int = 0,
) -> SampleFiles:
    vocab = json.loads(VOCAB_FILE.read_text())
    end = (end or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    crm_path, events_path = out_dir / "crm_customers.csv", out_dir / "clickstream_events.csv"
    rng = np.random.default_rng(seed)
    persona_names, persona_w = _weights({k: v["share"] for k, v in vocab["personas"].items()})
    countries, country_w = _weights(vocab["countries"])
    types, type_w = _weights(vocab["event_types"])
    all_colors = sorted({c for p in vocab["personas"].values() for c in p["colors"]})
    history_us = int(vocab["history_days"] * 86400 * 1_000_000)
    end_us = int((end - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    planted = plant_cohort(vocab, customers, cohort, seed) if cohort > 0 else None
    members = np.asarray(planted.ids if planted else (), dtype=np.int64)
    crng = np.random.default_rng([seed, 2])
    n_events_total = 0
    next_event_id = 1
    with open(crm_path, "wb") as crm_f, open(events_path, "wb") as ev_f:
        crm_f.write((",".join(CRM.columns) + "\n").encode())
        ev_f.write((",".join(EVENTS.columns) + "\n").encode())
        for start in range(0, customers, CHUNK_CUSTOMERS):
            n = min(CHUNK_CUSTOMERS, customers - start)
            ids = np.arange(start + 1, start + n + 1, dtype=np.int64)
            persona = rng.choice(len(persona_names), size=n, p=persona_w)
            spend = np.empty(n)
            fav = np.empty(n, dtype=object)
            for pi, name in enumerate(persona_names):
                mask = persona == pi
                k = int(mask.sum())
                lo, hi = vocab["personas"][name]["spend"]
                spend[mask] = np.round(rng.uniform(lo, hi, size=k), 2)
                pcolors, pcw = _weights(vocab["personas"][name]["colors"])
                own = rng.random(k) < vocab["favorite_color_from_persona"]
                fav[mask] = np.where(own, rng.choice(pcolors, size=k, p=pcw), rng.choice(all_colors, size=k))
            created = end_us - rng.integers(0, 3 * 365 * 86400 * 1_000_000, size=n)
            country = rng.choice(countries, size=n, p=country_w)
            age = rng.integers(18, 76, size=n)
            fav = fav.astype(str)
            if planted is not None and (hit := np.isin(ids, members)).any():
                k = int(hit.sum())
                country = np.where(hit, planted.country, country)
                age[hit] = crng.integers(planted.ages[0], planted.ages[1] + 1, size=k)
                fav = np.where(hit, planted.favorite_color, fav)
                spend[hit] = np.round(crng.uniform(*planted.spend, size=k), 2)
            crm = pa.table(
                {
                    "customer_id": ids,
                    "first_name": [f"User{i}" for i in ids],
                    "last_name": [f"Test{i}" for i in ids],
                    "email": [f"user{i}@example.com" for i in ids],
                    "country": country,
                    "age": age,
                    "total_spent": spend,
                    "favorite_color": fav,
                    "created_at": pa.array(created, type=pa.timestamp("us")),
                }
            )
            pacsv.write_csv(crm, crm_f, write_options=opts)

            counts = rng.poisson(events_per_customer, size=n)
            total = int(counts.sum())
            cust = np.repeat(ids, counts)
            cpersona = np.repeat(persona, counts)
            products = np.empty(total, dtype=object)
            colors = np.empty(total, dtype=object)
            prices = np.empty(total)
            for pi, name in enumerate(persona_names):
                mask = cpersona == pi
                k = int(mask.sum())
                spec = vocab["personas"][name]
                pp, ppw = _weights(spec["products"])
                pc, pcw = _weights(spec["colors"])
                products[mask] = rng.choice(pp, size=k, p=ppw)
                colors[mask] = rng.choice(pc, size=k, p=pcw)
                prices[mask] = np.round(rng.uniform(*spec["price"], size=k), 2)
            if planted is not None and (hit := np.isin(cust, members)).any():
                k = int(hit.sum())
                products[hit] = crng.choice(planted.products, size=k)
                colors[hit] = planted.color
            ts = end_us - rng.integers(0, history_us, size=total)
            events = pa.table(
                {
                    "event_id": np.arange(next_event_id, next_event_id + total, dtype=np.int64),
                    "customer_id": cust,
                    "event_type": rng.choice(types, size=total, p=type_w),
                    "product": products.astype(str),
                    "color": colors.astype(str),
                    "price": prices,
                    "event_timestamp": pa.array(ts, type=pa.timestamp("us")),
                }
            )
            pacsv.write_csv(events, ev_f, write_options=opts)
            next_event_id += total
            n_events_total += total
    return SampleFiles(crm_path, events_path, customers, n_events_total, planted)


# ---------------------------------------------------------------------------- custom attributes (optional)

ATTRIBUTE_TIERS = {"bronze": 0.45, "silver": 0.3, "gold": 0.17, "platinum": 0.08}
ATTRIBUTE_SOURCES = {"instagram": 0.3, "newsletter": 0.2, "google": 0.25, "referral": 0.15, "tiktok": 0.1}
JOINED_FROM = datetime(2023, 1, 1)
JOINED_DAYS = 1400  # up to early November 2026


def add_attributes(crm: Path, out: Path, seed: int = 42) -> Path:
    """A copy of a sample CRM file with extra CRM columns a marketing team segments on (loyalty tier,
    signup source, e-mail opt-in, lifetime orders, joined date), deterministic for a seed and drawn from
    their own random stream: the canonical columns are the file's, byte for byte. Off by default: only
    the evaluation's custom-attribute category asks for it; load it with `attribute_mapping()`."""
    table = pacsv.read_csv(crm)
    n = table.num_rows
    rng = np.random.default_rng([seed, 3])
    tiers, tier_w = _weights(ATTRIBUTE_TIERS)
    sources, source_w = _weights(ATTRIBUTE_SOURCES)
    joined = np.datetime64(JOINED_FROM.date()) + rng.integers(0, JOINED_DAYS, size=n).astype("timedelta64[D]")
    extra = {
        "loyalty_tier": rng.choice(tiers, size=n, p=tier_w),
        "signup_source": rng.choice(sources, size=n, p=source_w),
        "email_opt_in": np.where(rng.random(n) < 0.55, "yes", "no"),
        "lifetime_orders": rng.integers(0, 31, size=n),
        "joined": np.datetime_as_string(joined, unit="D"),
    }
    lines = crm.read_text(encoding="utf-8").splitlines()
    body = [",".join(map(str, row)) for row in zip(*extra.values(), strict=True)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "\n".join([f"{lines[0]},{','.join(extra)}", *(f"{a},{b}" for a, b in zip(lines[1:], body, strict=True))])
        + "\n",
        encoding="utf-8",
    )
    return out


def attribute_mapping() -> str:
    """The mapping (YAML) that loads `add_attributes`' file: the canonical columns as they are, the extra
    ones as typed custom attributes (the opt-in the consent flag)."""
    fields = "\n".join(f"    {c}: {c}" for c in CRM.columns)
    events = "\n".join(f"    {c}: {c}" for c in EVENTS.columns)
    return (
        f"crm:\n  fields:\n{fields}\n  attributes:\n"
        "    loyalty_tier: {column: loyalty_tier, type: category}\n"
        "    signup_source: {column: signup_source, type: category}\n"
        "    email_opt_in: {column: email_opt_in, type: boolean, role: consent}\n"
        "    lifetime_orders: {column: lifetime_orders, type: integer}\n"
        "    joined: {column: joined, type: date, format: '%Y-%m-%d'}\n"
        f"events:\n  fields:\n{events}\n"
    )
