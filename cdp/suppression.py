"""The suppression list: people who must never leave the system, in any file or delivery.

Stored only as the SHA-256 of the normalised e-mail (trimmed, lower-cased), never the address.
Filled from the terminal (`python -m ingest suppress --file emails.csv [--remove]`) and from
SUPPRESSION_CSV, re-read at the start of every ingestion (its rows replace the ones the previous
reading of that file added; rows added from the terminal stay until removed from the terminal).
A data-layer table (here, in cdp, so ingestion can fill it and audiences read it): its DDL is here.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import weakref
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

FROM_FILE = "SUPPRESSION_CSV"
FROM_TERMINAL = "terminal"

DDL = """
    CREATE TABLE IF NOT EXISTS suppressed_emails (
        email_sha256 bytea PRIMARY KEY,
        source       text NOT NULL,
        added_at     timestamptz NOT NULL DEFAULT now()
    )"""


class SuppressionFileError(ValueError):
    """The file cannot be read as a list of e-mails; says which file and what to do."""


def normalise(email: str | None) -> str:
    return (email or "").strip().lower()


def email_hash(email: str | None) -> bytes | None:
    text = normalise(email)
    return hashlib.sha256(text.encode("utf-8")).digest() if text else None


_ensured: weakref.WeakSet = weakref.WeakSet()  # engines whose database has the table (once per process)


def ensure_table(engine: Engine) -> None:
    if engine in _ensured:
        return
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.suppression_table'))"))
        conn.execute(sa.text(DDL))
    _ensured.add(engine)


def read_emails(path: Path) -> list[str]:
    """The e-mails of a CSV: the column named email (any case), else every cell holding an @.
    Raises SuppressionFileError (never quoting a line: they are e-mails)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise SuppressionFileError(
            f"Cannot read the suppression file {path}: {exc}. Give a UTF-8 CSV of e-mails."
        ) from exc
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    if "email" in header:
        i = header.index("email")
        return [r[i] for r in rows[1:] if len(r) > i and "@" in r[i]]
    return [cell for r in rows for cell in r if "@" in cell]


def hashes(emails: Iterable[str]) -> set[bytes]:
    return {h for h in map(email_hash, emails) if h is not None}


def add(engine: Engine, emails: Iterable[str], source: str = FROM_TERMINAL) -> int:
    """Suppress `emails`; returns how many were not suppressed before."""
    ensure_table(engine)
    rows = [{"h": h, "s": source} for h in hashes(emails)]
    if not rows:
        return 0
    with engine.begin() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM suppressed_emails")).scalar_one()
        conn.execute(
            sa.text("INSERT INTO suppressed_emails (email_sha256, source) VALUES (:h, :s) ON CONFLICT DO NOTHING"), rows
        )
        return int(conn.execute(sa.text("SELECT count(*) FROM suppressed_emails")).scalar_one()) - int(before)


def remove(engine: Engine, emails: Iterable[str]) -> int:
    """Lift the suppression of `emails`; returns how many were suppressed."""
    ensure_table(engine)
    found = list(hashes(emails))
    if not found:
        return 0
    with engine.begin() as conn:
        result = conn.execute(sa.text("DELETE FROM suppressed_emails WHERE email_sha256 = ANY(:h)"), {"h": found})
        return result.rowcount


def count(engine: Engine) -> int:
    ensure_table(engine)
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM suppressed_emails")).scalar_one())


def sync_file(engine: Engine, path: Path) -> int:
    """SUPPRESSION_CSV read again: its e-mails replace those its previous reading added. Returns the
    number of hashes the file holds. Raises SuppressionFileError (the list in the table is kept)."""
    found = hashes(read_emails(path))
    ensure_table(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM suppressed_emails WHERE source = :s"), {"s": FROM_FILE})
        if found:
            conn.execute(
                sa.text("INSERT INTO suppressed_emails (email_sha256, source) VALUES (:h, :s) ON CONFLICT DO NOTHING"),
                [{"h": h, "s": FROM_FILE} for h in found],
            )
    return len(found)


def sync_file_quietly(engine: Engine, path: Path | None) -> None:
    """The ingestion hook: re-read SUPPRESSION_CSV if set; a file that cannot be read is logged
    (path and reason only) and the list already stored stays in force."""
    if path is None:
        return
    try:
        n = sync_file(engine, Path(path))
        log.info("suppression list re-read from SUPPRESSION_CSV: %d addresses", n)
    except SuppressionFileError as exc:
        log.error("%s The suppression list already stored stays in force.", exc)


def suppressed(conn: Connection, candidates: list[bytes]) -> set[bytes]:
    """Which of `candidates` (hashes) are suppressed."""
    if not candidates:
        return set()
    rows = conn.execute(
        sa.text("SELECT email_sha256 FROM suppressed_emails WHERE email_sha256 = ANY(:h)"), {"h": candidates}
    )
    return {bytes(r[0]) for r in rows}
