"""Custom attributes: the extra CRM columns a mapping keeps, stored typed per customer.

Storage: one side table, customer_attributes (customer_id PRIMARY KEY, one typed column per
attribute), built as customer_attributes_new from the validated CRM rows and swapped with the
rest of the snapshot. A wide typed table rather than name/value rows: 1 M customers × 10
attributes is 1 M narrow rows instead of 10 M, a condition is a plain typed comparison on
one column (an index per column serves equals/in and ranges alike, and conditions on two
attributes combine on one row without a self-join), and a change of the mapping rebuilds
the table whole in the same atomic swap. customer_attribute_defs holds each attribute's
type and flags (role, pii, semantic, label) for the catalogue and the read-only views.
"""

from __future__ import annotations

import sqlalchemy as sa

from ingest.mapping import Attribute

TABLE, DEFS = "customer_attributes", "customer_attribute_defs"
PG_TYPE = {
    "category": "text",
    "text": "text",
    "integer": "bigint",
    "number": "numeric",
    "boolean": "boolean",
    "date": "date",
}
INDEXED = {"category", "integer", "number", "boolean", "date"}  # free text is shown, not filtered on
STAGED_PREFIX = "attr_"

_DEFS_DDL = f"""CREATE TABLE {DEFS}_new (
    name text PRIMARY KEY, source_column text NOT NULL, type text NOT NULL, role text,
    pii boolean NOT NULL DEFAULT false, semantic boolean NOT NULL DEFAULT false, label text,
    position int NOT NULL, scope text NOT NULL DEFAULT 'customer')"""


def staged_columns(attributes: dict[str, Attribute]) -> list[str]:
    return [f"{STAGED_PREFIX}{name}" for name in attributes]


def build(conn: sa.Connection, attributes: dict[str, Attribute], checked: str) -> None:
    """customer_attributes_new and its defs from the checked CRM staging table (`checked`:
    its rows with reason IS NULL are the loaded customers; the mapped reader made every
    non-empty attribute value readable as its type)."""
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}_new"))
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {DEFS}_new"))
    cols = "".join(
        f", NULLIF(btrim({STAGED_PREFIX}{name}), '')::{PG_TYPE[a.type]} AS \"{name}\"" for name, a in attributes.items()
    )
    conn.execute(
        sa.text(
            f"CREATE TABLE {TABLE}_new AS SELECT btrim(customer_id)::bigint AS customer_id{cols} "
            f"FROM {checked} WHERE reason IS NULL"
        )
    )
    conn.execute(sa.text(f"ALTER TABLE {TABLE}_new ADD PRIMARY KEY (customer_id)"))
    conn.execute(sa.text(_DEFS_DDL))
    define(conn, attributes, "customer")


def define(conn: sa.Connection, attributes: dict[str, Attribute], scope: str) -> None:
    """Rows of customer_attribute_defs_new for `attributes` of `scope` (customer | event)."""
    if not conn.execute(sa.text(f"SELECT to_regclass('{DEFS}_new') IS NOT NULL")).scalar():
        conn.execute(sa.text(_DEFS_DDL))
    rows = [
        {
            "name": name, "col": a.column, "type": a.type, "role": a.role, "pii": a.pii,
            "semantic": a.semantic, "label": a.label or name.replace("_", " "), "pos": i, "scope": scope,
        }
        for i, (name, a) in enumerate(attributes.items())
    ]  # fmt: skip
    if rows:
        conn.execute(
            sa.text(
                f"INSERT INTO {DEFS}_new (name, source_column, type, role, pii, semantic, label, position, scope) "
                "VALUES (:name, :col, :type, :role, :pii, :semantic, :label, :pos, :scope)"
            ),
            rows,
        )


def ensure_empty(conn: sa.Connection) -> None:
    """A snapshot without custom attributes still has the (empty) tables, so the swap and the
    readers need no second path."""
    if not conn.execute(sa.text(f"SELECT to_regclass('{TABLE}_new') IS NOT NULL")).scalar():
        conn.execute(sa.text(f"CREATE TABLE {TABLE}_new (customer_id bigint PRIMARY KEY)"))
    if not conn.execute(sa.text(f"SELECT to_regclass('{DEFS}_new') IS NOT NULL")).scalar():
        conn.execute(sa.text(_DEFS_DDL))


def event_columns(conn: sa.Connection, attributes: dict[str, Attribute], target: str) -> tuple[str, str]:
    """Event attributes as typed columns of `target` (events_new): added to it, and returned as
    (column list, SELECT expressions over the checked staging table) for its INSERT."""
    for name, a in attributes.items():
        conn.execute(sa.text(f'ALTER TABLE {target} ADD COLUMN "{name}" {PG_TYPE[a.type]}'))
    define(conn, attributes, "event")
    names = "".join(f', "{name}"' for name in attributes)
    values = "".join(f", NULLIF(btrim({STAGED_PREFIX}{name}), '')::{PG_TYPE[a.type]}" for name, a in attributes.items())
    return names, values


def index(conn: sa.Connection) -> None:
    """An index per filterable attribute (not pii ones: nothing filters on them), then ANALYZE."""
    for name, kind, pii in conn.execute(
        sa.text(f"SELECT name, type, pii FROM {DEFS}_new WHERE scope = 'customer' ORDER BY position")
    ).all():
        if kind in INDEXED and not pii:
            conn.execute(sa.text(f'CREATE INDEX ON {TABLE}_new ("{name}")'))
    conn.execute(sa.text(f"ANALYZE {TABLE}_new"))


def semantic_sql(conn: sa.Connection) -> tuple[str, str, dict]:
    """(join, text[] expression, parameters) giving each customer's phrases of the attributes
    marked `semantic: true` ("loyalty tier gold"; a yes/no attribute by its label when true),
    for the profile text. No such attributes: no join and an empty array."""
    if not conn.execute(sa.text(f"SELECT to_regclass('{DEFS}_new') IS NOT NULL")).scalar():
        return "", "'{}'::text[]", {}
    defs = conn.execute(
        sa.text(
            f"SELECT name, type, label FROM {DEFS}_new WHERE semantic AND NOT pii AND scope = 'customer' "
            "ORDER BY position"
        )
    ).all()
    if not defs:
        return "", "'{}'::text[]", {}
    parts, params = [], {}
    for i, (name, kind, label) in enumerate(defs):
        params[f"sem_label{i}"] = label
        col = f'a."{name}"'
        if kind == "boolean":
            parts.append(f"CASE WHEN {col} THEN CAST(:sem_label{i} AS text) END")
        else:
            parts.append(f"CASE WHEN {col} IS NOT NULL THEN CAST(:sem_label{i} AS text) || ' ' || {col}::text END")
    join = f"LEFT JOIN {TABLE}_new a USING (customer_id)"
    return join, f"array_remove(ARRAY[{', '.join(parts)}], NULL)", params
