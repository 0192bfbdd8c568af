"""Stage 1: CSV → staging (COPY) → validated `*_new` tables + rejects.

Nothing here touches the live tables; `swap.py` puts the new ones in place.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.schema import CUSTOMERS_DDL, EVENTS_DDL
from ingest import validate_sql as v
from ingest.errors import TooManyRejects
from ingest.files import CRM, EVENTS, CopySource, FileSpec, records
from ingest.progress import Progress

log = logging.getLogger(__name__)


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


def _stage_ddl(spec: FileSpec) -> str:
    cols = ", ".join(f"{c} text" for c in spec.columns)
    return f"CREATE UNLOGGED TABLE stg_{spec.kind} (line_no bigint, {cols})"


def drop_work_tables(conn: sa.Connection) -> None:
    for t in (
        "stg_crm",
        "stg_events",
        "customers_new",
        "events_new",
        "profile_core",
        "profile_texts",
        "customer_profiles_new",
    ):
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))


def copy_file(engine: Engine, path: Path, spec: FileSpec, run_id: int, progress: Progress) -> list[tuple]:
    """COPY well-formed records into stg_<kind>; return structural rejects."""
    structural: list[tuple] = []

    def on_reject(line_no: int, reason: str, raw: str) -> None:
        structural.append((run_id, spec.kind, line_no, reason, raw))

    bar = progress.bar(f"load {spec.kind}", unit="rows")
    source = CopySource(records(path, spec, on_reject), on_rows=bar.update)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS stg_{spec.kind}")
            cur.execute(_stage_ddl(spec))
            cols = ", ".join(("line_no", *spec.columns))
            try:
                cur.copy_expert(f"COPY stg_{spec.kind} ({cols}) FROM STDIN WITH (FORMAT csv)", source, size=1 << 18)
            except Exception:
                if source.error is not None:
                    raise source.error from None
                raise
        raw.commit()
    finally:
        raw.close()
        bar.close()
    return structural


def validate(
    engine: Engine, run_id: int, structural: dict[str, list[tuple]], max_ratio: float
) -> dict[str, FileOutcome]:
    """Typed customers_new / events_new from staging; rejects stored; ratios enforced."""
    outcomes = {k: FileOutcome(k) for k in ("crm", "events")}
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        for name, ddl in (("customers_new", CUSTOMERS_DDL), ("events_new", EVENTS_DDL)):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
            conn.execute(sa.text(ddl.format(name=name).replace("PRIMARY KEY", "")))
        for spec, source, target, typed in (
            (CRM, v.crm_source(), "customers_new", v.CRM_TYPED),
            (EVENTS, v.events_source(), "events_new", v.EVENTS_TYPED),
        ):
            if spec is EVENTS:
                # events are checked against the valid customers: index them first
                conn.execute(sa.text("ALTER TABLE customers_new ADD PRIMARY KEY (customer_id)"))
            conn.execute(sa.text(f"CREATE UNLOGGED TABLE chk_{spec.kind} AS {source}"))
            loaded = conn.execute(
                sa.text(f"INSERT INTO {target} SELECT {typed} FROM chk_{spec.kind} WHERE reason IS NULL")
            ).rowcount
            conn.execute(
                sa.text(
                    f"""INSERT INTO ingest_rejects (run_id, file, line_no, reason, raw_line)
                        SELECT :run_id, :kind, line_no, reason, {v.raw_line(spec)}
                        FROM chk_{spec.kind} WHERE reason IS NOT NULL"""
                ),
                {"run_id": run_id, "kind": spec.kind},
            )
            conn.execute(sa.text(f"DROP TABLE chk_{spec.kind}"))
            rows = structural.get(spec.kind, [])
            if rows:
                conn.execute(
                    sa.text(
                        "INSERT INTO ingest_rejects (run_id, file, line_no, reason, raw_line) "
                        "VALUES (:r, :f, :l, :reason, :raw)"
                    ),
                    [{"r": r, "f": f, "l": ln, "reason": reason, "raw": raw} for r, f, ln, reason, raw in rows],
                )
            out = outcomes[spec.kind]
            out.loaded = loaded
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
                f"The live data is unchanged. See `python -m ingest status` for the rejected lines, fix the export, "
                f"or raise MAX_REJECT_RATIO."
            )
    return outcomes


def index_events(engine: Engine) -> None:
    """Indexes that make the behavioural gate fast."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
        conn.execute(sa.text("CREATE INDEX ON events_new (customer_id)"))
        conn.execute(sa.text("CREATE INDEX ON events_new (event_type, product, color, event_timestamp)"))
        conn.execute(sa.text("CREATE INDEX ON events_new (event_timestamp)"))
        conn.execute(sa.text("CREATE INDEX ON customers_new (country)"))
        conn.execute(sa.text("ANALYZE customers_new"))
        conn.execute(sa.text("ANALYZE events_new"))
