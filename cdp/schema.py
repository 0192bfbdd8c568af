"""The PostgreSQL schema: live tables, ingestion bookkeeping, and what the read-only role sees.

Live tables (customers, events, customer_profiles) are created by ingestion and swapped
into place atomically; `ensure_schema` creates the bookkeeping tables, the role and its
views. The role (cdp.reader logs in as it) reads nothing but the views in READER_SCHEMA:
one per snapshot table, without the personal columns (PERSONAL_COLUMNS), so neither a
column reference nor a whole-row one (row_to_json(c), to_jsonb(c)) can reach them.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.db import READER_ROLE

log = logging.getLogger(__name__)

# Tables model-written SQL may read (the SQL guard's allowlist).
LIVE_TABLES = ("customers", "events", "customer_profiles", "event_vocabulary")
# Columns that identify a person: never readable by the read-only role (the engine's own
# statements read them to fill the files people allowed to download get).
PERSONAL_COLUMNS = {"customers": ("first_name", "last_name", "email")}
# The read-only role's schema: its search_path starts here, its views shadow the live tables.
READER_SCHEMA = "audience_reader"
# Every table of a data snapshot: the live tables, the gate's customer_facts, customer_pair_times,
# customer_type_times, customer_color_times, customer_any_type_color_times and customer_event_times
# (ingest/facts.py), which model-written SQL does not see, and the custom attributes. A snapshot lacking
# one is rebuilt by the next run even when its inputs are unchanged (and answers nothing until then:
# discovery.catalogue).
SNAPSHOT_TABLES = (
    *LIVE_TABLES, "customer_facts", "customer_pair_times", "customer_type_times", "customer_color_times",
    "customer_any_type_color_times", "customer_event_times", "customer_attributes",
)  # fmt: skip
# The custom attributes' definitions (ingest/attributes.py): `pii` ones are personal columns of
# customer_attributes, `role = 'consent'` names the consent column (consent_column below).
ATTRIBUTE_DEFS = "customer_attribute_defs"
# A custom customer attribute's column in customer_facts (ingest/facts.py builds it, the gate reads it):
# the gate filters on attributes without joining customer_attributes (a 1 M-row hash join per question).
ATTRIBUTE_COLUMN = "attr:{}"
# The gate's orders without a semantic intent (discovery.compile.ORDER_SQL), as customer_facts'
# columns: ingest/facts.py builds one index on each, so the first customers of a broad gate are
# read in order and the gate's size is a plain count (discovery/gate_top.py).
GATE_ORDERS = {
    "total_spent": "total_spent DESC NULLS LAST, customer_id",  # an unknown spend (NULL) last
    "recent_activity": "last_activity DESC NULLS LAST, customer_id",
    "purchases": "purchases DESC, total_spent DESC NULLS LAST, customer_id",
    "age": "age, customer_id",
    "age_desc": "age DESC NULLS LAST, customer_id",
}

# The columns of the live tables, in one place: ingestion creates customers and events from
# these; customer_profiles and event_vocabulary are made by CREATE TABLE AS in ingest (their
# lists here are what model-written SQL is told about; tests/cdp checks them against a load).
# Only the ids, an event's customer, type and time are required (NOT NULL); every other built-in
# field is optional: a value that is missing or does not read is stored NULL and counted in the
# run record (ingest/load.py), the row kept. The tables are rebuilt per run and swapped
# (ingest/swap.py), so a database made with the older NOT NULL columns takes these at the next run.
CUSTOMERS_COLUMNS = (
    ("customer_id", "bigint PRIMARY KEY"),
    ("first_name", "text"),
    ("last_name", "text"),
    ("email", "text"),
    ("country", "text"),
    ("age", "integer"),
    ("total_spent", "numeric(14,2)"),
    ("favorite_color", "text"),
    ("created_at", "timestamp"),
)
EVENTS_COLUMNS = (
    ("event_id", "bigint NOT NULL"),
    ("customer_id", "bigint NOT NULL"),
    ("event_type", "text NOT NULL"),
    ("product", "text"),
    ("color", "text"),
    ("price", "numeric(14,2)"),
    ("event_timestamp", "timestamp NOT NULL"),
)
# The built-in fields that may be NULL (the columns above without NOT NULL or a key).
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm": tuple(n for n, kind in CUSTOMERS_COLUMNS if "NOT NULL" not in kind and "PRIMARY KEY" not in kind),
    "events": tuple(n for n, kind in EVENTS_COLUMNS if "NOT NULL" not in kind),
}
PROFILE_COLUMNS = (
    "customer_id", "interests", "preferred_colors", "likes_luxury", "product_scores", "color_scores",
    "event_counts", "purchases", "events", "last_activity", "profile_text", "text_hash",
)  # fmt: skip
VOCABULARY_COLUMNS = ("event_type", "product", "color", "events", "first_ts", "last_ts")

LIVE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": tuple(name for name, _ in CUSTOMERS_COLUMNS),
    "events": tuple(name for name, _ in EVENTS_COLUMNS),
    "customer_profiles": PROFILE_COLUMNS,
    "event_vocabulary": VOCABULARY_COLUMNS,
}


def _ddl(columns: tuple[tuple[str, str], ...]) -> str:
    body = ",\n".join(f"    {name:<15} {kind}" for name, kind in columns)
    return "\nCREATE TABLE {name} (\n" + body + "\n)"


CUSTOMERS_DDL = _ddl(CUSTOMERS_COLUMNS)
EVENTS_DDL = _ddl(EVENTS_COLUMNS)

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
    """Create bookkeeping tables, the read-only role and its views (idempotent, concurrency-safe)."""
    with engine.begin() as conn:
        # Serialize concurrent first starts (bot + CLI) on one advisory lock.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.ensure_schema'))"))
        for ddl in BOOKKEEPING_DDL:
            conn.execute(sa.text(ddl))
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER_ROLE}).first()
        if not exists:
            conn.execute(sa.text(f"CREATE ROLE {READER_ROLE} NOLOGIN"))
        conn.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {READER_ROLE}"))
        conn.execute(sa.text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {READER_ROLE}"))
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {READER_SCHEMA}"))
        conn.execute(sa.text(f"REVOKE ALL ON SCHEMA {READER_SCHEMA} FROM PUBLIC"))
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {READER_SCHEMA} TO {READER_ROLE}"))
        if not all(_exists(conn, f"{READER_SCHEMA}.{t}") for t in SNAPSHOT_TABLES if _exists(conn, t)):
            drop_reader_views(conn)
            publish_reader_views(conn)
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


def drop_reader_views(conn: sa.Connection) -> None:
    """Before the live tables are dropped or replaced (the views depend on them)."""
    for table in SNAPSHOT_TABLES:
        conn.execute(sa.text(f"DROP VIEW IF EXISTS {READER_SCHEMA}.{table}"))


def publish_reader_views(conn: sa.Connection) -> None:
    """One view per existing snapshot table in READER_SCHEMA, without the personal columns,
    readable by the read-only role: at start-up and after every ingestion swap."""
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    for table in SNAPSHOT_TABLES:
        if not _exists(conn, table):
            continue
        personal = personal_columns(conn, table)
        columns = [
            name
            for (name,) in conn.execute(
                sa.text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position"
                ),
                {"s": schema, "t": table},
            )
            if name not in personal
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        conn.execute(sa.text(f'CREATE VIEW {READER_SCHEMA}.{table} AS SELECT {listed} FROM "{schema}"."{table}"'))
        conn.execute(sa.text(f"GRANT SELECT ON {READER_SCHEMA}.{table} TO {READER_ROLE}"))


def personal_columns(conn: sa.Connection, table: str) -> tuple[str, ...]:
    """PERSONAL_COLUMNS of `table`, and the custom attributes marked pii (customer_attributes:
    the customer ones; events: the event ones)."""
    fixed = PERSONAL_COLUMNS.get(table, ())
    scope = {"customer_attributes": "customer", "events": "event"}.get(table)
    if scope is None or not attribute_defs_ready(conn):
        return fixed
    names = conn.execute(
        sa.text(f"SELECT name FROM {ATTRIBUTE_DEFS} WHERE pii AND coalesce(scope, 'customer') = :s"), {"s": scope}
    )
    return (*fixed, *(r[0] for r in names))


def attribute_defs_ready(conn: sa.Connection) -> bool:
    """The live snapshot has the attribute definitions (a snapshot made before them has not)."""
    return bool(
        conn.execute(
            sa.text(
                "SELECT count(*) = 4 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = :t AND column_name IN ('name', 'pii', 'role', 'scope')"
            ),
            {"t": ATTRIBUTE_DEFS},
        ).scalar()
    )


def consent_column(conn: sa.Connection) -> str | None:
    """The customer_attributes column marked `role: consent` in the mapping (a boolean: true =
    opted in), or None when the live data has none."""
    if not attribute_defs_ready(conn):
        return None
    return conn.execute(
        sa.text(f"SELECT name FROM {ATTRIBUTE_DEFS} WHERE role = 'consent' AND scope = 'customer' LIMIT 1")
    ).scalar()


def _exists(conn: sa.Connection, table: str) -> bool:
    return bool(conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar())


def snapshot_tables_present(conn: sa.Connection) -> dict[str, bool]:
    """Each of SNAPSHOT_TABLES and whether it exists (one statement)."""
    rows = conn.execute(
        sa.text("SELECT t, to_regclass(t) IS NOT NULL FROM unnest(CAST(:tables AS text[])) AS t"),
        {"tables": list(SNAPSHOT_TABLES)},
    )
    return {t: bool(ok) for t, ok in rows}


def live_tables_exist(engine: Engine) -> bool:
    with engine.connect() as conn:
        return all(snapshot_tables_present(conn).values())
