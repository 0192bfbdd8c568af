"""Stage 4: put the new tables in place in one transaction.

Readers see either the previous data or the new data, never a mix: the drop and the
renames commit together. Index names follow the table names.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cdp.schema import drop_reader_views, publish_reader_views

PAIRS = (
    ("customers", "customers_new"),
    ("events", "events_new"),
    ("customer_profiles", "customer_profiles_new"),
    ("event_vocabulary", "event_vocabulary_new"),
    ("customer_facts", "customer_facts_new"),
    ("customer_pair_times", "customer_pair_times_new"),
    ("customer_type_times", "customer_type_times_new"),
    ("customer_color_times", "customer_color_times_new"),
    ("customer_any_type_color_times", "customer_any_type_color_times_new"),
    ("customer_event_times", "customer_event_times_new"),
    ("customer_attributes", "customer_attributes_new"),
    ("customer_attribute_defs", "customer_attribute_defs_new"),
)


def swap(conn: Connection) -> None:
    """Run inside the caller's transaction (which also records the run's success)."""
    conn.execute(sa.text("SET LOCAL lock_timeout = '30s'"))
    drop_reader_views(conn)  # they depend on the tables replaced here
    for live, new in PAIRS:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {live}"))
        conn.execute(sa.text(f"ALTER TABLE {new} RENAME TO {live}"))
        for (index,) in conn.execute(
            sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t"),
            {"t": live},
        ).all():
            if index.startswith(new):
                conn.execute(sa.text(f'ALTER INDEX "{index}" RENAME TO "{live + index[len(new) :]}"'))
    publish_reader_views(conn)  # the read-only role's views, without personal columns
