"""Marketing consent: the one place that says which customers column holds it, if the data has one.

The CRM mapping of the own-data issue (#13) declares a column with `role: consent` (e.g.
`email_opt_in`, `marketing_consent`). Until it lands the data has none: consent_column returns None,
nothing is filtered on consent and every export and delivery says "no consent data". Wiring it to
the mapping is a change to consent_column alone.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

NO_CONSENT_DATA = "no consent data"
# values of a consent column that mean "yes" (compared trimmed and lower-cased; booleans read as text)
CONSENTING = ("true", "t", "yes", "y", "1", "opt-in", "opt_in", "opted-in", "opted_in", "granted", "subscribed")


def consent_column(engine: Engine) -> str | None:
    """The customers column that holds marketing consent, or None when the data has none (today:
    always None; #13's mapping with `role: consent` answers here)."""
    return None


def consent_sql(column: str, alias: str = "c") -> str:
    """A SQL boolean: the customer consented (false for an empty or unknown value)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", column):
        raise ValueError(f"not a column name: {column!r}")
    values = ", ".join(f"'{v}'" for v in CONSENTING)
    return f"coalesce(lower(btrim({alias}.{column}::text)) IN ({values}), false)"
