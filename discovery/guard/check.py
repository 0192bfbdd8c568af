"""Checking model-written SQL: parse, apply the rules, render back. Pure: nothing runs here.

`check_select` parses the text with sqlglot (PostgreSQL dialect) and accepts exactly one
read query — a SELECT, or UNION / INTERSECT / EXCEPT of SELECTs, with plain-SELECT CTEs —
over allowlisted tables, calling allowlisted functions (discovery.guard.allowlist). It
injects or clamps the outermost LIMIT and returns the query RE-RENDERED from the syntax
tree (the model's own text, its comments included, is never executed).

- Tables: `LIVE_TABLES` by default, unqualified only (``pg_catalog.x``, ``public.x`` and
  ``information_schema.x`` are rejected); CTE names count only where PostgreSQL would
  resolve them (a non-recursive CTE is not visible inside its own body).
- ``generate_series`` and ``random()`` are allowed (date spines, sampling); a huge series
  is bounded by the statement timeout, not by the guard. Recursive CTEs likewise.
- Casts: any standard type; reg* / oid types and unknown (user-defined) types are rejected.
- Rejected outright: SELECT INTO, FOR UPDATE/SHARE, data-modifying CTEs, any
  non-SELECT statement (DML, DDL, EXPLAIN, COPY, SET/RESET/SHOW, transaction control,
  DO, CALL, PREPARE/EXECUTE, ...), bind parameters, more than one statement, and
  anything sqlglot cannot parse or cannot render back faithfully.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from cdp.schema import LIVE_TABLES, PERSONAL_COLUMNS
from discovery.guard.allowlist import (
    ALLOWED_FUNC_TYPES,
    ALLOWED_FUNCTION_NAMES,
    FUNCTION_HINT,
    READ_QUERY,
    SESSION_WORDS,
    STATEMENT_NODES,
)
from discovery.guard.errors import SQLRejected

log = logging.getLogger("discovery.sql_guard")  # the guard's one logger (checking and running)

DIALECT = "postgres"
MAX_SQL_CHARS = 20_000


@dataclass(frozen=True)
class GuardedSQL:
    """An accepted query: `sql` is re-rendered from the syntax tree, never the input text."""

    sql: str
    tables: tuple[str, ...]  # real tables read (CTE names excluded), sorted
    limit: int  # the outermost LIMIT after injection / clamping
    limit_imposed: bool  # True when the guard injected or lowered that LIMIT
    streamable: bool = False  # one read query (what check_select accepts): read through a cursor


def check_select(sql: str, *, allowed_tables: Collection[str] = LIVE_TABLES, row_limit: int) -> GuardedSQL:
    """Accept one read query over `allowed_tables`, or raise SQLRejected saying why.

    The outermost LIMIT is injected when missing and lowered to `row_limit` when larger.
    The returned `.sql` is rendered from the syntax tree (PostgreSQL dialect, no comments).
    """
    if row_limit < 1:
        raise ValueError("row_limit must be at least 1")
    try:
        root = parse_one(sql)
        tables = check_tree(root, allowed_tables)
        check_personal(root)
        limit, imposed = _apply_limit(root, row_limit)
        rendered = render(root)
    except SQLRejected as exc:
        log_rejection(exc, sql)
        raise
    return GuardedSQL(sql=rendered, tables=tuple(sorted(tables)), limit=limit, limit_imposed=imposed, streamable=True)


# --------------------------------------------------------------------------- parsing


def parse_one(sql: str) -> exp.Expr:
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
    if not isinstance(root, READ_QUERY):
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


def check_tree(root: exp.Expr, allowed_tables: Collection[str]) -> set[str]:
    """Apply every rule to every node; return the real tables read."""
    allowed = {t.lower() for t in allowed_tables}
    tables: set[str] = set()
    for node in root.walk():
        if isinstance(node, exp.CTE):
            if not isinstance(node.this, (*READ_QUERY, exp.Values)):
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
        elif isinstance(node, STATEMENT_NODES):
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
                f"Function {node.name.lower()} is not allowed; {FUNCTION_HINT}", reason="function_not_allowed"
            )
    return tables


_PERSONAL = frozenset(c for columns in PERSONAL_COLUMNS.values() for c in columns)
_PERSONAL_WORDS = {"email": "E-mail addresses", "first_name": "Names", "last_name": "Names"}


def check_personal(root: exp.Expr) -> None:
    """Refuse, before PostgreSQL does, a query that names a personal column (the read-only
    role has no privilege on them: cdp.schema.PERSONAL_COLUMNS)."""
    for col in root.find_all(exp.Column):
        name = norm(col.this)
        if name in _PERSONAL:
            what = _PERSONAL_WORDS.get(name, f"Personal data ({name})")
            raise SQLRejected(
                f"{what} are not available to questions; ask for a segment and download its file",
                reason="personal_column",
            )


def _is_session_word(node: exp.Expr) -> bool:
    """A bare ``user`` / ``current_role`` ...: a column to sqlglot, a function to PostgreSQL."""
    return (
        isinstance(node, exp.Column)
        and not node.table
        and isinstance(node.this, exp.Identifier)
        and not node.this.quoted
        and node.name.lower() in SESSION_WORDS
    )


def norm(ident: exp.Expr | None) -> str:
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
    name = norm(table.this)
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
    return norm(alias.this) if isinstance(alias, exp.TableAlias) else cte.alias_or_name.lower()


def _check_function(node: exp.Func) -> None:
    if isinstance(node.parent, exp.Dot) and node.parent.expression is node:
        raise SQLRejected(
            f"Function {_function_name(node.parent)} is not allowed; call functions without a schema name",
            reason="function_not_allowed",
        )
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
        if node.name.lower() in ALLOWED_FUNCTION_NAMES:
            return
    elif isinstance(node, (*ALLOWED_FUNC_TYPES, exp.Binary, exp.Predicate)):
        return  # typed allowlisted function, or an operator (->>, @>, ~, AND, ...)
    raise SQLRejected(f"Function {_function_name(node)} is not allowed; {FUNCTION_HINT}", reason="function_not_allowed")


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


def render(node: exp.Expr) -> str:
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


def log_rejection(exc: SQLRejected, sql: str) -> None:
    # The message names tables / functions / columns only; the SQL itself may hold customer
    # data in literals, so only its size and a digest are logged.
    digest = hashlib.sha256(sql.encode("utf-8", "replace")).hexdigest()[:12]
    log.warning("Model-written SQL rejected (%s): %s [%d chars, sha256 %s]", exc.reason, exc, len(sql), digest)
