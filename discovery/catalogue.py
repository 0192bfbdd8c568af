"""The vocabulary of the live data (products, colors, countries, event types), read from
PostgreSQL and cached per data snapshot. Nothing about the vocabulary is hard-coded."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Catalogue:
    products: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    favorite_colors: tuple[str, ...] = ()
    customers: int = 0
    events: int = 0
    data_min: datetime | None = None
    data_max: datetime | None = None
    run_id: int | None = None
    finished_at: datetime | None = None
    # the Qdrant collection the live snapshot's vectors are in, as PostgreSQL's swap committed it: readers
    # use it rather than the alias, so a crash between the alias switch and the commit changes no answer
    collection: str | None = None

    @property
    def empty(self) -> bool:
        return self.customers == 0


_cache: dict[tuple[str, int | None], Catalogue] = {}
_lock = threading.Lock()


def _distinct(conn, column: str, table: str) -> tuple[str, ...]:
    # event_vocabulary is small (built at ingestion); customers is scanned once per snapshot
    return tuple(r[0] for r in conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table} ORDER BY 1")))


def load_catalogue(engine: Engine) -> Catalogue:
    with engine.connect() as conn:
        # A snapshot ingested before customer_facts existed counts as none: the next ingestion
        # run rebuilds it (ingest.pipeline does not take its files as unchanged then).
        if not conn.execute(
            sa.text("SELECT to_regclass('customer_profiles') IS NOT NULL AND to_regclass('customer_facts') IS NOT NULL")
        ).scalar():
            return Catalogue()
        snap = conn.execute(
            sa.text(
                "SELECT id, finished_at, data_min_ts, data_max_ts, collection FROM ingestion_runs "
                "WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"
            )
        ).first()
        key = (str(engine.url), snap[0] if snap else None)
        with _lock:
            if key in _cache:
                return _cache[key]
        cat = Catalogue(
            products=_distinct(conn, "product", "event_vocabulary"),
            colors=_distinct(conn, "color", "event_vocabulary"),
            countries=_distinct(conn, "country", "customers"),
            event_types=_distinct(conn, "event_type", "event_vocabulary"),
            favorite_colors=_distinct(conn, "favorite_color", "customers"),
            customers=conn.execute(sa.text("SELECT count(*) FROM customers")).scalar(),
            events=conn.execute(sa.text("SELECT coalesce(sum(events), 0) FROM event_vocabulary")).scalar(),
            data_min=snap[2] if snap else None,
            data_max=snap[3] if snap else None,
            run_id=snap[0] if snap else None,
            finished_at=snap[1] if snap else None,
            collection=snap[4] if snap else None,
        )
    with _lock:
        _cache[key] = cat
    return cat
