"""Day-first or month-first: settled per date column for the whole run, never per value.

PostgreSQL reads `05/01/2026` by its DateStyle setting, so one file's dates could be read
one way and another's rejected. Here a column's dd/mm/yyyy-style values decide: a value
whose first number is above 12 proves day-first, a second number above 12 proves
month-first. A column with proof of one order is read in that order (a value that still
does not parse is a bad row); a column with proof of both, or only values that read both
ways, is refused for the run, unless DATE_ORDER states the order.
"""

from __future__ import annotations

import sqlalchemy as sa

from ingest.errors import InputFileError
from ingest.validate_sql import SLASH_DATE

_PROOF_SQL = """
SELECT min(v) FILTER (WHERE a > 12 AND b <= 12) AS day_first,
       min(v) FILTER (WHERE b > 12 AND a <= 12) AS month_first,
       min(v) FILTER (WHERE a <= 12 AND b <= 12) AS either
FROM (
    SELECT btrim({col}) AS v, (m)[1]::int AS a, (m)[2]::int AS b
    FROM (SELECT {col}, regexp_match(btrim({col}), '{pattern}') AS m FROM {table}) q
    WHERE m IS NOT NULL
) z
"""


def column_order(conn: sa.Connection, table: str, column: str, kind: str, stated: str) -> str:
    """ "DMY" or "MDY" for `column` of the staged `table`; raise InputFileError when the values
    cannot settle it and DATE_ORDER does not state it."""
    if stated in ("DMY", "MDY"):
        return stated
    sql = _PROOF_SQL.format(col=column, table=table, pattern=SLASH_DATE)
    day_first, month_first, either = conn.execute(sa.text(sql)).one()
    how = (
        "State the order with DATE_ORDER=DMY (day first: 05/01/2026 is 5 January) or DATE_ORDER=MDY "
        "(month first: 1 May), or export ISO dates (2026-01-05). The live data is unchanged."
    )
    if day_first and month_first:
        raise InputFileError(
            f"The {kind} file's {column} column mixes day-first dates (e.g. {day_first}) and month-first "
            f"dates (e.g. {month_first}): the run was refused, as some dates would be misread. {how}"
        )
    if day_first:
        return "DMY"
    if month_first:
        return "MDY"
    if either:
        raise InputFileError(
            f"The {kind} file's {column} column has dates like {either} that read both day-first and "
            f"month-first, and no value settles which: the run was refused. {how}"
        )
    return "DMY"  # no day/month/year dates in the column: the order does not matter
