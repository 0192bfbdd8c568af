"""What is live: counts, freshness, the active collection, recent runs.

Needs only PostgreSQL: while another process holds the Qdrant local store, the vector count
is unknown (None) and `vector_store` says why; the collection is the last run's.
"""

from __future__ import annotations

import sqlalchemy as sa

from cdp.db import get_engine
from cdp.errors import VectorStoreBusy
from cdp.schema import ensure_schema, live_tables_exist
from cdp.settings import Settings
from cdp.vectors import alias_target, get_qdrant
from ingest import runs


def status(settings: Settings, *, rejects_of: int | None = None, runs_limit: int = 5) -> dict:
    engine = get_engine(settings)
    ensure_schema(engine)
    info: dict = {"live": live_tables_exist(engine), "runs": runs.recent_runs(engine, runs_limit)}
    last = runs.last_success(engine)
    info["last_success"] = last
    info["data_min_ts"] = last["data_min_ts"] if last else None
    info["data_max_ts"] = last["data_max_ts"] if last else None
    if info["live"]:
        with engine.connect() as conn:
            info["counts"] = {
                t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("customers", "events", "customer_profiles")
            }
        info["counts"]["profiles"] = info["counts"].pop("customer_profiles")
        _vectors(settings, info)
    if rejects_of is not None:
        info["rejects"] = runs.rejects(engine, rejects_of)
    return info


def _vectors(settings: Settings, info: dict) -> None:
    try:
        client = get_qdrant(settings)
    except VectorStoreBusy as exc:
        last = info["last_success"] or {}
        info["collection"], info["counts"]["vectors"] = last.get("collection"), None
        info["vector_store"] = str(exc)
        return
    info["collection"] = alias_target(client, settings.qdrant_collection)
    info["counts"]["vectors"] = client.count(settings.qdrant_collection).count if info["collection"] else 0
