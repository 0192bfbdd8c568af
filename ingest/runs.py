"""Run records: the ingestion_runs table (one row per run) and the rejects of a run."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

RUN_COLUMNS = (
    "id", "started_at", "finished_at", "status", "trigger", "crm_file", "events_file", "crm_sha256", "events_sha256", "crm_bytes", "events_bytes",
    "crm_loaded", "crm_rejected", "events_loaded", "events_rejected", "reject_reasons", "profiles_added",
    "profiles_changed", "profiles_removed", "embeddings_computed", "embeddings_skipped", "texts_embedded",
    "payloads_updated", "stage_seconds", "collection", "embedding_model", "data_min_ts", "data_max_ts", "error",
)  # fmt: skip

_JSON = {"reject_reasons", "stage_seconds"}


def start_run(engine: Engine, *, trigger: str, crm_file: str, events_file: str) -> int:
    with engine.begin() as conn:
        return conn.execute(
            sa.text("INSERT INTO ingestion_runs (trigger, crm_file, events_file) VALUES (:t, :c, :e) RETURNING id"),
            {"t": trigger, "c": crm_file, "e": events_file},
        ).scalar_one()


def update_run(conn: Connection | Engine, run_id: int, **fields: Any) -> None:
    if not fields:
        return
    unknown = set(fields) - set(RUN_COLUMNS)
    if unknown:
        raise ValueError(f"unknown run fields {unknown}")
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    params = {k: (json.dumps(v) if k in _JSON else v) for k, v in fields.items()}
    params["id"] = run_id
    stmt = sa.text(f"UPDATE ingestion_runs SET {sets} WHERE id = :id")
    if isinstance(conn, Engine):
        with conn.begin() as c:
            c.execute(stmt, params)
    else:
        conn.execute(stmt, params)


def get_run(engine: Engine, run_id: int) -> dict:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM ingestion_runs WHERE id = :id"), {"id": run_id}).mappings().one()
    return _plain(row)


def recent_runs(engine: Engine, limit: int = 5) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM ingestion_runs ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings()
        return [_plain(r) for r in rows]


def last_success(engine: Engine) -> dict | None:
    with engine.connect() as conn:
        row = (
            conn.execute(sa.text("SELECT * FROM ingestion_runs WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"))
            .mappings()
            .first()
        )
    return _plain(row) if row else None


def rejects(engine: Engine, run_id: int, limit: int = 100) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT file, line_no, reason, raw_line FROM ingest_rejects WHERE run_id = :r "
                "ORDER BY file, line_no LIMIT :n"
            ),
            {"r": run_id, "n": limit},
        ).mappings()
        return [dict(r) for r in rows]


def _plain(row) -> dict:
    out = {}
    for k, v in dict(row).items():
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    return out
