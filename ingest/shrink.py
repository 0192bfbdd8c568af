"""The shrink guard: a run may not remove more than MAX_SHRINK of the live customers unless told
to (`--allow-shrink`), so a truncated or header-only export cannot wipe the live data."""

from __future__ import annotations

import sqlalchemy as sa

from ingest.errors import ShrinkRefused

_REMOVED_SQL = """
SELECT (SELECT count(*) FROM customers) AS live,
       (SELECT count(*) FROM customers l
         WHERE NOT EXISTS (SELECT 1 FROM customers_new n WHERE n.customer_id = l.customer_id)) AS removed,
       (SELECT count(*) FROM customers_new) AS incoming
"""


def check_shrink(conn: sa.Connection, max_shrink: float, crm_file: str) -> None:
    """Raise ShrinkRefused when customers_new would remove more than `max_shrink` of the live
    customers (call after validation, with the live tables present)."""
    live, removed, incoming = conn.execute(sa.text(_REMOVED_SQL)).one()
    if not live or removed / live <= max_shrink:
        return
    raise ShrinkRefused(
        f"This run would remove {removed} of {live} live customers ({removed / live:.0%}, more than "
        f"MAX_SHRINK {max_shrink:.0%}): the crm file {crm_file} has {incoming} valid customer(s). "
        "The live data is unchanged. If the export is complete and this is intended, run again with "
        "`python -m ingest run --allow-shrink` (or raise MAX_SHRINK); otherwise check the export."
    )
