"""A changed second version of a generated sample, and the expected membership computed
independently with pandas from the CSV files (not through the product's SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

TS = "event_timestamp"


def read(crm: Path, events: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_csv(crm, dtype=str, keep_default_na=False), pd.read_csv(events, dtype=str, keep_default_na=False)


def buyers(crm: pd.DataFrame, ev: pd.DataFrame, country: str, product: str, now: datetime, days: int) -> set[int]:
    """Customers in `country` with a purchase of `product` in the `days` days before `now`."""
    ts = pd.to_datetime(ev[TS])
    hit = ev[(ev.event_type == "purchase") & (ev["product"] == product) & (ts >= now - timedelta(days=days))]
    in_country = set(crm.loc[crm.country == country, "customer_id"].astype(int))
    return set(hit.customer_id.astype(int)) & in_country


@dataclass
class Changed:
    crm: Path
    events: Path
    gained: list[int]
    removed: list[int]
    moved_out: list[int]
    moved_in: list[int]


def change(crm1: Path, ev1: Path, out: Path, *, country: str, product: str, vanish: str, now: datetime,
           days: int) -> Changed:  # fmt: skip
    """v2 of the files: some customers of `country` gain a qualifying purchase, some qualifying ones are
    removed (with their events), some move out of `country`, some buyers elsewhere move in, and
    every event of the product `vanish` disappears."""
    crm, ev = read(crm1, ev1)
    q1 = sorted(buyers(crm, ev, country, product, now, days))
    ids = crm.customer_id.astype(int)
    local = sorted(set(ids[crm.country == country]) - set(q1))
    elsewhere = sorted(
        buyers(crm.assign(country=country), ev, country, product, now, days) - set(ids[crm.country == country])
    )
    gained, removed, moved_out, moved_in = local[:6], q1[:3], q1[3:6], elsewhere[:3]
    assert len(gained) == 6 and len(removed) == 3 and len(moved_out) == 3 and len(moved_in) == 3, "sample too small"
    other = crm.loc[crm.country != country, "country"].value_counts().index[0]
    crm.loc[ids.isin(moved_out), "country"] = other
    crm.loc[ids.isin(moved_in), "country"] = country
    crm = crm[~ids.isin(removed)]
    ev = ev[~ev.customer_id.astype(int).isin(removed) & (ev["product"] != vanish)]
    next_id = int(ev.event_id.astype(int).max()) + 1
    when = (now - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
    color = ev["color"].iloc[0]
    new = pd.DataFrame(
        [
            {
                "event_id": str(next_id + k),
                "customer_id": str(cid),
                "event_type": "purchase",
                "product": product,
                "color": color,
                "price": "42.50",
                TS: when,
            }
            for k, cid in enumerate(gained)
        ]  # fmt: skip
    )
    out.mkdir(parents=True, exist_ok=True)
    crm2, ev2 = out / "crm_customers.csv", out / "clickstream_events.csv"
    crm.to_csv(crm2, index=False)
    pd.concat([ev, new], ignore_index=True).to_csv(ev2, index=False)
    return Changed(crm2, ev2, gained, removed, moved_out, moved_in)
