"""Who of a membership may leave the system: read the members' contacts in batches and leave out
the suppressed (always), those without consent (when the data has a consent column and the
destination needs consent), those without an e-mail and those no longer in the data.

Streams: one batch of ids at a time (BATCH), never the whole membership's contacts in memory. The
Screening it fills says how many were kept and how many were left out, and why (counts only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audiences.consent import NO_CONSENT_DATA, consent_column, consent_sql
from audiences.formats import Contact
from cdp import suppression
from cdp.db import read_only
from discovery.compile import CompiledSQL

BATCH = 5000  # ids read per query (a delivery request holds at most 1,000 members: its own batches)
# why a member was left out, in the order a member is checked; the words the messages use
REASONS = {
    "gone": "no longer in the data",
    "no_email": "no e-mail",
    "suppressed": "suppressed",
    "no_consent": "no consent",
}


@dataclass
class Screening:
    """The counts of one export or delivery (no e-mail, no name: safe to log and post)."""

    consent: str = NO_CONSENT_DATA  # how consent was applied, in words
    kept: int = 0
    left_out: Counter = field(default_factory=Counter)
    about: bool = False  # an estimate (counted_estimate), not a count of each member

    @property
    def total(self) -> int:
        return self.kept + sum(self.left_out.values())

    def describe(self) -> str:
        out = f"{self.kept:,} customer{'s' if self.kept != 1 else ''}"
        reasons = [f"{self.left_out[k]:,} {w}" for k, w in REASONS.items() if self.left_out.get(k)]
        out += "; left out: " + ", ".join(reasons) if reasons else "; nobody left out"
        return f"{out}; {self.consent}"

    def as_dict(self) -> dict:
        return {"kept": self.kept, "left_out": {k: self.left_out.get(k, 0) for k in REASONS}, "consent": self.consent}


def _batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64)
    for i in range(0, len(arr), size):
        yield arr[i : i + size].tolist()


def _judged(
    engine: Engine, ids: Iterable[int], screening: Screening, needs_consent: bool, batch: int, consent: str | None
) -> Iterator[list[tuple[int, Any, str | None]]]:
    """Per batch of `ids`: (customer id, its row or None, the reason it may not leave or None)."""
    column = consent if consent is not None else consent_column(engine)
    if column is None:
        screening.consent = NO_CONSENT_DATA
    elif needs_consent:
        screening.consent = f"consent required ({column})"
    else:
        screening.consent = f"the destination does not need consent ({column} not applied)"
    check_consent = column is not None and needs_consent
    consent_col = f", {consent_sql(column)} AS consented" if column is not None and needs_consent else ""
    attributes = " LEFT JOIN customer_attributes a ON a.customer_id = c.customer_id" if consent_col else ""
    sql = sa.text(
        f"SELECT c.customer_id, c.email, c.first_name, c.last_name, c.country{consent_col} "
        f"FROM customers c{attributes} WHERE c.customer_id = ANY(:ids)"
    )
    suppression.ensure_table(engine)
    for chunk in _batches(ids, batch):
        with engine.connect() as conn:
            rows = {r.customer_id: r for r in conn.execute(sql, {"ids": chunk})}
            hashes = {cid: suppression.email_hash(r.email) for cid, r in rows.items()}
            blocked = suppression.suppressed(conn, [h for h in hashes.values() if h is not None])
        judged = []
        for cid in chunk:
            r = rows.get(cid)
            reason = (
                "gone" if r is None
                else "no_email" if hashes[cid] is None
                else "suppressed" if hashes[cid] in blocked
                else "no_consent" if check_consent and not r.consented
                else None
            )  # fmt: skip
            if reason:
                screening.left_out[reason] += 1
            else:
                screening.kept += 1
            judged.append((cid, r, reason))
        yield judged


def screened(
    engine: Engine,
    ids: Iterable[int],
    screening: Screening,
    *,
    needs_consent: bool = True,
    batch: int = BATCH,
    consent: str | None = None,
) -> Iterator[list[Contact]]:
    """The members who may leave, in batches of at most `batch`, in id order of `ids`; `screening`
    is filled as they are read. `consent` names the consent column (default: consent_column)."""
    for judged in _judged(engine, ids, screening, needs_consent, batch, consent):
        out = [Contact(cid, r.email.strip(), r.first_name, r.last_name, r.country) for cid, r, why in judged if not why]
        if out:
            yield out


def blocked_ids(engine: Engine, ids: Iterable[int], *, consent: str | None = None) -> tuple[set[int], Screening]:
    """Of `ids`, those who may not leave because they are suppressed or (when the data has a consent
    column) did not consent: what the segment downloads leave out."""
    s = Screening()
    out = {
        cid
        for judged in _judged(engine, ids, s, True, BATCH, consent)
        for cid, _, why in judged
        if why in ("suppressed", "no_consent")
    }
    return out, s


def removed_members(engine: Engine, ids: list[int]) -> list[dict]:
    """Members of a `removed` list: customer_id, and the e-mail only while the customer is still in
    the data and not suppressed (a suppressed address never leaves, not even to be removed)."""
    if not ids:
        return []
    with engine.connect() as conn:
        rows = {r.customer_id: r.email for r in conn.execute(
            sa.text("SELECT customer_id, email FROM customers WHERE customer_id = ANY(:ids)"), {"ids": ids}
        )}  # fmt: skip
        hashes = {cid: suppression.email_hash(e) for cid, e in rows.items()}
        blocked = suppression.suppressed(conn, [h for h in hashes.values() if h is not None])
    return [
        {
            "customer_id": cid,
            "email": None if hashes.get(cid) in blocked or hashes.get(cid) is None else rows[cid].strip(),
        }
        for cid in ids
    ]


# -- counting a whole segment in SQL (the card's line) ----------------------------------------------
# cdp.suppression.normalise is Python's strip() + lower(); on an ASCII e-mail that is exactly btrim of
# the ASCII characters str.isspace() holds and lower() under the C collation (ASCII only, whatever the
# database's locale), so PostgreSQL hashes those itself. An e-mail with any other character (rare) is
# handed back and hashed by cdp.suppression itself: Unicode case and space rules differ between the two.
_ASCII_SPACE = "".join(chr(i) for i in range(128) if chr(i).isspace())
REASON_SQL = """CASE
        WHEN m.gone THEN 'gone'
        WHEN m.wide THEN 'wide'
        WHEN coalesce(m.norm, '') = '' THEN 'no_email'
        WHEN EXISTS (SELECT 1 FROM suppressed_emails s
                     WHERE s.email_sha256 = sha256(convert_to(m.norm, 'UTF8'))) THEN 'suppressed'
        WHEN NOT m.consented THEN 'no_consent'
        ELSE 'kept' END"""
COUNT_SQL = """
WITH m AS (
    SELECT c.customer_id IS NULL AS gone, c.email, octet_length(c.email) <> char_length(c.email) AS wide,
           lower(btrim(c.email, :ascii_space) COLLATE "C") AS norm{consent}
    FROM ({members}) g LEFT JOIN customers c ON c.customer_id = g.customer_id{attributes} OFFSET 0
), r AS (SELECT m.email, m.consented, {reason} AS reason FROM m OFFSET 0)
SELECT {counts}, array_agg(email) FILTER (WHERE reason = 'wide') AS emails,
       array_agg(consented) FILTER (WHERE reason = 'wide') AS consents
FROM r"""
_COUNTED = ("kept", *REASONS)  # one aggregate per outcome: no sort, no grouping
# (OFFSET 0 keeps `m` and `r` subqueries: each member's normalised e-mail and reason are computed once,
# not once per use)


def counted(engine: Engine, members: CompiledSQL, *, consent: str | None = None, timeout_ms: int = 60_000) -> Screening:
    """How many of the members `members` selects (a statement whose first column is customer_id: the
    gate's own SQL, or ids_sql) may leave, and why the others may not, in one statement over them, the
    data's consent column applied as blocked_ids applies it. Counts only: no e-mail leaves PostgreSQL
    but the few non-ASCII ones, hashed here and looked up (one more statement, only when there are some)."""
    column = consent if consent is not None else consent_column(engine)
    s = Screening(consent=NO_CONSENT_DATA if column is None else f"consent required ({column})")
    sql = COUNT_SQL.format(
        members=members.sql,
        consent=f", {consent_sql(column)} AS consented" if column else ", TRUE AS consented",
        attributes=" LEFT JOIN customer_attributes a ON a.customer_id = c.customer_id" if column else "",
        reason=REASON_SQL,
        counts=", ".join(f"count(*) FILTER (WHERE reason = '{k}') AS {k}" for k in _COUNTED),
    )
    suppression.ensure_table(engine)
    with read_only(engine, timeout_ms=timeout_ms) as conn:
        row = conn.execute(sa.text(sql), {**members.params, "ascii_space": _ASCII_SPACE}).one()
        wide = [(suppression.email_hash(e), ok) for e, ok in zip(row.emails or [], row.consents or [], strict=True)]
        blocked = suppression.suppressed(conn, [h for h, _ in wide if h is not None])
    s.kept = row.kept
    s.left_out.update({k: getattr(row, k) for k in REASONS if getattr(row, k)})
    for h, ok in wide:
        why = "no_email" if h is None else "suppressed" if h in blocked else None if ok else "no_consent"
        if why:
            s.left_out[why] += 1
        else:
            s.kept += 1
    return s


def ids_sql(ids: Iterable[int]) -> CompiledSQL:
    """`ids` as a members statement for counted (a held membership)."""
    # one text literal: a bound list of 100,000 numbers costs PostgreSQL seconds to parse as an ARRAY[...]
    literal = "{" + ",".join(str(int(i)) for i in ids) + "}"
    return CompiledSQL("SELECT unnest(CAST(:member_ids AS bigint[])) AS customer_id", {"member_ids": literal})


def counted_estimate(gate: Screening, size: int) -> Screening:
    """The screening of a segment of about `size` members cut from the gate `gate` counts (an intent's
    refinement over a gate too large to hold): the gate's shares applied to `size`, marked `about`."""
    total = gate.total
    if total == 0:
        return Screening(gate.consent, 0, Counter(), about=True)
    left = Counter({k: round(n * size / total) for k, n in gate.left_out.items()})
    return Screening(gate.consent, max(size - sum(left.values()), 0), +left, about=True)
