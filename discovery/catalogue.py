"""The vocabulary of the live data (products, colors, countries, event types, custom
attributes with their values or ranges), read from PostgreSQL and cached per data snapshot.
Nothing about the vocabulary is hard-coded."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.schema import ATTRIBUTE_DEFS, attribute_defs_ready, snapshot_tables_present

MAX_LISTED_VALUES = 200  # a category with more distinct values lists its most frequent ones


@dataclass(frozen=True)
class AttributeInfo:
    """A custom attribute (ingest/attributes.py): its type, how people call it (label), its
    values (categories, booleans) or range (numbers, dates) in the live data."""

    name: str
    type: str  # category | text | integer | number | boolean | date
    label: str
    role: str | None = None  # "consent": the opt-in flag activation reads
    pii: bool = False
    semantic: bool = False
    values: tuple = ()
    low: object = None
    high: object = None
    scope: str = "customer"  # customer: customer_attributes; event: a column of events (behaviour conditions)

    @property
    def filterable(self) -> bool:
        return self.type != "text" and not self.pii

    def describe(self) -> str:
        if self.values:
            return f"{self.name} ({self.type}: {', '.join(map(str, self.values[:30]))})"
        if self.low is not None:
            return f"{self.name} ({self.type} {self.low}..{self.high})"
        return f"{self.name} ({self.type})"


@dataclass(frozen=True)
class Catalogue:
    products: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    favorite_colors: tuple[str, ...] = ()
    customers: int = 0
    events: int = 0
    data_min: datetime | None = None
    data_max: datetime | None = None
    run_id: int | None = None
    finished_at: datetime | None = None
    # the Qdrant collection the live snapshot's vectors are in, as PostgreSQL's swap committed it: readers
    # use it rather than the alias, so a crash between the alias switch and the commit changes no answer
    collection: str | None = None
    attributes: tuple[AttributeInfo, ...] = ()
    # the median customer id of a population large enough that a count split in two halves side by side pays
    # (discovery.pair_times._halves); None below SPLIT_MIN customers
    split_id: int | None = None
    # the live snapshot was built by an earlier version and lacks a table this one reads: it counts as no
    # data until the next ingestion rebuilds it (ingest.pipeline does not take its files as unchanged then)
    outdated: bool = False

    def attribute(self, name: str) -> AttributeInfo | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def shown_attributes(self) -> tuple[str, ...]:
        """The attributes a customer's card and JSON carry (pii ones never)."""
        return tuple(a.name for a in self.attributes if not a.pii and a.scope == "customer")

    @property
    def consent_attribute(self) -> str | None:
        """The attribute marked `role: consent` in the mapping (customer_attributes, boolean)."""
        return next((a.name for a in self.attributes if a.role == "consent" and a.scope == "customer"), None)

    @property
    def empty(self) -> bool:
        return self.customers == 0


_cache: dict[tuple[str, int | None], Catalogue] = {}
_lock = threading.Lock()


def _distinct(conn, column: str, table: str) -> tuple[str, ...]:
    # event_vocabulary is small (built at ingestion); customers is scanned once per snapshot
    # an optional value stored empty (NULL) is no category of its own
    return tuple(
        r[0]
        for r in conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1"))
    )


SPLIT_MIN = 100_000  # below this, starting the processes for two halves costs about what it saves


def _median_id(conn, customers: int) -> int | None:
    """The customer id in the middle of customer_facts' primary key (~20 ms at 1 M, once per snapshot)."""
    sql = "SELECT customer_id FROM customer_facts ORDER BY customer_id OFFSET :half LIMIT 1"
    return conn.execute(sa.text(sql), {"half": customers // 2}).scalar()


def load_catalogue(engine: Engine) -> Catalogue:
    with engine.connect() as conn:
        # A snapshot ingested by an earlier version, without a table this one reads (customer_facts, a
        # times table), counts as none: the next ingestion run rebuilds it (ingest.pipeline does not take
        # its files as unchanged then); the answer says so instead of failing on the missing table.
        present = snapshot_tables_present(conn)
        if not all(present.values()):
            return Catalogue(outdated=present["customer_profiles"])
        snap = conn.execute(
            sa.text(
                "SELECT id, finished_at, data_min_ts, data_max_ts, collection FROM ingestion_runs "
                "WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"
            )
        ).first()
        key = (str(engine.url), snap[0] if snap else None)
        with _lock:
            if key in _cache:
                return _cache[key]
        customers = int(conn.execute(sa.text("SELECT count(*) FROM customers")).scalar() or 0)
        cat = Catalogue(
            products=_distinct(conn, "product", "event_vocabulary"),
            colors=_distinct(conn, "color", "event_vocabulary"),
            countries=_distinct(conn, "country", "customers"),
            event_types=_distinct(conn, "event_type", "event_vocabulary"),
            favorite_colors=_distinct(conn, "favorite_color", "customers"),
            customers=customers,
            events=int(conn.execute(sa.text("SELECT coalesce(sum(events), 0) FROM event_vocabulary")).scalar() or 0),
            data_min=snap[2] if snap else None,
            data_max=snap[3] if snap else None,
            run_id=snap[0] if snap else None,
            finished_at=snap[1] if snap else None,
            collection=snap[4] if snap else None,
            attributes=_attributes(conn),
            split_id=_median_id(conn, customers) if customers >= SPLIT_MIN else None,
        )
    with _lock:
        _cache[key] = cat
    return cat


def _attributes(conn) -> tuple[AttributeInfo, ...]:
    if not attribute_defs_ready(conn):
        return ()
    defs = conn.execute(
        sa.text(f"SELECT name, type, label, role, pii, semantic, scope FROM {ATTRIBUTE_DEFS} ORDER BY scope, position")
    ).all()
    out = []
    for name, kind, label, role, pii, semantic, scope in defs:
        table = "events" if scope == "event" else "customer_attributes"
        values, low, high = (), None, None
        col = f'"{name}"'  # a name ingest/mapping.py checked: lower-case letters, digits, _
        if pii or kind == "text":
            pass
        elif kind in ("category", "boolean"):
            values = tuple(
                r[0]
                for r in conn.execute(
                    sa.text(
                        f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL "
                        f"GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT {MAX_LISTED_VALUES}"
                    )
                )
            )
        else:
            low, high = conn.execute(sa.text(f"SELECT min({col}), max({col}) FROM {table}")).one()
        label = label or name.replace("_", " ")
        out.append(AttributeInfo(name, kind, label, role, pii, semantic, values, low, high, scope))
    return tuple(out)


def consent_column(engine: Engine) -> str | None:
    """The customer_attributes column holding marketing consent (`role: consent` in the
    mapping; boolean, true = opted in), or None when the live data has none."""
    return load_catalogue(engine).consent_attribute
