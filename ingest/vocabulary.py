"""The event vocabulary: each (event_type, product, color) of the new events with its count and time
range, numbered for the gate's facts; an empty event type quarantined, an empty product or color
stored NULL, unnormalised values normalised."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from ingest.files import EVENTS

OPTIONAL = ("product", "color")  # stored NULL when empty; the vocabulary holds NULL as a value of its own

# item_id numbers each (event_type, product, color), type_id each event type, tp_bit each
# (event_type, product), tc_bit each (event_type, color) and color_id each color, whatever the type:
# customer_facts and the times tables (ingest/facts.py) summarise a customer's events by these numbers.
_VOCAB_SQL = """CREATE TABLE event_vocabulary_new AS
    SELECT (row_number() OVER (ORDER BY event_type, product, color))::int AS item_id,
           (dense_rank() OVER (ORDER BY event_type))::int AS type_id,
           (dense_rank() OVER (ORDER BY event_type, product) - 1)::int AS tp_bit,
           (dense_rank() OVER (ORDER BY event_type, color) - 1)::int AS tc_bit,
           (dense_rank() OVER (ORDER BY color))::int AS color_id,
           event_type, product, color, count(*) AS events,
           min(event_timestamp) AS first_ts, max(event_timestamp) AS last_ts
    FROM events_new GROUP BY event_type, product, color"""


def build_vocabulary(conn: sa.Connection, run_id: int) -> Counter:
    """event_vocabulary_new: each (event_type, product, color) with its count and time
    range — one GROUP BY over the events. Rows with an empty event type are quarantined, an
    empty product or color is stored NULL (optional fields), values that are not lower-case
    and trimmed are normalized — by touching only the rows that carry them: the vocabulary is
    small, and per-row string functions over 20 M events would take a minute. Returns the
    events whose product / color is empty, as "<field>: empty (stored empty)" counts."""
    conn.execute(sa.text("DROP TABLE IF EXISTS event_vocabulary_new"))
    conn.execute(sa.text(_VOCAB_SQL))
    changed = False
    for col in ("event_type", *OPTIONAL):
        empty = _values(conn, col, f"btrim({col}) = ''")
        if empty and col not in OPTIONAL:
            raw = "array_to_string(ARRAY[" + ", ".join(f"{c}::text" for c in EVENTS.columns) + "], ',', '')"
            conn.execute(
                sa.text(
                    f"""INSERT INTO ingest_rejects (run_id, file, line_no, reason, raw_line)
                        SELECT :run_id, 'events', line_no, 'empty {col}', {raw} FROM events_new WHERE {col} = ANY(:v)"""
                ),
                {"run_id": run_id, "v": empty},
            )
            conn.execute(sa.text(f"DELETE FROM events_new WHERE {col} = ANY(:v)"), {"v": empty})
            changed = True
        elif empty:
            conn.execute(sa.text(f"UPDATE events_new SET {col} = NULL WHERE {col} = ANY(:v)"), {"v": empty})
            changed = True
        unnormalized = _values(conn, col, f"{col} <> lower(btrim({col})) AND btrim({col}) <> ''")
        if unnormalized:
            conn.execute(
                sa.text(f"UPDATE events_new SET {col} = lower(btrim({col})) WHERE {col} = ANY(:v)"), {"v": unnormalized}
            )
            changed = True
    if changed:
        conn.execute(sa.text("DROP TABLE event_vocabulary_new"))
        conn.execute(sa.text(_VOCAB_SQL))
    empties = Counter()
    for col in OPTIONAL:
        n = conn.execute(sa.text(f"SELECT sum(events) FROM event_vocabulary_new WHERE {col} IS NULL")).scalar()
        if n:
            empties[f"{col}: empty (stored empty)"] = int(n)
    return empties


def _values(conn: sa.Connection, col: str, where: str) -> list[str]:
    return [r[0] for r in conn.execute(sa.text(f"SELECT DISTINCT {col} FROM event_vocabulary_new WHERE {where}"))]
