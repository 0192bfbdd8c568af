"""Issue 12, model-written SQL and personal data: the guard refuses personal columns first and
says what to do instead; whole-row references reach no personal column; PostgreSQL's errors
are reduced to their kind; results are capped in bytes (per result and per cell)."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from cdp.reader import reader_engine
from cdp.schema import CUSTOMERS_DDL, EVENTS_DDL, ensure_schema
from discovery.sql_guard import SQLFailed, SQLGuardError, SQLRejected, check_select, check_where, run_guarded

pytestmark = pytest.mark.trust("attack")

CUSTOMERS = [
    (1, "Anna", "Schmidt", "anna@example.com", "Germany", 34, 1200, "blue", "2024-01-10"),
    (2, "Ben", "Mueller", "ben@example.com", "Germany", 45, 300, "red", "2024-02-11"),
    (3, "Ola", "Nowak", "ola@example.com", "Poland", 29, 950, "red", "2024-03-12"),
]
PERSONAL = [v for row in CUSTOMERS for v in row[1:4]]
TIMEOUT_MS = 5000
ADVICE = "are not available to questions; ask for a segment and download its file"


def personal_in(text: str) -> list[str]:
    """Every loaded e-mail or name found in `text` (also reversed)."""
    return [p for value in PERSONAL for p in {value, value[::-1]} if p in text]


@pytest.fixture
def reader(engine, settings):
    with engine.begin() as conn:
        conn.execute(sa.text(CUSTOMERS_DDL.format(name="customers")))
        conn.execute(sa.text(EVENTS_DDL.format(name="events")))
        conn.execute(
            sa.text("INSERT INTO customers VALUES (:i, :f, :l, :e, :c, :a, :t, :fc, CAST(:d AS timestamp))"),
            [dict(zip(["i", "f", "l", "e", "c", "a", "t", "fc", "d"], row, strict=True)) for row in CUSTOMERS],
        )
    ensure_schema(engine)
    return reader_engine(settings)


# --------------------------------------------------------------------------- the guard says so first

NAMING_PERSONAL = [
    "SELECT email, count(*) FROM customers GROUP BY email",
    "SELECT string_agg(email, ',') FROM customers",
    "SELECT reverse(email) FROM customers",
    "SELECT replace(email, '@', ' at ') FROM customers",
    r"SELECT regexp_replace(email, '(.)', '\1 ', 'g') FROM customers",
    "SELECT split_part(email, '@', 1) FROM customers",
    "SELECT to_date(email, 'Month') FROM customers",
    "SELECT c.email FROM customers c",
    'SELECT "email" FROM customers',
    "SELECT first_name FROM customers",
    "SELECT upper(first_name || ' ' || last_name) FROM customers",
    "SELECT count(*) FROM customers WHERE email LIKE 'a%'",
    "WITH x AS (SELECT email AS e FROM customers) SELECT e FROM x",
    "SELECT country FROM customers ORDER BY last_name",
    "SELECT md5(email) FROM customers",
]


@pytest.mark.parametrize("sql", NAMING_PERSONAL)
def test_the_guard_refuses_personal_columns_and_says_what_to_do(sql):
    with pytest.raises(SQLRejected) as info:
        check_select(sql, row_limit=10)
    assert info.value.reason == "personal_column"
    assert ADVICE in str(info.value)
    assert ("E-mail addresses" if "email" in sql else "Names") in str(info.value)


def test_sql_where_cannot_name_personal_columns():
    with pytest.raises(SQLRejected):
        check_where("customer_id IN (SELECT customer_id FROM customers WHERE email LIKE 'a%')")
    with pytest.raises(SQLRejected) as info:
        check_where("email LIKE 'a%'", table="customers")
    assert info.value.reason == "personal_column" and ADVICE in str(info.value)


# --------------------------------------------------------------------------- the database holds anyway

WHOLE_ROW = [
    "SELECT row_to_json(c) FROM customers c",
    "SELECT to_jsonb(c) FROM customers c",
    "SELECT jsonb_each(to_jsonb(c)) FROM customers c",
    "SELECT json_agg(c) FROM customers c",
    "SELECT string_agg(CAST(c AS text), ',') FROM customers c",
    "SELECT * FROM customers",
    "SELECT c.* FROM customers c",
    "SELECT row_to_json(x) FROM (SELECT * FROM customers) x",
]


@pytest.mark.parametrize("sql", WHOLE_ROW)
def test_whole_row_references_reach_no_personal_column(reader, sql):
    try:
        result = run_guarded(reader, sql, timeout_ms=TIMEOUT_MS, row_limit=50)
    except SQLGuardError as exc:
        text = str(exc)
    else:
        assert result.rows, "the query ran: it must have returned the non-personal columns"
        text = json.dumps(result.rows) + json.dumps(result.columns)
    assert personal_in(text) == [], text


# --------------------------------------------------------------------------- errors reduced to their kind


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT to_date(country, 'Month') FROM customers", "invalid datetime format"),
        ("SELECT to_timestamp(favorite_color, 'HH24') FROM customers", "invalid"),
        ("SELECT CAST(country AS integer) FROM customers", "invalid input syntax"),
        ("SELECT CAST(favorite_color AS date) FROM customers", "invalid"),
        ("SELECT CAST(country AS jsonb) FROM customers", "invalid"),
        ("SELECT make_date(age * 1000, 1, 1) FROM customers", "cannot be read"),
    ],
)
def test_database_errors_are_reduced_to_their_kind(reader, caplog, sql, kind):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SQLFailed) as info:
        run_guarded(reader, sql, timeout_ms=TIMEOUT_MS, row_limit=10)
    assert info.value.reason == "data_error"
    assert kind in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__  # the driver's text goes nowhere
    values = ["Germany", "Poland", "blue", "red", "34000", "45000", "29000"]
    shown = str(info.value) + " ".join(r.getMessage() for r in caplog.records)
    assert [v for v in values if v in shown] == [], shown


# --------------------------------------------------------------------------- result size


def test_a_huge_result_is_cut_and_says_so(reader):
    result = run_guarded(
        reader, "SELECT lpad('x', 6000000, 'y') FROM generate_series(1, 3)", timeout_ms=20_000, row_limit=10
    )
    assert result.cut and result.truncated
    assert all(len(cell) <= 10_100 for row in result.rows for cell in row)
    assert result.rows[0][0].endswith("(cut at 10000 characters)")
    assert len(json.dumps(result.rows)) <= 2_000_000


def test_many_rows_stop_at_the_byte_budget(reader):
    result = run_guarded(
        reader,
        "SELECT lpad('x', 5000, 'y') AS v FROM generate_series(1, 1000)",
        timeout_ms=TIMEOUT_MS,
        row_limit=1000,
        max_bytes=200_000,
    )
    assert result.cut and result.truncated
    assert 30 < len(result.rows) < 1000
    assert len(json.dumps(result.rows)) <= 200_000


def test_a_small_result_is_whole(reader):
    result = run_guarded(
        reader, "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 1", timeout_ms=TIMEOUT_MS, row_limit=10
    )
    assert result.rows == [["Germany", 2], ["Poland", 1]] and not result.cut and not result.truncated
