"""The SQL guard: every path that runs model-written SQL goes through here.

`check_select` parses the text with sqlglot (PostgreSQL dialect) and accepts exactly one
read query — a SELECT, or UNION / INTERSECT / EXCEPT of SELECTs, with plain-SELECT CTEs —
over allowlisted tables, calling allowlisted functions. It injects or clamps the outermost
LIMIT and returns the query RE-RENDERED from the syntax tree (the model's own text, its
comments included, is never executed). `check_where` validates a WHERE fragment over one
table for embedding into a larger parameterized query. `run_guarded` checks, then runs the
re-rendered text through `cdp.db.read_only` (READ ONLY transaction, statement_timeout,
the SELECT-only role), so even a query the guard wrongly accepted cannot write.

Allowlist decisions:

- Tables: `LIVE_TABLES` by default, unqualified only (``pg_catalog.x``, ``public.x`` and
  ``information_schema.x`` are rejected); CTE names count only where PostgreSQL would
  resolve them (a non-recursive CTE is not visible inside its own body).
- Functions: typed sqlglot nodes in `_ALLOWED_FUNC_TYPES` (aggregates, window, date/time,
  string, math, array, jsonb accessors, casts, CASE/COALESCE...) and, for functions sqlglot
  leaves as `exp.Anonymous`, the names in `_ALLOWED_FUNCTION_NAMES`. Operators
  (``->>``, ``@>``, ``&&``, ``~``, AND/OR, which sqlglot models as binary function nodes)
  are allowed. Everything else is rejected: pg_* / lo_* / dblink* / *_to_xml, pg_sleep,
  set_config / current_setting, version(), current_user, txid_*, nextval / setval,
  repeat, format, schema-qualified calls, and any function the lists do not name.
- ``generate_series`` and ``random()`` are allowed (date spines, sampling); a huge series
  is bounded by the statement timeout, not by the guard. Recursive CTEs likewise.
- Casts: any standard type; reg* / oid types and unknown (user-defined) types are rejected.
- Rejected outright: SELECT INTO, FOR UPDATE/SHARE, data-modifying CTEs, any
  non-SELECT statement (DML, DDL, EXPLAIN, COPY, SET/RESET/SHOW, transaction control,
  DO, CALL, PREPARE/EXECUTE, ...), bind parameters, more than one statement, and
  anything sqlglot cannot parse or cannot render back faithfully.

Errors::

    SQLGuardError            base; str(error) says what happened and what to do,
    │                        .reason is a short machine-readable code
    ├── SQLRejected          the guard refused the SQL; nothing was executed
    │                        (reasons: empty, too_long, unparseable, multiple_statements,
    │                        not_select, writable_cte, select_into, locking_clause,
    │                        table_not_allowed, schema_qualified, function_not_allowed,
    │                        type_not_allowed, parameter, column_not_allowed,
    │                        not_a_condition, unstable_rendering)
    └── SQLFailed            PostgreSQL refused or cancelled the accepted query
                             (reasons: timeout, permission_denied, read_only, invalid_sql,
                             data_error, resources, database_error)
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlalchemy.engine import Engine
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from cdp.db import read_only
from cdp.schema import CUSTOMERS_DDL, EVENTS_DDL, LIVE_TABLES

log = logging.getLogger(__name__)

DIALECT = "postgres"
MAX_SQL_CHARS = 20_000

# --------------------------------------------------------------------------- errors


class SQLGuardError(Exception):
    """Base class: the message is fit for the agent / the user; `.reason` is a short code."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SQLRejected(SQLGuardError):
    """The guard refused the SQL before anything was executed."""


class SQLFailed(SQLGuardError):
    """PostgreSQL refused or cancelled a query the guard had accepted."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GuardedSQL:
    """An accepted query: `sql` is re-rendered from the syntax tree, never the input text."""

    sql: str
    tables: tuple[str, ...]  # real tables read (CTE names excluded), sorted
    limit: int  # the outermost LIMIT after injection / clamping
    limit_imposed: bool  # True when the guard injected or lowered that LIMIT


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]  # JSON-friendly values (Decimal -> float, datetime -> isoformat, ...)
    sql: str  # the text that was executed
    truncated: bool  # the guard's row limit was reached: there may be more rows


# --------------------------------------------------------------------------- allowlists

_ALLOWED_FUNC_TYPES: tuple[type[exp.Expr], ...] = (
    # aggregates
    exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.ArrayAgg, exp.GroupConcat,  # string_agg
    exp.LogicalAnd, exp.LogicalOr,  # bool_and / bool_or
    exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop,
    exp.Corr, exp.CovarPop, exp.CovarSamp, exp.RegrSlope,
    exp.PercentileCont, exp.PercentileDisc, exp.Mode,
    exp.JSONBObjectAgg, exp.JSONObjectAgg, exp.JSONArrayAgg, exp.Grouping,
    # window functions
    exp.RowNumber, exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile,
    exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue,
    # date / time (now() is CurrentTimestamp, date_part() is Extract, to_char() is TimeToStr,
    # to_date() StrToDate, to_timestamp() StrToTime / UnixToTime, date_trunc() TimestampTrunc)
    exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime, exp.Localtimestamp, exp.Localtime,
    exp.TimestampTrunc, exp.DateTrunc, exp.Extract, exp.MakeInterval, exp.TimeToStr,
    exp.StrToDate, exp.StrToTime, exp.UnixToTime, exp.ToNumber, exp.DateBin,
    exp.TimestampFromParts, exp.Date,
    # strings (position()/strpos() are StrPosition, lpad/rpad Pad, btrim/ltrim/rtrim Trim)
    exp.Lower, exp.Upper, exp.Initcap, exp.Length, exp.Substring, exp.Trim, exp.Concat,
    exp.ConcatWs, exp.Replace, exp.SplitPart, exp.StrPosition, exp.Left, exp.Right, exp.Pad,
    exp.StartsWith, exp.RegexpReplace, exp.RegexpLike, exp.RegexpILike, exp.Reverse,
    exp.Translate, exp.MD5, exp.Chr, exp.Ascii,
    # conditionals
    exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least, exp.Case, exp.If, exp.Exists,
    # math (random() is Rand)
    exp.Round, exp.Floor, exp.Ceil, exp.Abs, exp.Pow, exp.Sqrt, exp.Cbrt, exp.Ln, exp.Log,
    exp.Exp, exp.Sign, exp.Trunc, exp.WidthBucket, exp.Rand, exp.Pi,
    # casts
    exp.Cast,
    # arrays (array_length() is ArraySize, unnest() Explode / Unnest, array_cat() ArrayConcat)
    exp.Array, exp.ArraySize, exp.Explode, exp.Unnest, exp.ArrayToString, exp.StringToArray,
    exp.ArrayPosition, exp.ArrayRemove, exp.ArrayAppend, exp.ArrayPrepend, exp.ArrayConcat,
    exp.ArrayContains, exp.ArrayContainsAll, exp.ArrayContainedBy, exp.ArrayOverlaps,
    # jsonb accessors
    exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar,
    exp.JSONBContains, exp.JSONBContainsTopKey, exp.JSONBContainsAnyTopKeys,
    exp.JSONBContainsAllTopKeys,
    # series (bounded by the statement timeout)
    exp.GenerateSeries, exp.ExplodingGenerateSeries,
)  # fmt: skip

# Names for calls sqlglot leaves as exp.Anonymous (lower case). Also lists the common
# names above, in case sqlglot keeps one of them anonymous for some argument shape.
_ALLOWED_FUNCTION_NAMES: frozenset[str] = frozenset(
    {
        "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_and", "bool_or", "every", "stddev",
    "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp",
    "regr_slope", "regr_intercept", "regr_r2", "regr_count", "percentile_cont", "percentile_disc", "mode",
    "jsonb_object_agg", "json_object_agg", "jsonb_agg", "json_agg", "grouping", "row_number", "rank",
    "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    "now", "current_date", "current_timestamp", "localtimestamp", "date_trunc", "date_part", "extract", "age",
    "make_interval", "make_date", "make_timestamp", "to_char", "to_date", "to_timestamp", "to_number",
    "date_bin", "justify_days", "justify_hours", "justify_interval", "isfinite", "lower", "upper", "initcap",
    "length", "char_length", "character_length", "octet_length", "substring", "substr", "trim", "btrim",
    "ltrim", "rtrim", "lpad", "rpad", "concat", "concat_ws", "replace", "split_part", "position", "strpos",
    "left", "right", "reverse", "translate", "starts_with", "md5", "chr", "ascii", "regexp_replace",
    "regexp_match", "regexp_matches", "regexp_like", "regexp_split_to_array", "regexp_split_to_table",
    "coalesce", "nullif", "greatest", "least", "round", "floor", "ceil", "ceiling", "abs", "power", "pow",
    "sqrt", "cbrt", "ln", "log", "log10", "exp", "mod", "div", "sign", "trunc", "width_bucket", "random", "pi",
    "degrees", "radians", "scale", "gcd", "lcm", "num_nulls", "num_nonnulls", "array_length", "unnest",
    "cardinality", "array_to_string", "string_to_array", "array_position", "array_positions", "array_remove",
    "array_replace", "array_append", "array_prepend", "array_cat", "array_upper", "array_lower", "array_dims",
    "any", "all", "row", "jsonb_each", "jsonb_each_text", "jsonb_object_keys", "jsonb_array_elements",
    "jsonb_array_elements_text", "jsonb_array_length", "jsonb_typeof", "jsonb_extract_path",
    "jsonb_extract_path_text", "jsonb_build_object", "jsonb_build_array", "jsonb_strip_nulls", "to_jsonb", "row_to_json",
    "json_build_object", "to_json", "generate_series",
    }
)  # fmt: skip

# Bare words PostgreSQL evaluates as functions (sqlglot parses some as plain columns).
_SESSION_WORDS = frozenset({"user", "current_user", "session_user", "current_role", "system_user", "current_catalog"})

# Nodes that make a statement something other than a read query.
_STATEMENT_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML, exp.DDL, exp.Drop, exp.Alter, exp.TruncateTable, exp.Grant, exp.Revoke,
    exp.Command, exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Analyze,
    exp.Describe, exp.Show, exp.Use, exp.Kill, exp.Pragma, exp.Declare, exp.Cache,
    exp.Refresh, exp.Comment, exp.Returning,
)  # fmt: skip

_READ_QUERY = (exp.Select, exp.SetOperation, exp.Subquery)

_FUNCTION_HINT = (
    "use aggregates, window functions or date/time, string, math, array and jsonb functions "
    "(e.g. count, sum, date_trunc, lower, round, unnest, jsonb_each)"
)

# Columns of customer_profiles (ingest/profiles.py creates it with CREATE TABLE AS: no DDL constant).
_PROFILE_COLUMNS = (
    "customer_id", "interests", "preferred_colors", "likes_luxury", "product_scores", "color_scores",
    "event_counts", "purchases", "events", "last_activity", "profile_text", "text_hash",
)  # fmt: skip


# Columns of event_vocabulary (ingest/load.py, CREATE TABLE AS as well).
_VOCABULARY_COLUMNS = ("event_type", "product", "color", "events", "first_ts", "last_ts")


@cache
def table_columns(table: str) -> tuple[str, ...]:
    """The column names of a live table (customers / events read from the DDL in cdp.schema)."""
    if table == "customer_profiles":
        return _PROFILE_COLUMNS
    if table == "event_vocabulary":
        return _VOCABULARY_COLUMNS
    ddl = {"customers": CUSTOMERS_DDL, "events": EVENTS_DDL}.get(table)
    if ddl is None:
        raise ValueError(f"unknown table {table!r}: pass allowed_columns")
    create = sqlglot.parse_one(ddl.format(name=table), dialect=DIALECT)
    return tuple(col.name for col in create.find_all(exp.ColumnDef))


# --------------------------------------------------------------------------- public API


def check_select(sql: str, *, allowed_tables: Collection[str] = LIVE_TABLES, row_limit: int) -> GuardedSQL:
    """Accept one read query over `allowed_tables`, or raise SQLRejected saying why.

    The outermost LIMIT is injected when missing and lowered to `row_limit` when larger.
    The returned `.sql` is rendered from the syntax tree (PostgreSQL dialect, no comments).
    """
    if row_limit < 1:
        raise ValueError("row_limit must be at least 1")
    try:
        root = _parse_one(sql)
        tables = _check_tree(root, allowed_tables)
        limit, imposed = _apply_limit(root, row_limit)
        rendered = _render(root)
    except SQLRejected as exc:
        _log_rejection(exc, sql)
        raise
    return GuardedSQL(sql=rendered, tables=tuple(sorted(tables)), limit=limit, limit_imposed=imposed)


def check_where(fragment: str, *, table: str = "events", allowed_columns: Collection[str] | None = None) -> str:
    """Validate a boolean WHERE fragment over `table`; return it re-rendered, in parentheses.

    The fragment is parsed as ``SELECT 1 FROM <table> WHERE <fragment>`` and the same rules
    as `check_select` apply; in addition it may reference only `allowed_columns` (default:
    the table's columns) and only `table` (also inside subqueries). Colons that
    ``sqlalchemy.text()`` would read as bind parameters (e.g. inside ``':x'``) are escaped
    as ``\\:``, so the result can be embedded in a ``text()`` query with its own parameters.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"table must be a plain lower-case table name, not {table!r}")
    columns = {c.lower() for c in (allowed_columns if allowed_columns is not None else table_columns(table))}
    try:
        if not fragment or not fragment.strip():
            raise SQLRejected("The WHERE fragment is empty; write a condition such as price > 50", reason="empty")
        root = _parse_one(f"SELECT 1 FROM {table} WHERE {fragment}")
        _check_where_shape(root, table)
        _check_tree(root, (table,))
        _check_columns(root, table, columns)
        rendered = _render(exp.Paren(this=root.args["where"].this))
    except SQLRejected as exc:
        _log_rejection(exc, fragment)
        raise
    return _escape_colons(rendered)


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
    return _execute(engine, guarded, timeout_ms=timeout_ms)


# --------------------------------------------------------------------------- parsing


def _parse_one(sql: str) -> exp.Expr:
    if not sql or not sql.strip():
        raise SQLRejected("The SQL is empty; write one SELECT statement", reason="empty")
    if len(sql) > MAX_SQL_CHARS:
        raise SQLRejected(
            f"The SQL is {len(sql)} characters long; the limit is {MAX_SQL_CHARS}. Write a shorter query",
            reason="too_long",
        )
    try:
        statements = sqlglot.parse(sql, dialect=DIALECT, error_level=ErrorLevel.IMMEDIATE, error_message_context=0)
    except ParseError as exc:
        raise SQLRejected(
            f"Could not parse the SQL ({_describe_parse_error(exc)}); write one valid PostgreSQL SELECT statement",
            reason="unparseable",
        ) from None
    except TokenError:
        raise SQLRejected(
            "Could not parse the SQL (a string, quoted name or comment is not closed); "
            "write one valid PostgreSQL SELECT statement",
            reason="unparseable",
        ) from None
    except Exception as exc:  # RecursionError, ... : all mean "not SQL we can trust"
        raise SQLRejected(
            f"Could not parse the SQL ({type(exc).__name__}); write one valid PostgreSQL SELECT statement",
            reason="unparseable",
        ) from None
    real = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if not real:
        raise SQLRejected("The SQL contains no statement; write one SELECT statement", reason="empty")
    if len(real) > 1:
        raise SQLRejected(
            f"Only one SELECT statement is allowed; found {len(real)} statements", reason="multiple_statements"
        )
    root = real[0]
    if not isinstance(root, _READ_QUERY):
        raise SQLRejected(
            f"Only SELECT queries are allowed; {_statement_keyword(root)} statements are not", reason="not_select"
        )
    return root


def _describe_parse_error(exc: ParseError) -> str:
    detail = exc.errors[0] if exc.errors else {}
    text = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", str(detail.get("description") or "invalid syntax"))
    if detail.get("line"):
        text += f" at line {detail['line']}, column {detail.get('col')}"
    token = str(detail.get("highlight") or "")
    # Only echo identifier-like tokens: never a literal that could hold customer data.
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,29}", token):
        text += f" near {token!r}"
    return text


def _statement_keyword(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    try:
        words = node.sql(dialect=DIALECT, comments=False).split(None, 1)
    except Exception:
        words = []
    return words[0].upper() if words else type(node).__name__.upper()


# --------------------------------------------------------------------------- tree rules


def _check_tree(root: exp.Expr, allowed_tables: Collection[str]) -> set[str]:
    """Apply every rule to every node; return the real tables read."""
    allowed = {t.lower() for t in allowed_tables}
    tables: set[str] = set()
    for node in root.walk():
        if isinstance(node, exp.CTE):
            if not isinstance(node.this, (*_READ_QUERY, exp.Values)):
                raise SQLRejected(
                    f"WITH {node.alias_or_name} AS ({_statement_keyword(node.this)} ...) modifies data; "
                    "only plain SELECT CTEs are allowed",
                    reason="writable_cte",
                )
        elif isinstance(node, exp.Into):
            raise SQLRejected("SELECT INTO creates a table; remove the INTO clause", reason="select_into")
        elif isinstance(node, exp.Lock):
            raise SQLRejected(
                "Locking clauses (FOR UPDATE / FOR SHARE) are not allowed; remove them", reason="locking_clause"
            )
        elif isinstance(node, _STATEMENT_NODES):
            raise SQLRejected(
                f"Only SELECT queries are allowed; {_statement_keyword(node)} is not, even inside a query",
                reason="not_select",
            )
        elif isinstance(node, (exp.Placeholder, exp.Parameter)):
            raise SQLRejected(
                "Bind parameters ($1, :name, %(name)s) are not allowed; write the values into the query",
                reason="parameter",
            )
        elif isinstance(node, exp.Table):
            name = _check_table(node, allowed)
            if name is not None:
                tables.add(name)
        elif isinstance(node, exp.Func):
            _check_function(node)
        elif isinstance(node, exp.DataType):
            _check_type(node)
        elif _is_session_word(node):
            raise SQLRejected(
                f"Function {node.name.lower()} is not allowed; {_FUNCTION_HINT}", reason="function_not_allowed"
            )
    return tables


def _is_session_word(node: exp.Expr) -> bool:
    """A bare ``user`` / ``current_role`` ...: a column to sqlglot, a function to PostgreSQL."""
    return (
        isinstance(node, exp.Column)
        and not node.table
        and isinstance(node.this, exp.Identifier)
        and not node.this.quoted
        and node.name.lower() in _SESSION_WORDS
    )


def _norm(ident: exp.Expr | None) -> str:
    """An identifier as PostgreSQL resolves it: unquoted names fold to lower case."""
    if isinstance(ident, exp.Identifier):
        return ident.this if ident.quoted else ident.this.lower()
    return "" if ident is None else ident.name.lower()


def _check_table(table: exp.Table, allowed: set[str]) -> str | None:
    if table.args.get("db") or table.args.get("catalog"):
        schema = ".".join(p.name for p in (table.args.get("catalog"), table.args.get("db")) if p is not None)
        if isinstance(table.this, exp.Func):
            raise SQLRejected(
                f"Function {schema}.{_function_name(table.this)} is not allowed; call functions without a schema name",
                reason="function_not_allowed",
            )
        qualified = f"{schema}.{table.this.sql(dialect=DIALECT) if table.this is not None else ''}"
        raise SQLRejected(
            f"Table {qualified} is not allowed; use {_table_hint(allowed)} without a schema name",
            reason="schema_qualified",
        )
    if isinstance(table.this, exp.Func) or (table.this is None and table.args.get("rows_from")):
        return None  # a table function (its call is checked as a function) or ROWS FROM (...)
    if not isinstance(table.this, exp.Identifier):
        raise SQLRejected(
            f"This table reference is not allowed; use {_table_hint(allowed)}", reason="table_not_allowed"
        )
    name = _norm(table.this)
    if name in _visible_ctes(table):
        return None
    if name not in allowed:
        raise SQLRejected(f"Table {name} is not allowed; use {_table_hint(allowed)}", reason="table_not_allowed")
    return name


def _table_hint(allowed: Iterable[str]) -> str:
    live = [t for t in LIVE_TABLES if t in allowed]
    return ", ".join(live + sorted(set(allowed) - set(live)))


def _visible_ctes(table: exp.Table) -> set[str]:
    """CTE names PostgreSQL would resolve at this table reference.

    A non-recursive CTE is visible to the main query and to later CTEs of the same WITH,
    not to its own body (there ``FROM x`` means the real table x); WITH RECURSIVE makes
    every CTE of the list visible everywhere in it.
    """
    visible: set[str] = set()
    child: exp.Expr = table
    node = table.parent
    while node is not None:
        if isinstance(node, exp.With):
            names = [_cte_name(cte) for cte in node.expressions]
            if node.args.get("recursive"):
                visible.update(names)
            else:
                index = next(i for i, cte in enumerate(node.expressions) if cte is child)
                visible.update(names[:index])
        else:
            with_ = node.args.get("with_")
            if isinstance(with_, exp.With) and with_ is not child:
                visible.update(_cte_name(cte) for cte in with_.expressions)
        child, node = node, node.parent
    return visible


def _cte_name(cte: exp.CTE) -> str:
    alias = cte.args.get("alias")
    return _norm(alias.this) if isinstance(alias, exp.TableAlias) else cte.alias_or_name.lower()


def _check_function(node: exp.Func) -> None:
    if isinstance(node.parent, exp.Dot) and node.parent.expression is node:
        raise SQLRejected(
            f"Function {_function_name(node.parent)} is not allowed; call functions without a schema name",
            reason="function_not_allowed",
        )
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
        if node.name.lower() in _ALLOWED_FUNCTION_NAMES:
            return
    elif isinstance(node, (*_ALLOWED_FUNC_TYPES, exp.Binary, exp.Predicate)):
        return  # typed allowlisted function, or an operator (->>, @>, ~, AND, ...)
    raise SQLRejected(
        f"Function {_function_name(node)} is not allowed; {_FUNCTION_HINT}", reason="function_not_allowed"
    )


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
        return node.name.lower()
    try:
        rendered = node.sql(dialect=DIALECT, comments=False)
    except Exception:
        rendered = ""
    match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_.]*)", rendered)
    return match.group(1).lower() if match else type(node).__name__.lower()


def _check_type(node: exp.DataType) -> None:
    if isinstance(node, exp.ObjectIdentifier) or node.this == exp.DataType.Type.USERDEFINED:
        try:
            name = node.sql(dialect=DIALECT).lower()
        except Exception:
            name = "this type"
        raise SQLRejected(
            f"Type {name} is not allowed; cast to standard types "
            "(integer, numeric, text, date, timestamp, interval, boolean, jsonb, arrays)",
            reason="type_not_allowed",
        )


# --------------------------------------------------------------------------- LIMIT


def _apply_limit(root: exp.Expr, row_limit: int) -> tuple[int, bool]:
    """Inject the outermost LIMIT when missing, lower it when above row_limit."""
    current = root.args.get("limit")
    requested = None
    if isinstance(current, exp.Limit):
        requested = _int_literal(current.expression)
    elif isinstance(current, exp.Fetch):
        options = current.args.get("limit_options")
        plain = not (options and (options.args.get("percent") or options.args.get("with_ties")))
        requested = _int_literal(current.args.get("count")) if plain else None
    if requested is not None and requested <= row_limit and isinstance(current, exp.Limit):
        return requested, False
    limit = row_limit if requested is None else min(requested, row_limit)
    root.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return limit, requested is None or requested > row_limit


def _int_literal(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            value = int(node.this)
        except ValueError:
            return None
        return value if value >= 0 else None
    return None


# --------------------------------------------------------------------------- rendering


def _render(node: exp.Expr) -> str:
    """Render from the tree; refuse if the text would not parse back to the same single query."""
    try:
        rendered = node.sql(dialect=DIALECT, comments=False, unsupported_level=ErrorLevel.RAISE)
        again = [s for s in sqlglot.parse(rendered, dialect=DIALECT) if s is not None]
        stable = len(again) == 1 and again[0].sql(dialect=DIALECT, comments=False) == rendered
    except Exception:
        stable = False
    if not stable:
        raise SQLRejected(
            "This query uses syntax the guard cannot render back faithfully; rewrite it with plainer SQL",
            reason="unstable_rendering",
        )
    return rendered


_BIND_LIKE = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")  # what sqlalchemy.text() reads as a bind parameter


def _escape_colons(sql: str) -> str:
    return _BIND_LIKE.sub(r"\\:\1", sql)


# --------------------------------------------------------------------------- check_where


def _check_where_shape(root: exp.Expr, table: str) -> None:
    extra = [
        key
        for key, value in root.args.items()
        if key not in ("expressions", "from_", "where") and value not in (None, False, [])
    ]
    from_ = root.args.get("from_")
    if (
        not isinstance(root, exp.Select)
        or extra
        or root.args.get("where") is None
        or not isinstance(from_, exp.From)
        or not isinstance(from_.this, exp.Table)
        or _norm(from_.this.this) != table
        or from_.this.args.get("alias")
    ):
        raise SQLRejected(
            "The WHERE fragment must be one condition (no GROUP BY, ORDER BY, LIMIT, UNION, joins or "
            "extra clauses), e.g. event_type = 'purchase' AND price > 50",
            reason="not_a_condition",
        )


def _check_columns(root: exp.Expr, table: str, columns: set[str]) -> None:
    qualifiers = {table}
    for ref in root.find_all(exp.Table):
        alias = ref.args.get("alias")
        if alias is not None and alias.this is not None:
            qualifiers.add(_norm(alias.this))
    for col in root.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            continue
        qualifier = _norm(col.args.get("table")) if col.args.get("table") else ""
        if col.args.get("db") or col.args.get("catalog") or (qualifier and qualifier not in qualifiers):
            raise SQLRejected(
                f"Column {col.sql(dialect=DIALECT)} is not allowed; refer to columns of {table} only",
                reason="column_not_allowed",
            )
        if _norm(col.this) not in columns:
            raise SQLRejected(
                f"Column {col.name} is not allowed; {table} has {', '.join(sorted(columns))}",
                reason="column_not_allowed",
            )


# --------------------------------------------------------------------------- execution


def _execute(engine: Engine, guarded: GuardedSQL, *, timeout_ms: int) -> QueryResult:
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


def _log_rejection(exc: SQLRejected, sql: str) -> None:
    # The message names tables / functions / columns only; the SQL itself may hold customer
    # data in literals, so only its size and a digest are logged.
    digest = hashlib.sha256(sql.encode("utf-8", "replace")).hexdigest()[:12]
    log.warning("Model-written SQL rejected (%s): %s [%d chars, sha256 %s]", exc.reason, exc, len(sql), digest)
