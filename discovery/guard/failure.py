"""What PostgreSQL's refusal of model-written SQL means, reduced to its kind: the text that
reaches the model, a card or a log names the kind of error (from its SQLSTATE) and, for
errors about the query itself, the objects it names — never a value from the data
(`to_date(x, 'Month')` fails with the offending value in its message; that message stays
in the driver's exception)."""

from __future__ import annotations

import psycopg2.errorcodes

from discovery.guard.errors import SQLFailed

# Kinds worded as PostgreSQL's own messages begin (the model knows these words).
_KIND_WORDS = {
    "22P02": "invalid input syntax",
    "22012": "division by zero",
    "22003": "numeric value out of range",
    "22007": "invalid datetime format",
    "22008": "datetime field overflow",
    "2201B": "invalid regular expression",
    "22001": "value too long",
    "22023": "invalid parameter value",
    "22004": "null value not allowed",
}


def error_kind(code: str) -> str:
    """The kind of a SQLSTATE in words, e.g. 22007 -> 'invalid datetime format'."""
    if code in _KIND_WORDS:
        return _KIND_WORDS[code]
    name = psycopg2.errorcodes.lookup(code) if code else None
    return name.lower().replace("_", " ") if name else f"error (SQLSTATE {code or 'unknown'})"


def database_failure(exc: BaseException, timeout_ms: int) -> SQLFailed:
    """SQLFailed for a driver error (psycopg2's, or SQLAlchemy's wrapping one), in words the
    model or a user can act on, never quoting customer data."""
    orig = getattr(exc, "orig", exc)
    code = str(getattr(orig, "pgcode", None) or "")
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or error_kind(code)
    hint = getattr(diag, "message_hint", None)
    if code == "57014":
        return SQLFailed(
            f"The query took longer than {timeout_ms} ms and was cancelled; narrow it down "
            "(filter earlier, aggregate, or join on keys)",
            reason="timeout",
        )
    if code == "42501":  # names the table, column or function refused: no data
        return SQLFailed(
            f"PostgreSQL refused the query: {primary}. Only reading customers, events and customer_profiles "
            "(without e-mails or names) is permitted",
            reason="permission_denied",
        )
    if code == "25006":
        return SQLFailed(f"PostgreSQL refused the query: {primary}. Only reads are permitted", reason="read_only")
    if code.startswith("42"):
        # errors about the query name identifiers and types; a syntax error may quote a token
        detail = error_kind(code) if code == "42601" else primary + (f" ({hint})" if hint else "")
        return SQLFailed(f"PostgreSQL could not run the query: {detail}. Fix the SQL and retry", reason="invalid_sql")
    if code.startswith("22"):
        return SQLFailed(
            f"PostgreSQL could not compute the result: {error_kind(code)}. Fix the SQL and retry", reason="data_error"
        )
    if code.startswith(("53", "54")):
        return SQLFailed(
            f"The query needs more resources than allowed ({error_kind(code)}); narrow it down", reason="resources"
        )
    return SQLFailed(
        f"PostgreSQL could not run the query (SQLSTATE {code or 'unknown'}); try again or simplify it",
        reason="database_error",
    )
