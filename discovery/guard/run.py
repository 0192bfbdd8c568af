"""Running accepted SQL: read-only, with a statement timeout, rows made JSON-friendly, and
PostgreSQL's refusals turned into messages the model or a user can act on.

`run_guarded` checks (discovery.guard.check), then runs the re-rendered text through
`cdp.db.read_only` on the read-only role's own pool (cdp.reader), so even a query the guard
wrongly accepted cannot write, switch role or read a personal column; results are capped
in bytes per result and per cell; PostgreSQL's errors are reduced to their kind
(discovery.guard.failure).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.db import read_only
from cdp.reader import model_pool
from cdp.schema import LIVE_TABLES
from cdp.settings import Settings
from discovery.guard.check import GuardedSQL, check_select
from discovery.guard.errors import SQLFailed
from discovery.guard.failure import database_failure

log = logging.getLogger("discovery.sql_guard")  # the guard's one logger (checking and running)

MAX_RESULT_BYTES = Settings.model_fields["sql_result_max_bytes"].default  # of a result's rows as JSON
MAX_CELL_CHARS = Settings.model_fields["sql_cell_max_chars"].default
BATCH_BYTES = 256 * 1024  # raw bytes fetched per batch, about
MAX_BATCH_ROWS = 1000


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]  # JSON-friendly values (Decimal -> float, datetime -> isoformat, ...)
    sql: str  # the text that was executed
    truncated: bool  # the guard's row limit or byte budget was reached: there may be more rows
    cut: bool = False  # the byte budget stopped the result, or a cell was cut


def run_guarded(
    engine: Engine,
    sql: str,
    *,
    timeout_ms: int,
    row_limit: int,
    allowed_tables: Collection[str] = LIVE_TABLES,
    max_bytes: int | None = None,
    cell_chars: int | None = None,
) -> QueryResult:
    """check_select, then run the re-rendered query read-only with a statement timeout on the
    read-only role's pool (`engine`'s, cdp.reader.model_pool: the main pool is never used).
    Results are capped at `max_bytes` and cells at `cell_chars` (default: the settings').

    Raises SQLRejected (nothing ran) or SQLFailed (PostgreSQL refused or cancelled it).
    """
    guarded = check_select(sql, allowed_tables=allowed_tables, row_limit=row_limit)
    reader, settings = model_pool(engine)
    return execute(
        reader,
        guarded,
        timeout_ms=timeout_ms,
        max_bytes=max_bytes or settings.sql_result_max_bytes,
        cell_chars=cell_chars or settings.sql_cell_max_chars,
    )


def execute(
    engine: Engine,
    guarded: GuardedSQL,
    *,
    timeout_ms: int,
    max_bytes: int = MAX_RESULT_BYTES,
    cell_chars: int = MAX_CELL_CHARS,
) -> QueryResult:
    """Run an accepted query read-only (READ ONLY transaction, timeout, as whoever `engine`
    logs in as: the read-only role). A query the checker accepted is read through a
    server-side cursor in batches sized to the rows seen, so neither the process nor the
    answer holds more than about `max_bytes`; cells longer than `cell_chars` are cut."""
    try:
        with read_only(engine, timeout_ms=timeout_ms) as conn:
            # no bind-parameter parsing and no parameters passed to the driver, so ':' and '%'
            # inside literals reach PostgreSQL as written
            cursor = conn.connection.cursor(name="guarded") if guarded.streamable else conn.connection.cursor()
            try:
                cursor.execute(guarded.sql)
                rows, cut = _take(cursor, max_bytes, cell_chars)
                columns = [d[0] for d in cursor.description or ()]  # a server-side cursor's: after a fetch
            finally:
                cursor.close()
    except (sa.exc.DBAPIError, psycopg2.Error) as exc:
        failure = database_failure(exc, timeout_ms)
        code = getattr(getattr(exc, "orig", exc), "pgcode", None)
        log.warning("Guarded SQL failed in PostgreSQL: %s (SQLSTATE %s)", failure.reason, code)
        raise failure from None  # the driver's message may quote a value: it goes nowhere
    except (ValueError, OverflowError):  # e.g. a date past year 9999: the message quotes it
        log.warning("Guarded SQL returned a value that cannot be read (data_error)")
        raise SQLFailed(
            "PostgreSQL returned a value that cannot be read (a date or number out of range); fix the SQL and retry",
            reason="data_error",
        ) from None
    truncated = cut or (guarded.limit_imposed and len(rows) >= guarded.limit)
    return QueryResult(columns=columns, rows=rows, sql=guarded.sql, truncated=truncated, cut=cut)


def _take(cursor, max_bytes: int, cell_chars: int) -> tuple[list[list[Any]], bool]:
    """Rows until the result's byte budget is spent; True when something was left out or cut."""
    rows: list[list[Any]] = []
    used, batch, cut = 0, 1, False
    while chunk := cursor.fetchmany(batch):
        raw = 0
        for row in chunk:
            values = []
            for value in row:
                shown, was_cut = _cell(_jsonable(value), cell_chars)
                values.append(shown)
                cut |= was_cut
            size = len(json.dumps(values, default=str))
            if used + size > max_bytes:
                return rows, True
            used += size
            raw += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
            rows.append(values)
        # the next batch holds about BATCH_BYTES of raw rows like these (one huge row at a time)
        batch = max(1, min(MAX_BATCH_ROWS, BATCH_BYTES * len(chunk) // max(raw, 1)))
    return rows, cut


def _cell(value: Any, cell_chars: int) -> tuple[Any, bool]:
    if isinstance(value, (list, dict)):
        text = json.dumps(value, default=str)
        if len(text) <= cell_chars:
            return value, False
        value = text
    if isinstance(value, str) and len(value) > cell_chars:
        return value[:cell_chars] + f" … (cut at {cell_chars} characters)", True
    return value, False


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
