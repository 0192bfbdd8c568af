"""Errors of the SQL guard.

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


class SQLGuardError(Exception):
    """Base class: the message is fit for the agent / the user; `.reason` is a short code."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SQLRejected(SQLGuardError):
    """The guard refused the SQL before anything was executed."""


class SQLFailed(SQLGuardError):
    """PostgreSQL refused or cancelled a query the guard had accepted."""
