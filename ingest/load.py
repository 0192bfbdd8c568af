"""Stage 1: CSV → validated `*_new` tables + rejects. Nothing here touches the live tables.

Two paths, same outcome:

- fast: the header is canonical → PostgreSQL's own CSV parser COPYs the file straight
  into the typed table (with a line number per record); one SQL pass then quarantines the
  rows that parse but are wrong (negative, empty, unknown customer, duplicate id). Taken
  when COPY accepts every record and records = lines (no quoted newlines).
- careful: anything else (a value that does not parse, a wrong field count, reordered or
  extra columns, quoted newlines) → Python streams the records with their physical line
  numbers into an all-text staging table, and SQL validates every value (validate_sql).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import sqlalchemy as sa
from psycopg2 import errorcodes
from sqlalchemy.engine import Engine

from cdp.schema import CUSTOMERS_DDL, EVENTS_DDL
from ingest import attributes, dates, vocabulary
from ingest import validate_sql as v
from ingest.errors import TooManyRejects
from ingest.files import CRM, EVENTS, CopySource, FileSpec, header_is_canonical, records
from ingest.mapped import mapped_records
from ingest.mapping import NULLABLE, FileMapping
from ingest.progress import Progress

log = logging.getLogger(__name__)

TARGET = {"crm": "customers_new", "events": "events_new"}
DDL = {"crm": CUSTOMERS_DDL, "events": EVENTS_DDL}


@dataclass
class Loaded:
    kind: str
    fast: bool
    structural: list[tuple] = field(default_factory=list)
    mapping: FileMapping | None = None  # read through a mapping (custom attributes staged alongside)
    # optional values stored empty (NULL), by "<field>: <reason> (stored empty)": the reader's
    # (a mapped export's attributes and dates) and the validation's
    stored_empty: Counter = field(default_factory=Counter)


@dataclass
class FileOutcome:
    kind: str
    loaded: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.loaded + self.rejected

    @property
    def reject_ratio(self) -> float:
        return self.rejected / self.total if self.total else 0.0


def drop_work_tables(conn: sa.Connection) -> None:
    for t in (
        "stg_crm", "stg_events", "chk_crm", "chk_events", "customers_new", "events_new",
        "facet_product", "facet_color", "facet_type", "profile_core", "profile_texts", "customer_profiles_new", "event_vocabulary_new",
        "customer_facts_new", "customer_pair_times_new", "customer_type_times_new", "customer_color_times_new",
        "customer_any_type_color_times_new", "customer_event_times_new",
        "customer_attributes_new", "customer_attribute_defs_new",
    ):  # fmt: skip
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))


def _typed_ddl(kind: str) -> str:
    ddl = DDL[kind].format(name=TARGET[kind]).replace(" PRIMARY KEY", "")
    return ddl.replace(
        "(\n", "(\n    line_no bigint GENERATED ALWAYS AS IDENTITY (START WITH 2),  -- the header is line 1\n", 1
    )


def load_file(
    engine: Engine,
    path: Path,
    spec: FileSpec,
    run_id: int,
    lines: int,
    progress: Progress,
    careful: bool = False,
    mapping: FileMapping | None = None,
) -> Loaded:
    """`careful`: take the careful path even for a canonical header (dates that need reading);
    `mapping`: read the file through it (always the careful path)."""
    if mapping is not None:
        out = Loaded(spec.kind, fast=False, mapping=mapping)
        out.structural = _copy_text(engine, path, spec, run_id, progress, out)
        return out
    if not careful and header_is_canonical(path, spec):
        try:
            n = _copy_typed(engine, path, spec)
            if n == lines - 1:
                return Loaded(spec.kind, fast=True)
            log.info(
                "%s: %d records on %d lines (quoted newlines or blank lines): validating row by row",
                spec.kind,
                n,
                lines - 1,
            )
        except psycopg2.Error as exc:
            log.info("%s: %s: validating row by row", spec.kind, copy_error_summary(exc))
    return Loaded(spec.kind, fast=False, structural=_copy_text(engine, path, spec, run_id, progress))


def error_summary(exc: BaseException) -> str:
    """An unexpected failure for the run record and the log: a database error by its kind and
    place only (its message may quote a value), anything else by its type and message."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, psycopg2.Error):
        exc = orig
    if isinstance(exc, psycopg2.Error):
        return f"{type(exc).__name__}: {copy_error_summary(exc)}"
    return f"{type(exc).__name__}: {exc}"


def copy_error_summary(exc: psycopg2.Error) -> str:
    """Where and what kind of COPY error, never the value: the server's message quotes the field
    ("invalid input syntax for type integer: …"), which may be personal data."""
    context = getattr(exc.diag, "context", None) or ""
    found = re.search(r"\bline (\d+)(?:, column (\w+))?", context)
    kind = errorcodes.lookup(exc.pgcode) if exc.pgcode else type(exc).__name__
    if not found:
        return f"a record does not parse ({kind})"
    column = f", column {found.group(2)}" if found.group(2) else ""
    return f"line {found.group(1)}{column} does not parse ({kind.lower().replace('_', ' ')})"


def _copy_typed(engine: Engine, path: Path, spec: FileSpec) -> int:
    target = TARGET[spec.kind]
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur, open(path, "rb") as f:
            cur.execute(f"DROP TABLE IF EXISTS {target}")
            cur.execute(_typed_ddl(spec.kind))
            cols = ", ".join(spec.columns)
            cur.copy_expert(
                f"COPY {target} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')", f, size=1 << 20
            )
            n = cur.rowcount
        raw.commit()
        return n
    except Exception:
        raw.rollback()
        raise
    finally:
        raw.close()


def _copy_text(
    engine: Engine, path: Path, spec: FileSpec, run_id: int, progress: Progress, mapped: Loaded | None = None
) -> list[tuple]:
    """COPY well-formed records into stg_<kind> (all text); return structural rejects."""
    structural: list[tuple] = []

    def on_reject(line_no: int, reason: str, raw: str) -> None:
        structural.append((run_id, spec.kind, line_no, reason, raw))

    bar = progress.bar(f"load {spec.kind}", unit="rows")
    columns = list(spec.columns)
    if mapped is not None:
        rows = mapped_records(path, spec, mapped.mapping, on_reject, mapped.stored_empty)
        columns += attributes.staged_columns(mapped.mapping.attributes)
    else:
        rows = records(path, spec, on_reject)
    source = CopySource(rows, on_rows=bar.update)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS stg_{spec.kind}")
            cols = ", ".join(f"{c} text" for c in columns)
            cur.execute(f"CREATE UNLOGGED TABLE stg_{spec.kind} (line_no bigint, {cols})")
            try:
                cur.copy_expert(
                    f"COPY stg_{spec.kind} (line_no, {', '.join(columns)}) FROM STDIN WITH (FORMAT csv)",
                    source,
                    size=1 << 18,
                )
            except Exception:
                if source.error is not None:
                    raise source.error from None
                raise
        raw.commit()
    finally:
        raw.close()
        bar.close()
    return structural


# Checks on typed rows (fast path); labels match the careful path's reasons. Optional fields
# are checked by validate_sql.TYPED_OPTIONAL (stored empty, the row kept).
_TYPED_CHECKS = {
    "crm": [
        ("empty customer_id", "t.customer_id IS NULL"),
        ("duplicate customer_id", "t.dup_rank > 1"),
    ],
    "events": [  # an empty event_type is found on the vocabulary (build_vocabulary)
        ("unparseable event_timestamp", "t.event_timestamp NOT BETWEEN '1900-01-01' AND '2200-01-01'"),
        ("unknown customer_id", "c.customer_id IS NULL"),
    ],
}
_NORMALIZE = {
    "crm": {c: f"btrim({c})" for c in ("first_name", "last_name", "email", "country")}
    | {"favorite_color": "lower(btrim(favorite_color))"},
}


def _check_typed(conn: sa.Connection, spec: FileSpec, run_id: int, stored_empty: Counter) -> int:
    """Quarantine the typed rows that break a rule, store empty the optional values that do
    not fit (counted in `stored_empty`); normalize text; return rows kept. One pass over the
    rows finds both; only the rows found are touched again."""
    table = TARGET[spec.kind]
    if spec.kind == "crm":
        source = f"(SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY line_no) AS dup_rank FROM {table}) t"
    else:
        source = f"{table} t LEFT JOIN customers_new c ON c.customer_id = t.customer_id"
    raw = "array_to_string(ARRAY[" + ", ".join(f"t.{c}::text" for c in spec.columns) + "], ',', '')"
    optional = v.TYPED_OPTIONAL[spec.kind]
    whys = "".join(f", {v.reason_case(rules)} AS e_{c}" for c, rules in optional.items())
    found = f"chk_typed_{spec.kind}"
    conn.execute(
        sa.text(
            f"""CREATE TEMP TABLE {found} ON COMMIT DROP AS
                SELECT * FROM (
                    SELECT t.line_no, {v.reason_case(_TYPED_CHECKS[spec.kind])} AS reason, {raw} AS raw{whys}
                    FROM {source}
                ) x WHERE reason IS NOT NULL OR {" OR ".join(f"e_{c} IS NOT NULL" for c in optional)}"""
        )
    )
    bad = conn.execute(
        sa.text(
            f"""INSERT INTO ingest_rejects (run_id, file, line_no, reason, raw_line)
                SELECT :run_id, :kind, line_no, reason, raw FROM {found} WHERE reason IS NOT NULL"""
        ),
        {"run_id": run_id, "kind": spec.kind},
    ).rowcount
    counts = dict(conn.execute(sa.text(v.stored_empty_counts(found, list(optional)))).all())
    stored_empty.update(counts)
    if counts:
        sets = ", ".join(f"{c} = CASE WHEN f.e_{c} IS NULL THEN t.{c} END" for c in optional)
        conn.execute(
            sa.text(f"UPDATE {table} t SET {sets} FROM {found} f WHERE f.line_no = t.line_no AND f.reason IS NULL")
        )
    if bad:
        conn.execute(
            sa.text(
                f"""DELETE FROM {table} t USING ingest_rejects r
                    WHERE r.run_id = :run_id AND r.file = :kind AND r.line_no = t.line_no"""
            ),
            {"run_id": run_id, "kind": spec.kind},
        )
    if spec.kind == "crm":  # 1 M rows: a direct pass is cheap
        norm = _NORMALIZE["crm"]
        conn.execute(
            sa.text(
                f"UPDATE {table} SET "
                + ", ".join(f"{c} = {e}" for c, e in norm.items())
                + " WHERE "
                + " OR ".join(f"{c} <> {e}" for c, e in norm.items())
            )
        )
    if spec.kind == "crm":
        conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN line_no"))
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    return 0  # counted from the vocabulary once it is built


def _check_text(
    conn: sa.Connection, spec: FileSpec, run_id: int, structural: list[tuple], date_order: str, item: Loaded
) -> int:
    """Careful path: typed rows from the text staging table; a row whose required value is bad
    quarantined, an optional value that is missing or does not read stored NULL and counted."""
    target = TARGET[spec.kind]
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {target}"))
    conn.execute(sa.text(DDL[spec.kind].format(name=target).replace(" PRIMARY KEY", "")))
    ts_column = "created_at" if spec.kind == "crm" else "event_timestamp"
    order = dates.column_order(conn, f"stg_{spec.kind}", ts_column, spec.kind, date_order)
    mapped = item.mapping is not None
    source = v.crm_source(order, mapped) if spec.kind == "crm" else v.events_source(order, mapped)
    typed = v.crm_typed(order) if spec.kind == "crm" else v.events_typed(order)
    conn.execute(sa.text(f"CREATE UNLOGGED TABLE chk_{spec.kind} AS {source}"))
    optional = list(v.optional_rules(spec.kind, order))
    item.stored_empty.update(dict(conn.execute(sa.text(v.stored_empty_counts(f"chk_{spec.kind}", optional))).all()))
    names = values = ""
    if spec is EVENTS and item.mapping is not None and item.mapping.attributes:
        names, values = attributes.event_columns(conn, item.mapping.attributes, target)
    loaded = conn.execute(
        sa.text(
            f"INSERT INTO {target} ({', '.join(spec.columns)}{names}) "
            f"SELECT {typed}{values} FROM chk_{spec.kind} WHERE reason IS NULL"
        )
    ).rowcount
    conn.execute(
        sa.text(
            f"""INSERT INTO ingest_rejects (run_id, file, line_no, reason, raw_line)
                SELECT :run_id, :kind, line_no, reason, {v.raw_line(spec)}
                FROM chk_{spec.kind} WHERE reason IS NOT NULL"""
        ),
        {"run_id": run_id, "kind": spec.kind},
    )
    if spec is CRM and item.mapping is not None:
        attributes.build(conn, item.mapping.attributes, f"chk_{spec.kind}")
    conn.execute(sa.text(f"DROP TABLE chk_{spec.kind}"))
    conn.execute(sa.text(f"DROP TABLE stg_{spec.kind}"))
    if structural:
        conn.execute(
            sa.text(
                "INSERT INTO ingest_rejects (run_id, file, line_no, reason, raw_line) VALUES (:r, :f, :l, :reason, :raw)"
            ),
            [{"r": r, "f": f, "l": ln, "reason": reason, "raw": raw} for r, f, ln, reason, raw in structural],
        )
    return loaded


def validate(
    engine: Engine, run_id: int, loaded: dict[str, Loaded], max_ratio: float, date_order: str = "auto"
) -> dict[str, FileOutcome]:
    """customers_new / events_new hold only valid rows; rejects stored; ratios enforced.
    Timestamps are stored in UTC (offsets converted); `date_order` is DATE_ORDER."""
    outcomes = {k: FileOutcome(k) for k in ("crm", "events")}
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        conn.execute(sa.text("SET LOCAL TimeZone = 'UTC'"))
        for spec in (CRM, EVENTS):
            item = loaded[spec.kind]
            if spec is EVENTS:  # events are checked against the valid customers
                conn.execute(sa.text("ALTER TABLE customers_new ADD PRIMARY KEY (customer_id)"))
            if item.fast:
                kept = _check_typed(conn, spec, run_id, item.stored_empty)
            else:
                kept = _check_text(conn, spec, run_id, item.structural, date_order, item)
            if spec is EVENTS:
                empty = vocabulary.build_vocabulary(conn, run_id)
                if item.fast:  # the careful path counted the empty products / colors on the rows
                    item.stored_empty.update(empty)
                    conn.execute(sa.text("ALTER TABLE events_new DROP COLUMN line_no"))
                kept = conn.execute(sa.text("SELECT sum(events) FROM event_vocabulary_new")).scalar() or 0
            out = outcomes[spec.kind]
            out.loaded = kept
            _unmapped(item, kept)
            for reason, n in conn.execute(
                sa.text("SELECT reason, count(*) FROM ingest_rejects WHERE run_id = :r AND file = :f GROUP BY reason"),
                {"r": run_id, "f": spec.kind},
            ):
                out.reasons[reason] = n
            out.rejected = sum(out.reasons.values())
    for out in outcomes.values():
        if out.reject_ratio > max_ratio:
            top = ", ".join(f"{r} ({n})" for r, n in out.reasons.most_common(3))
            raise TooManyRejects(
                f"{out.rejected} of {out.total} rows of the {out.kind} file were rejected "
                f"({out.reject_ratio:.1%} > the {max_ratio:.0%} limit); top reasons: {top}. "
                f"The live data is unchanged. See `python -m ingest status --rejects {run_id}` for the rejected lines, "
                "fix the export, or raise MAX_REJECT_RATIO."
            )
    return outcomes


def _unmapped(item: Loaded, kept: int) -> None:
    """The optional fields a mapping leaves out: stored empty for every row, said once."""
    if item.mapping is None or not kept:
        return
    left_out = [c for c in NULLABLE[item.kind] if item.mapping.fields.get(c) is None]
    for c in left_out:
        item.stored_empty[f"{c}: no column in the mapping (stored empty)"] = kept
    if left_out:
        log.info("%s: no column in the mapping for %s: stored empty", item.kind, ", ".join(left_out))


def index_events(engine: Engine) -> None:
    """Indexes that make the behavioural gate fast. The gate index carries customer_id and price: a
    behaviour's customers, prices in a window too, come from an index-only scan, no visit to the 20 M-row
    heap (at 1 M "a handbag over 200 in 90 days" 553 → 219 ms; 1,123 → 1,292 MB, built in as long);
    with PostgreSQL 18's skip scan it also serves conditions without an event type."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))  # as fast as 512 MB, 0.25 GB less
        conn.execute(sa.text("CREATE INDEX ON events_new (customer_id)"))
        conn.execute(
            sa.text(
                "CREATE INDEX ON events_new (event_type, product, color, event_timestamp) INCLUDE (customer_id, price)"
            )
        )
        conn.execute(sa.text("CREATE INDEX ON customers_new (country)"))
        attributes.ensure_empty(conn)
        attributes.index(conn)
        conn.execute(sa.text("ANALYZE customers_new"))
        conn.execute(sa.text("ANALYZE events_new"))
