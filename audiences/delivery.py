"""Delivering saved audiences to destinations (destinations.py), with the state of each pair.

audience_deliveries  one row per delivery of an audience to a destination: the snapshot (run id),
                     mode (full | delta), status, counts (members sent, added, removed, batches, left
                     out by reason), the error of a failed one, and for a successful one the set of
                     customer ids delivered (audiences.members encoding). The next delivery's delta is
                     computed against the last SUCCESSFUL row, so a failed delivery changes nothing:
                     the next one resends the same delta with the same batch ids (idempotency keys).

A webhook gets JSON bodies {audience, run_id, batch_id, mode, batch, last, added, removed}, ≤
batch_size members each, streamed (batches.py): one read of the membership, a batch's contacts sent
and dropped before the next.
The first delivery (or `mode: full`) is `full` with every member in `added`; later ones the delta.
A folder gets the whole file in its format, written atomically. Members who may not leave (screen.py)
are never in a body or a file; a member delivered before who may no longer leave is `removed`
(with no e-mail if suppressed). After refresh_all, the bot calls deliver_after_refresh(outcomes).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from audiences import members as m
from audiences.batches import Plan, batch_id, batches, with_last
from audiences.destinations import Destination, DestinationError
from audiences.errors import AudienceError
from audiences.export import export_members, file_name
from audiences.model import SavedAudience
from audiences.refresh import Audiences, Outcome
from audiences.screen import Screening
from audiences.webhook import DeliveryFailed, Policy, post
from cdp.settings import Settings

log = logging.getLogger(__name__)

DDL = (
    """
    CREATE TABLE IF NOT EXISTS audience_deliveries (
        id           bigserial PRIMARY KEY,
        audience_id  bigint NOT NULL REFERENCES saved_audiences (id) ON DELETE CASCADE,
        destination  text NOT NULL,
        run_id       bigint,
        trigger      text NOT NULL,
        mode         text NOT NULL CHECK (mode IN ('full', 'delta')),
        status       text NOT NULL CHECK (status IN ('succeeded', 'failed')),
        delivered_at timestamptz NOT NULL DEFAULT now(),
        seconds      real,
        sent         integer,
        added        integer,
        removed      integer,
        batches      integer,
        left_out     jsonb NOT NULL DEFAULT '{}'::jsonb,
        error        text,
        members      bytea
    )""",
    "CREATE INDEX IF NOT EXISTS audience_deliveries_by_pair ON audience_deliveries (audience_id, destination, id DESC)",
)


@dataclass
class Delivery:
    """What one delivery did (counts only: safe to log and to post)."""

    audience: str
    destination: str
    status: str  # succeeded | failed
    mode: str = "full"
    run_id: int | None = None
    sent: int = 0  # members in the added lists (or the file)
    added: int = 0
    removed: int = 0
    batches: int = 0
    first: bool = False
    screening: Screening = field(default_factory=Screening)
    seconds: float = 0.0
    error: str | None = None
    file: str | None = None

    @property
    def changed(self) -> bool:
        return self.status == "failed" or self.first or bool(self.added or self.removed) or self.mode == "full"

    def line(self) -> str:
        """One line for the audience's thread or the terminal."""
        head = f"“{self.audience}” → {self.destination}"
        if self.status == "failed":
            return f"{head}: failed: {self.error}"
        since = "first delivery" if self.first else f"+{self.added:,} −{self.removed:,} since the last delivery"
        what = f"{self.sent:,} members sent ({self.mode}, {self.batches} batch{'es' if self.batches != 1 else ''})"
        if self.file:
            what = f"{self.sent:,} members written to {self.file}"
        return f"{head}: {what}, {since}, {self.seconds:.1f}s; {self.screening.describe()}"

    def as_dict(self) -> dict:
        return {
            "audience": self.audience, "destination": self.destination, "status": self.status, "mode": self.mode,
            "run_id": self.run_id, "sent": self.sent, "added": self.added, "removed": self.removed,
            "batches": self.batches, "first": self.first, "screening": self.screening.as_dict(),
            "seconds": round(self.seconds, 3), "error": self.error, "file": self.file,
        }  # fmt: skip


def ensure_tables(aud: Audiences) -> None:
    with aud.store.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.delivery_tables'))"))
        for ddl in DDL:
            conn.execute(sa.text(ddl))


def last_delivered(conn: Connection, audience_id: int, destination: str) -> tuple[int | None, np.ndarray | None]:
    """The last successful delivery's id and the ids it left delivered; (None, None) before the first."""
    row = conn.execute(
        sa.text(
            "SELECT id, members FROM audience_deliveries WHERE audience_id = :a AND destination = :d "
            "AND status = 'succeeded' ORDER BY id DESC LIMIT 1"
        ),
        {"a": audience_id, "d": destination},
    ).first()
    return (None, None) if row is None else (row.id, m.decode(row.members))


def history(aud: Audiences, audience_id: int, limit: int = 20) -> list[dict]:
    ensure_tables(aud)
    with aud.store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT destination, run_id, trigger, mode, status, delivered_at, sent, added, removed, batches, "
                "left_out, error FROM audience_deliveries WHERE audience_id = :a ORDER BY id DESC LIMIT :n"
            ),
            {"a": audience_id, "n": limit},
        )
        return [dict(r._mapping) for r in rows]


def _record(conn: Connection, audience: SavedAudience, dest: Destination, d: Delivery, trigger: str,
            delivered: np.ndarray | None) -> None:  # fmt: skip
    conn.execute(
        sa.text(
            "INSERT INTO audience_deliveries (audience_id, destination, run_id, trigger, mode, status, seconds, "
            "sent, added, removed, batches, left_out, error, members) VALUES (:a, :d, :run, :trigger, :mode, "
            ":status, :seconds, :sent, :added, :removed, :batches, CAST(:left_out AS jsonb), :error, :members)"
        ),
        {
            "a": audience.id,
            "d": dest.name,
            "run": d.run_id,
            "trigger": trigger,
            "mode": d.mode,
            "status": d.status,
            "seconds": d.seconds,
            "sent": d.sent,
            "added": d.added,
            "removed": d.removed,
            "batches": d.batches,
            "left_out": json.dumps(d.screening.as_dict()),
            "error": d.error,
            "members": None if delivered is None else m.encode(delivered),
        },  # fmt: skip
    )


def _send_webhook(aud: Audiences, settings: Settings, audience: SavedAudience, dest: Destination, d: Delivery,
                  members_now: np.ndarray, previous: np.ndarray | None, base: int | None,
                  client: httpx.Client | None) -> np.ndarray:  # fmt: skip
    """Stream the batches to the webhook; the ids now delivered (raises DeliveryFailed / DestinationError)."""
    secret = dest.secret()
    policy = Policy(
        max_retries=dest.max_retries if dest.max_retries is not None else settings.delivery_max_retries,
        backoff_s=settings.delivery_backoff_s,
        timeout_s=dest.timeout_s or settings.delivery_timeout_s,
    )
    plan = Plan(audience.id, dest.name, base, d.mode, dest.batch_size)
    delivered: list[int] = []
    stream = batches(aud.store.engine, plan, members_now, previous, d.screening, delivered,
                     needs_consent=dest.needs_consent)  # fmt: skip
    own = client is None
    client = client or httpx.Client()
    try:
        for i, ((kind, members_), last) in enumerate(with_last(stream)):
            bid = batch_id(plan, kind, [x["customer_id"] for x in members_], i + 1)
            body = {
                "audience": audience.name, "run_id": d.run_id, "batch_id": bid, "mode": d.mode,
                "batch": i + 1, "last": last,
                "added": members_ if kind == "added" else [], "removed": members_ if kind == "removed" else [],
            }  # fmt: skip
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            post(client, dest.url or "", raw, secret, bid, policy, where=f"the receiver at {dest.where}")
            d.batches += 1
            d.sent += len(members_) if kind == "added" else 0
    finally:
        if own:
            client.close()
    target = m.as_sorted(delivered)
    joined, left = (target, target[:0]) if previous is None else m.diff(target, previous)
    d.added, d.removed = len(joined), len(left)
    return target


def _write_folder(aud: Audiences, audience: SavedAudience, dest: Destination, d: Delivery, ids: np.ndarray,
                  previous: np.ndarray | None) -> np.ndarray:  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = (dest.path or Path(".")) / file_name(audience.name, dest.format or "csv", stamp)
    kept: list[int] = []
    d.screening = export_members(
        aud.store.engine, ids, dest.format or "csv", path, needs_consent=dest.needs_consent, kept=kept
    )
    target = m.as_sorted(kept)
    if previous is not None:
        joined, left = m.diff(target, previous)
        d.added, d.removed = len(joined), len(left)
    else:
        d.added = len(target)
    d.sent, d.batches, d.file = len(target), 1, str(path)
    return target


def send(
    aud: Audiences,
    settings: Settings,
    audience: SavedAudience,
    dest: Destination,
    *,
    trigger: str = "send",
    full: bool = False,
    client: httpx.Client | None = None,
) -> Delivery:
    """Deliver `audience`'s current members to `dest` now and record it. Never raises for the
    delivery's own failure (the Delivery says it, the state is unchanged); AudienceError when the
    audience was never evaluated or the same pair is being delivered by someone else."""
    ensure_tables(aud)
    engine = aud.store.engine
    t0 = time.perf_counter()
    record, members_now = aud.store.members(audience.id)
    if record is None:
        raise AudienceError(f"“{audience.name}” has no successful refresh yet: refresh it, then send it.")
    with engine.connect() as lock:
        key = {"k": f"audience.deliver:{audience.id}:{dest.name}"}
        if not lock.execute(sa.text("SELECT pg_try_advisory_lock(hashtext(:k))"), key).scalar():
            raise AudienceError(
                f"“{audience.name}” is being delivered to {dest.name} right now; try again when it ends."
            )
        try:
            prev_id, previous = last_delivered(lock, audience.id, dest.name)
            lock.commit()
            mode = "full" if previous is None or full or dest.mode == "full" or dest.type == "folder" else "delta"
            d = Delivery(audience.name, dest.name, "succeeded", mode, record.run_id, first=previous is None)
            delivered: np.ndarray | None
            try:
                if dest.type == "folder":
                    delivered = _write_folder(aud, audience, dest, d, members_now, previous)
                else:
                    delivered = _send_webhook(aud, settings, audience, dest, d, members_now, previous, prev_id, client)
            except (DeliveryFailed, DestinationError, OSError) as exc:
                d.status, d.error, delivered = "failed", _error(exc, dest), None
            d.seconds = time.perf_counter() - t0
            with engine.begin() as conn:
                _record(conn, audience, dest, d, trigger, delivered)
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:k))"), key)
            lock.commit()
    log.info(
        "delivery of audience %d to %s (%s, %s): %s, %d sent, +%d −%d, %d batches in %.2fs",
        audience.id, dest.name, trigger, d.mode, d.status, d.sent, d.added, d.removed, d.batches, d.seconds,
    )  # fmt: skip
    return d


def _error(exc: Exception, dest: Destination) -> str:
    if isinstance(exc, OSError):
        return f"could not write into {dest.where} ({exc.strerror or type(exc).__name__}). Check the folder exists and is writable."
    return str(exc)


def deliver_after_refresh(
    settings: Settings,
    outcomes: list[Outcome],
    destinations: dict[str, Destination],
    *,
    aud: Audiences | None = None,
    client: httpx.Client | None = None,
) -> list[Delivery]:
    """What the bot calls after refresh_all: each successfully refreshed audience goes, as a delta, to
    every `on_refresh` destination it was delivered to once. Returns the deliveries that sent or
    failed something (an unchanged audience sends nothing and is not returned)."""
    targets = [d for d in destinations.values() if d.on_refresh]
    done = [o for o in outcomes if o.status == "succeeded"]
    if not targets or not done:
        return []
    aud = aud or Audiences.from_settings(settings)
    ensure_tables(aud)
    out = []
    for o in done:
        for dest in targets:
            with aud.store.engine.connect() as conn:
                if last_delivered(conn, o.audience.id, dest.name)[0] is None:
                    continue
            try:
                d = send(aud, settings, o.audience, dest, trigger="refresh", client=client)
            except AudienceError as exc:
                d = Delivery(o.audience.name, dest.name, "failed", error=str(exc))
            if d.changed:
                out.append(d)
    return out
