"""The PostgreSQL schema: live tables, ingestion bookkeeping, and the read-only role.

Live tables (customers, events, customer_profiles) are created by ingestion and swapped
into place atomically; `ensure_schema` creates the bookkeeping tables and the role.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.db import READER_ROLE

log = logging.getLogger(__name__)

# Tables model-written SQL may read (the SQL guard's allowlist).
LIVE_TABLES = ("customers", "events", "customer_profiles", "event_vocabulary")
# Every table of a data snapshot: the live tables and the gate's customer_facts and
# customer_pair_times (ingest/facts.py), which model-written SQL does not see.
SNAPSHOT_TABLES = (*LIVE_TABLES, "customer_facts", "customer_pair_times")

CUSTOMERS_DDL = """
CREATE TABLE {name} (
    customer_id    bigint PRIMARY KEY,
    first_name     text NOT NULL,
    last_name      text NOT NULL,
    email          text NOT NULL,
    country        text NOT NULL,
    age            integer NOT NULL,
    total_spent    numeric(14,2) NOT NULL,
    favorite_color text NOT NULL,
    created_at     timestamp NOT NULL
)"""

EVENTS_DDL = """
CREATE TABLE {name} (
    event_id        bigint NOT NULL,
    customer_id     bigint NOT NULL,
    event_type      text NOT NULL,
    product         text NOT NULL,
    color           text NOT NULL,
    price           numeric(14,2) NOT NULL,
    event_timestamp timestamp NOT NULL
)"""

BOOKKEEPING_DDL = [
    """
    CREATE TABLE IF NOT EXISTS ingestion_runs (
        id                  bigserial PRIMARY KEY,
        started_at          timestamptz NOT NULL DEFAULT now(),
        finished_at         timestamptz,
        status              text NOT NULL DEFAULT 'running',
        trigger             text NOT NULL DEFAULT 'cli',
        crm_file            text,
        events_file         text,
        crm_sha256          text,
        events_sha256       text,
        crm_loaded          bigint NOT NULL DEFAULT 0,
        crm_rejected        bigint NOT NULL DEFAULT 0,
        events_loaded       bigint NOT NULL DEFAULT 0,
        events_rejected     bigint NOT NULL DEFAULT 0,
        reject_reasons      jsonb NOT NULL DEFAULT '{}'::jsonb,
        profiles_added      bigint NOT NULL DEFAULT 0,
        profiles_changed    bigint NOT NULL DEFAULT 0,
        profiles_removed    bigint NOT NULL DEFAULT 0,
        embeddings_computed bigint NOT NULL DEFAULT 0,
        embeddings_skipped  bigint NOT NULL DEFAULT 0,
        texts_embedded      bigint NOT NULL DEFAULT 0,
        payloads_updated    bigint NOT NULL DEFAULT 0,
        stage_seconds       jsonb NOT NULL DEFAULT '{}'::jsonb,
        collection          text,
        embedding_model     text,
        data_min_ts         timestamp,
        data_max_ts         timestamp,
        error               text
    )""",
    "ALTER TABLE ingestion_runs ADD COLUMN IF NOT EXISTS crm_bytes bigint",
    "ALTER TABLE ingestion_runs ADD COLUMN IF NOT EXISTS events_bytes bigint",
    """
    CREATE TABLE IF NOT EXISTS ingest_rejects (
        run_id   bigint NOT NULL,
        file     text NOT NULL,
        line_no  bigint NOT NULL,
        reason   text NOT NULL,
        raw_line text
    )""",
    "CREATE INDEX IF NOT EXISTS ingest_rejects_run ON ingest_rejects (run_id, file, line_no)",
    """
    CREATE TABLE IF NOT EXISTS embedding_state (
        collection  text NOT NULL,
        customer_id bigint NOT NULL,
        text_hash   text NOT NULL,
        payload_hash text NOT NULL,
        PRIMARY KEY (collection, customer_id)
    )""",
]


def ensure_schema(engine: Engine) -> None:
    """Create bookkeeping tables and the SELECT-only role (idempotent, concurrency-safe)."""
    with engine.begin() as conn:
        # Serialize concurrent first starts (bot + CLI) on one advisory lock.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.ensure_schema'))"))
        for ddl in BOOKKEEPING_DDL:
            conn.execute(sa.text(ddl))
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER_ROLE}).first()
        if not exists:
            conn.execute(sa.text(f"CREATE ROLE {READER_ROLE} NOLOGIN"))
        conn.execute(sa.text(f"GRANT {READER_ROLE} TO CURRENT_USER"))
        conn.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {READER_ROLE}"))
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {READER_ROLE}"))
        grant_reader(conn, [t for t in SNAPSHOT_TABLES if _exists(conn, t)])
    _intarray(engine)


def _intarray(engine: Engine) -> None:
    """intarray (a contrib extension, trusted): its && compares int arrays as sorted sets, about
    twice as fast as the built-in operator on customer_facts.items. Optional: without it (not
    installed, or no CREATE right) the built-in operator gives the same answers."""
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'intarray'")).first():
            return
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.ensure_schema'))"))
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS intarray"))
    except sa.exc.DBAPIError as exc:
        log.info("intarray not available (%s); the gate uses the built-in array operators", exc.orig)


def grant_reader(conn: sa.Connection, tables: list[str]) -> None:
    for table in tables:
        conn.execute(sa.text(f'GRANT SELECT ON "{table}" TO {READER_ROLE}'))


def _exists(conn: sa.Connection, table: str) -> bool:
    return conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar()


def live_tables_exist(engine: Engine) -> bool:
    with engine.connect() as conn:
        return all(_exists(conn, t) for t in SNAPSHOT_TABLES)
