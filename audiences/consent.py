"""Marketing consent: the one place that says which custom attribute holds it, if the data has one.

The CRM mapping (ingest/mapping.py) marks a column `role: consent` (e.g. `email_opt_in`,
`marketing_consent`); it is stored as a custom attribute (customer_attributes). Without one, nothing
is filtered on consent and every export and delivery says "no consent data".
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from discovery.catalogue import consent_column as catalogue_consent_column

NO_CONSENT_DATA = "no consent data"
# values of a consent column that mean "yes" (compared trimmed and lower-cased; booleans read as text)
CONSENTING = ("true", "t", "yes", "y", "1", "opt-in", "opt_in", "opted-in", "opted_in", "granted", "subscribed")


def consent_column(engine: Engine) -> str | None:
    """The customer_attributes column that holds marketing consent, or None when the data has none."""
    return catalogue_consent_column(engine)


def consent_sql(column: str, alias: str = "a") -> str:
    """A SQL boolean: the customer consented (false for an empty or unknown value)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", column):
        raise ValueError(f"not a column name: {column!r}")
    values = ", ".join(f"'{v}'" for v in CONSENTING)
    return f"coalesce(lower(btrim({alias}.{column}::text)) IN ({values}), false)"
