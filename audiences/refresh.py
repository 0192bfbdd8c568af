"""Refreshing saved audiences: evaluate, diff exactly against the last successful refresh, store.

One transaction per audience (an advisory lock per audience serialises the bot and a terminal
refreshing the same one): the previous members are read, the recipe evaluated on the live
snapshot, and the new members with their log row written together. A failure is written to that
audience's log and returned; refresh_all goes on with the others.

refresh_all is for AFTER A SUCCESSFUL INGESTION only: the caller (the bot's ingestion job, its
start-up catch-up) calls it once the run succeeded; given the id of a run that did not succeed it
refreshes nothing. pending() names the audiences not yet refreshed on the live snapshot (an
ingestion ran from the terminal while the bot was stopped).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from audiences.errors import AudienceError
from audiences.evaluate import Evaluator
from audiences.members import diff
from audiences.model import Recipe, SavedAudience
from audiences.store import AudienceStore
from cdp.db import get_engine
from cdp.errors import CDPError
from cdp.schema import ensure_schema
from cdp.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a refresh did, for the caller to post (ids only: no names, no e-mails)."""

    audience: SavedAudience
    status: str  # succeeded | failed
    run_id: int | None = None
    size_before: int | None = None  # None: the first refresh
    size_after: int | None = None
    joined: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    why_joined: dict[int, str] = field(default_factory=dict)  # the first few joined
    why_left: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # conditions whose values left the data
    error: str | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.joined or self.left)

    @property
    def worth_posting(self) -> bool:
        """Post a failure, a change, a vanished condition; an unchanged audience only if its owner
        asked for "always"."""
        return self.status == "failed" or self.changed or bool(self.notes) or self.audience.notify == "always"


@dataclass
class Audiences:
    """The store and the evaluator of one workspace, ready (tables ensured)."""

    store: AudienceStore
    evaluator: Evaluator

    @classmethod
    def from_settings(cls, settings: Settings, workspace: str = "") -> Audiences:
        engine = get_engine(settings)
        ensure_schema(engine)
        store = AudienceStore(engine, workspace)
        store.ensure_tables()
        return cls(store, Evaluator(settings, engine))


def _live_run(ev: Evaluator) -> int | None:
    try:
        return ev.catalogue().run_id
    except Exception:  # the database itself is the failure: the log row says so without a run
        return None


def _error_text(exc: Exception) -> str:
    if isinstance(exc, (CDPError, AudienceError)):
        return str(exc)
    if isinstance(exc, sa.exc.DBAPIError):
        return f"the database refused the evaluation ({type(exc.orig).__name__}: {str(exc.orig).strip()[:300]})"
    return f"{type(exc).__name__}: {exc}"


def refresh(
    aud: Audiences, audience: SavedAudience, *, trigger: str = "refresh", now: datetime | None = None
) -> Outcome:
    """Evaluate `audience` on the live snapshot and record it; never raises for the audience's own
    failure (the outcome says it), only when even the log row cannot be written."""
    now = now or datetime.now()
    t0 = time.perf_counter()
    store, ev = aud.store, aud.evaluator
    with store.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.refresh:' || :id))"), {"id": audience.id})
        before, old = store.members(audience.id, conn)
        size_before = before.size if before else None
        try:
            recipe = audience.usable_recipe()
            result = ev.evaluate(recipe, now)
            joined, left = diff(result.ids, old)
            why_joined = ev.why_joined(recipe, joined.tolist(), now, result.scores)
            why_left = ev.why_left(left.tolist())
        except Exception as exc:  # one audience's failure is its own: recorded, returned
            log.exception("audience %d: refresh failed", audience.id)
            error = _error_text(exc)
            seconds = time.perf_counter() - t0
            store.record(conn, audience.id, run_id=_live_run(ev), trigger=trigger, error=error, seconds=seconds)
            return Outcome(audience, "failed", size_before=size_before, error=error, seconds=seconds)
        seconds = time.perf_counter() - t0
        store.record(
            conn, audience.id, run_id=result.run_id, trigger=trigger, members=result.ids,
            added=len(joined), removed=len(left), notes=result.notes, seconds=seconds,
        )  # fmt: skip
    log.info(
        "audience %d refreshed on run %s: %s → %d (+%d −%d) in %.2fs",
        audience.id, result.run_id, size_before, len(result.ids), len(joined), len(left), seconds,
    )  # fmt: skip
    return Outcome(
        audience, "succeeded", result.run_id, size_before, len(result.ids), joined.tolist(), left.tolist(),
        why_joined, why_left, result.notes, None, seconds,
    )  # fmt: skip


def save(
    aud: Audiences, name: str, recipe: Recipe, *, now: datetime | None = None, **fields: Any
) -> tuple[SavedAudience, Outcome]:
    """Save the audience (AudienceStore.save's keywords: owner, channel, thread_ts, notify, overwrite;
    NameTaken / BadName as it raises them) and evaluate it at once: its members now are the baseline
    the first refresh after an ingestion is compared with."""
    audience = aud.store.save(name, recipe, **fields)
    return audience, refresh(aud, audience, trigger="save", now=now)


def run_succeeded(aud: Audiences, run_id: int) -> bool:
    with aud.store.engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM ingestion_runs WHERE id = :id"), {"id": run_id}).scalar()
    return status == "succeeded"


def refresh_all(
    settings: Settings,
    run_id: int | None = None,
    *,
    aud: Audiences | None = None,
    audiences: list[SavedAudience] | None = None,
    trigger: str = "ingestion",
    now: datetime | None = None,
) -> list[Outcome]:
    """Refresh every saved audience (or `audiences`) after the successful ingestion `run_id`; one
    audience's failure is recorded in its log and the others still refresh. A `run_id` that did not
    succeed refreshes nothing (the caller should not have called)."""
    aud = aud or Audiences.from_settings(settings)
    if run_id is not None and not run_succeeded(aud, run_id):
        log.warning("ingestion run %s did not succeed: no audience refreshed", run_id)
        return []
    outcomes = []
    for audience in audiences if audiences is not None else aud.store.all():
        try:
            outcomes.append(refresh(aud, audience, trigger=trigger, now=now))
        except Exception as exc:  # even its log row could not be written: report, go on
            log.exception("audience %d: the refresh could not be recorded", audience.id)
            outcomes.append(Outcome(audience, "failed", error=_error_text(exc)))
    return outcomes


def pending(settings: Settings, *, aud: Audiences | None = None) -> list[SavedAudience]:
    """Audiences whose latest refresh is older than the live snapshot (or that were never
    refreshed): what the bot refreshes on start."""
    aud = aud or Audiences.from_settings(settings)
    live = aud.evaluator.catalogue().run_id
    if live is None:
        return []
    latest = aud.store.latest_runs()
    return [a for a in aud.store.all() if (done := latest.get(a.id)) is None or done < live]
