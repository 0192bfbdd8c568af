"""Running accepted SQL: read-only, with a statement timeout, rows made JSON-friendly, and
PostgreSQL's refusals turned into messages the model or a user can act on.

`run_guarded` checks (discovery.guard.check), then runs the re-rendered text through
`cdp.db.read_only` (READ ONLY transaction, statement_timeout, the SELECT-only role), so
even a query the guard wrongly accepted cannot write.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.db import read_only
from cdp.schema import LIVE_TABLES
from discovery.guard.check import GuardedSQL, check_select
from discovery.guard.errors import SQLFailed

log = logging.getLogger("discovery.sql_guard")  # the guard's one logger (checking and running)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]  # JSON-friendly values (Decimal -> float, datetime -> isoformat, ...)
    sql: str  # the text that was executed
    truncated: bool  # the guard's row limit was reached: there may be more rows


def run_guarded(
    engine: Engine,
    sql: str,
    *,
    timeout_ms: int,
    row_limit: int,
    allowed_tables: Collection[str] = LIVE_TABLES,
) -> QueryResult:
    """check_select, then run the re-rendered query read-only with a statement timeout.

    Raises SQLRejected (nothing ran) or SQLFailed (PostgreSQL refused or cancelled it).
    """
    guarded = check_select(sql, allowed_tables=allowed_tables, row_limit=row_limit)
    return execute(engine, guarded, timeout_ms=timeout_ms)


def execute(engine: Engine, guarded: GuardedSQL, *, timeout_ms: int) -> QueryResult:
    """Run an accepted query read-only (READ ONLY transaction, timeout, SELECT-only role)."""
    try:
        with read_only(engine, timeout_ms=timeout_ms) as conn:
            # no bind-parameter parsing and no parameters passed to the driver, so ':' and '%'
            # inside literals reach PostgreSQL as written
            result = conn.exec_driver_sql(guarded.sql, execution_options={"no_parameters": True})
            columns = list(result.keys())
            rows = [[_jsonable(value) for value in row] for row in result.fetchall()]
    except sa.exc.DBAPIError as exc:
        failure = database_failure(exc, timeout_ms)
        log.warning(
            "Guarded SQL failed in PostgreSQL: %s (SQLSTATE %s)", failure.reason, getattr(exc.orig, "pgcode", None)
        )
        raise failure from exc
    truncated = guarded.limit_imposed and len(rows) >= guarded.limit
    return QueryResult(columns=columns, rows=rows, sql=guarded.sql, truncated=truncated)


def database_failure(exc: sa.exc.DBAPIError, timeout_ms: int) -> SQLFailed:
    """What PostgreSQL's refusal of guarded SQL means, in words the model or a user can act on
    (never quoting customer data)."""
    orig = exc.orig
    code = str(getattr(orig, "pgcode", None) or "")
    diag = getattr(orig, "diag", None)
    lines = str(orig).strip().splitlines()
    primary = getattr(diag, "message_primary", None) or (lines[0] if lines else "unknown error")
    hint = getattr(diag, "message_hint", None)
    if code == "57014":
        return SQLFailed(
            f"The query took longer than {timeout_ms} ms and was cancelled; narrow it down "
            "(filter earlier, aggregate, or join on keys)",
            reason="timeout",
        )
    if code == "42501":
        return SQLFailed(
            f"PostgreSQL refused the query: {primary}. Only reading customers, events and customer_profiles "
            "is permitted",
            reason="permission_denied",
        )
    if code == "25006":
        return SQLFailed(f"PostgreSQL refused the query: {primary}. Only reads are permitted", reason="read_only")
    if code.startswith("42"):
        return SQLFailed(
            f"PostgreSQL could not run the query: {primary}"
            + (f" ({hint})" if hint else "")
            + ". Fix the SQL and retry",
            reason="invalid_sql",
        )
    if code.startswith("22"):
        # data exceptions may quote the offending value (customer data): keep only the kind
        kind = primary.split(":", 1)[0]
        return SQLFailed(f"PostgreSQL could not compute the result: {kind}. Fix the SQL and retry", reason="data_error")
    if code.startswith(("53", "54")):
        return SQLFailed(f"The query needs more resources than allowed ({primary}); narrow it down", reason="resources")
    return SQLFailed(
        f"PostgreSQL could not run the query (SQLSTATE {code or 'unknown'}); try again or simplify it",
        reason="database_error",
    )


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
