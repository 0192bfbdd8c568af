"""Checking a WHERE fragment the model writes for the engine's own query (`sql_where`)."""

from __future__ import annotations

import re
from collections.abc import Collection

from sqlglot import exp

from cdp.schema import LIVE_COLUMNS
from discovery.guard.check import DIALECT, check_personal, check_tree, log_rejection, norm, parse_one, render
from discovery.guard.errors import SQLRejected


def table_columns(table: str) -> tuple[str, ...]:
    """The column names of a live table (cdp.schema.LIVE_COLUMNS)."""
    if table not in LIVE_COLUMNS:
        raise ValueError(f"unknown table {table!r}: pass allowed_columns")
    return LIVE_COLUMNS[table]


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
        root = parse_one(f"SELECT 1 FROM {table} WHERE {fragment}")
        _check_where_shape(root, table)
        check_tree(root, (table,))
        _check_columns(root, table, columns)
        check_personal(root)
        rendered = render(exp.Paren(this=root.args["where"].this))
    except SQLRejected as exc:
        log_rejection(exc, fragment)
        raise
    return _escape_colons(rendered)


_BIND_LIKE = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")  # what sqlalchemy.text() reads as a bind parameter


def _escape_colons(sql: str) -> str:
    return _BIND_LIKE.sub(r"\\:\1", sql)


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
        or norm(from_.this.this) != table
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
            qualifiers.add(norm(alias.this))
    for col in root.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            continue
        qualifier = norm(col.args.get("table")) if col.args.get("table") else ""
        if col.args.get("db") or col.args.get("catalog") or (qualifier and qualifier not in qualifiers):
            raise SQLRejected(
                f"Column {col.sql(dialect=DIALECT)} is not allowed; refer to columns of {table} only",
                reason="column_not_allowed",
            )
        if norm(col.this) not in columns:
            raise SQLRejected(
                f"Column {col.name} is not allowed; {table} has {', '.join(sorted(columns))}",
                reason="column_not_allowed",
            )
