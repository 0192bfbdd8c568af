"""Issue 12, the second wall: a probe that logs in AS the model's role, with its own
credentials and no guard in front, tries every trick it knows; none reads an e-mail or a
name, none writes anything, none becomes another role. Also: the role's attributes, its
password file, the views after an ingestion swap, and the embedded server's quiet log."""

from __future__ import annotations

import os
import stat

import psycopg2
import pytest
import sqlalchemy as sa

from cdp.db import READER_ROLE
from cdp.reader import PASSWORD_FILE, reader_engine
from cdp.schema import CUSTOMERS_DDL, EVENTS_DDL, READER_SCHEMA, ensure_schema
from ingest.swap import PAIRS, swap
from tests.trust import TALLY

CUSTOMERS = [
    (1, "Anna", "Schmidt", "anna@example.com", "Germany", 34, 1200, "blue", "2024-01-10"),
    (2, "Ben", "Mueller", "ben@example.com", "Germany", 45, 300, "red", "2024-02-11"),
]
PERSONAL = [v for row in CUSTOMERS for v in row[1:4]]

# Each runs as one simple-query string on a fresh connection of the role (no guard).
ATTACKS = [
    "SELECT email FROM customers",
    "SELECT first_name, last_name FROM customers",
    "SELECT row_to_json(c) FROM customers c",
    "SELECT to_jsonb(c) FROM customers c",
    "SELECT jsonb_each(to_jsonb(c)) FROM customers c",
    "SELECT string_agg(email, ',') FROM customers",
    "SELECT string_agg(c::text, ',') FROM customers c",
    "SELECT * FROM customers",
    "SELECT * FROM public.customers",
    "SELECT email FROM public.customers",
    "SELECT row_to_json(c) FROM public.customers c",
    "SELECT to_date(email, 'Month') FROM public.customers",
    "SET search_path = public; SELECT email FROM customers",
    "SELECT set_config('search_path', 'public', true); SELECT * FROM customers",
    "COMMIT; CREATE TABLE stolen AS SELECT * FROM public.customers",
    "COMMIT; CREATE TABLE stolen (i int)",
    "COMMIT; SET default_transaction_read_only = off; CREATE TABLE stolen (i int)",
    "COMMIT; BEGIN READ WRITE; CREATE TABLE stolen (i int)",
    "COMMIT; BEGIN READ WRITE; CREATE TEMP TABLE stolen (i int)",
    f"COMMIT; BEGIN READ WRITE; CREATE TABLE {READER_SCHEMA}.stolen (i int)",
    "COMMIT; BEGIN READ WRITE; UPDATE customers SET age = 0",
    "COMMIT; BEGIN READ WRITE; DELETE FROM public.customers",
    "COMMIT; BEGIN READ WRITE; INSERT INTO public.ingestion_runs DEFAULT VALUES",
    "COMMIT; BEGIN READ WRITE; CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "RESET ROLE; SELECT raw_line FROM ingest_rejects",
    "SELECT raw_line FROM public.ingest_rejects",
    "SELECT set_config('role', 'postgres', true); SELECT email FROM public.customers",
    "SET ROLE postgres; SELECT email FROM public.customers",
    "SET SESSION AUTHORIZATION postgres; SELECT email FROM public.customers",
    "DO $$ BEGIN EXECUTE 'SET ROLE postgres'; END $$; SELECT email FROM public.customers",
    f"ALTER ROLE {READER_ROLE} SUPERUSER",
    f"COMMIT; BEGIN READ WRITE; ALTER ROLE {READER_ROLE} SUPERUSER",
    f"COMMIT; BEGIN READ WRITE; ALTER ROLE {READER_ROLE} SET default_transaction_read_only = off",
    f"COMMIT; BEGIN READ WRITE; ALTER ROLE {READER_ROLE} SET search_path = public",
    f"COMMIT; BEGIN READ WRITE; GRANT SELECT ON public.customers TO {READER_ROLE}",
    "SELECT rolpassword FROM pg_authid",
    "SELECT pg_read_file('pg_hba.conf')",
    "SELECT lo_import('/etc/hostname')",
    "COPY (SELECT 1) TO '/tmp/stolen'",
    "SELECT most_common_vals::text FROM pg_stats WHERE attname IN ('email', 'first_name', 'last_name')",
    "SELECT query FROM pg_stat_activity",
]


def personal_in(text: str) -> list[str]:
    return [p for value in PERSONAL for p in {value, value[::-1]} if p in text]


@pytest.fixture
def loaded(engine):
    with engine.begin() as conn:
        for name in ("customers", "customers_new"):
            conn.execute(sa.text(CUSTOMERS_DDL.format(name=name)))
            conn.execute(
                sa.text(f"INSERT INTO {name} VALUES (:i, :f, :l, :e, :c, :a, :t, :fc, CAST(:d AS timestamp))"),
                [dict(zip(["i", "f", "l", "e", "c", "a", "t", "fc", "d"], row, strict=True)) for row in CUSTOMERS],
            )
        conn.execute(sa.text(EVENTS_DDL.format(name="events")))
        conn.execute(
            sa.text("INSERT INTO ingest_rejects VALUES (1, 'crm', 2, 'bad age', 'x,Anna,Schmidt,anna@example.com')")
        )
        conn.execute(sa.text("ANALYZE customers"))
    ensure_schema(engine)
    return engine


def state(engine) -> dict:
    with engine.connect() as conn:
        return {
            "relations": conn.execute(
                sa.text(
                    "SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY 1) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', "
                    "'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'"
                )
            ).scalar(),
            "rows": conn.execute(
                sa.text("SELECT string_agg(c::text, '|' ORDER BY customer_id) FROM customers c")
            ).scalar(),
            "runs": conn.execute(sa.text("SELECT count(*) FROM ingestion_runs")).scalar(),
            "role": conn.execute(
                sa.text("SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
                {"r": READER_ROLE},
            ).one(),
        }


def probe(dsn: str, sql: str) -> tuple[bool, str]:
    """(refused, everything the role got back) for one attack on a fresh connection."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            got = repr(cur.fetchall()) if cur.description else ""
            conn.commit()
        return False, got
    except psycopg2.Error as exc:
        return True, str(exc)
    finally:
        conn.close()


def test_the_models_role_cannot_read_personal_data_write_or_switch_role(loaded, settings):
    reader = reader_engine(settings)
    dsn = reader.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, session_user")
        assert cur.fetchone() == (READER_ROLE, READER_ROLE)  # it logs in as the role: no SET ROLE
    before = state(loaded)
    tried = refused = 0
    for sql in ATTACKS:
        TALLY.tried("attack")
        failed, got = probe(dsn, sql)
        tried += 1
        leaked = personal_in(got)
        assert leaked == [], f"{sql!r} read {leaked}"
        refused += 1
        assert state(loaded) == before, f"{sql!r} changed something"
        TALLY.held("attack")
    assert (tried, refused) == (len(ATTACKS), len(ATTACKS))
    assert not os.path.exists("/tmp/stolen")
    # whatever defaults the role gave itself, the pool's connections start read-only on the views
    reader.dispose()
    with reader.connect() as conn:
        assert conn.execute(sa.text("SHOW default_transaction_read_only")).scalar() == "on"
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 2
        with pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("SELECT email FROM customers"))


def test_the_role_is_read_only_and_member_of_nothing(loaded, settings):
    reader_engine(settings)
    with loaded.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin, "
                "rolconfig FROM pg_roles WHERE rolname = :r"
            ),
            {"r": READER_ROLE},
        ).one()
        member_of = conn.execute(
            sa.text("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :r"),
            {"r": READER_ROLE},
        ).scalar()
        email_privilege = conn.execute(
            sa.text("SELECT has_column_privilege(:r, 'public.customers', 'email', 'SELECT')"), {"r": READER_ROLE}
        ).scalar()
    assert row[:7] == (False, False, False, False, False, False, True)
    config = dict(item.split("=", 1) for item in row.rolconfig)
    assert config["default_transaction_read_only"] == "on"
    assert config["statement_timeout"] == str(settings.sql_statement_timeout_ms)
    assert int(config["idle_in_transaction_session_timeout"]) > 0
    assert member_of == 0 and email_privilege is False
    mode = stat.S_IMODE(os.stat(settings.data_dir / PASSWORD_FILE).st_mode)
    assert mode == 0o600


def test_tables_rebuilt_by_a_swap_get_the_same_views(loaded, settings):
    with loaded.begin() as conn:
        for _, new in PAIRS:
            if new != "customers_new":
                live = new.removesuffix("_new")
                exists = conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": live}).scalar()
                conn.execute(sa.text(f"CREATE TABLE {new} (LIKE {live})" if exists else f"CREATE TABLE {new} (x int)"))
        swap(conn)
    reader = reader_engine(settings)
    with reader.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 2
        with pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("SELECT email FROM customers"))
        conn.rollback()
        with pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("SELECT email FROM public.customers"))


def test_an_external_login_that_can_write_is_refused(loaded, settings):
    from pydantic import SecretStr

    from cdp.errors import DatabaseUnavailable

    owner_url = settings.database_url
    unsafe = settings.model_copy(update={"readonly_database_url": owner_url})
    with pytest.raises(DatabaseUnavailable, match="READONLY_DATABASE_URL"):
        reader_engine(unsafe)
    safe_url = reader_engine(settings).url.render_as_string(hide_password=False)
    external = settings.model_copy(update={"readonly_database_url": SecretStr(safe_url)})
    with reader_engine(external).connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar() == READER_ROLE


def test_model_written_sql_never_runs_on_the_main_pool(loaded, settings):
    from cdp.reader import model_pool
    from discovery.sql_guard import SQLFailed, run_guarded

    reader, _ = model_pool(loaded)  # the engine of get_engine: its read-only pool
    assert reader.url.username == READER_ROLE and model_pool(reader)[0] is reader
    with pytest.raises(SQLFailed, match="permission denied"):  # run_guarded given the main engine
        run_guarded(
            loaded, "SELECT * FROM ingestion_runs", timeout_ms=5000, row_limit=5, allowed_tables=["ingestion_runs"]
        )
    with pytest.raises(ValueError, match="read-only role"):
        model_pool(sa.create_engine(loaded.url))
