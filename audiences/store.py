"""Saved audiences' tables in PostgreSQL (through cdp's engine; the DDL lives here, not in cdp).

saved_audiences     one row per audience: name (unique per workspace, case-insensitive), owner,
                    where refresh notices go, the recipe (JSON)
audience_refreshes  the refresh log, one row per evaluation: the snapshot (run id), status, size,
                    joined / left counts, notes (vanished conditions), the error of a failed one,
                    and for a successful one the whole membership (audiences.members: sorted ids,
                    delta + zlib encoded). The exact diff of the next refresh reads the last
                    successful row; history survives restarts and is deleted with its audience.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine

from audiences import members as m
from audiences.errors import NameTaken, UnknownAudience
from audiences.model import NOTIFY_CHOICES, Recipe, SavedAudience, clean_name, recipe_from_json, recipe_to_json

TREND_REFRESHES = 8  # sizes of the last refreshes a listing carries
SUGGESTIONS = 3

DDL = (
    """
    CREATE TABLE IF NOT EXISTS saved_audiences (
        id         bigserial PRIMARY KEY,
        workspace  text NOT NULL DEFAULT '',
        name       text NOT NULL,
        name_key   text NOT NULL,
        owner      text NOT NULL,
        channel    text,
        thread_ts  text,
        notify     text NOT NULL DEFAULT 'changes' CHECK (notify IN ('changes', 'always')),
        recipe     jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workspace, name_key)
    )""",
    """
    CREATE TABLE IF NOT EXISTS audience_refreshes (
        id           bigserial PRIMARY KEY,
        audience_id  bigint NOT NULL REFERENCES saved_audiences (id) ON DELETE CASCADE,
        run_id       bigint,
        refreshed_at timestamptz NOT NULL DEFAULT now(),
        trigger      text NOT NULL DEFAULT 'refresh',
        status       text NOT NULL CHECK (status IN ('succeeded', 'failed')),
        size         integer,
        added        integer,
        removed      integer,
        members      bytea,
        notes        jsonb NOT NULL DEFAULT '[]'::jsonb,
        error        text,
        seconds      real
    )""",
    "CREATE INDEX IF NOT EXISTS audience_refreshes_by_audience ON audience_refreshes (audience_id, id DESC)",
)


@dataclass(frozen=True)
class RefreshRecord:
    id: int
    audience_id: int
    run_id: int | None
    refreshed_at: datetime
    trigger: str
    status: str
    size: int | None
    added: int | None
    removed: int | None
    notes: list[str]
    error: str | None


@dataclass(frozen=True)
class Listing:
    """A saved audience with its latest refresh and the sizes of its last successful ones."""

    audience: SavedAudience
    last: RefreshRecord | None
    trend: list[int]  # oldest first

    @property
    def size(self) -> int | None:
        return self.trend[-1] if self.trend else None


def can_delete(audience: SavedAudience, user: str, admins: frozenset[str] | set[str]) -> bool:
    """Only the owner or an admin deletes an audience (the caller checks before calling delete)."""
    return user == audience.owner or user in admins


_AUDIENCE_COLS = "id, workspace, name, owner, channel, thread_ts, notify, created_at, recipe"
_REFRESH_COLS = "id, audience_id, run_id, refreshed_at, trigger, status, size, added, removed, notes, error"


def _audience(row) -> SavedAudience:
    """A stored recipe that no longer validates (the typed query changed shape) leaves the audience
    listed, with the reason, so that one bad row does not hide the others."""
    try:
        recipe, problem = recipe_from_json(row.recipe), None
    except ValidationError as exc:
        recipe, problem = None, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
    return SavedAudience(
        id=row.id, name=row.name, owner=row.owner, channel=row.channel, thread_ts=row.thread_ts, notify=row.notify,
        created_at=row.created_at, recipe=recipe, workspace=row.workspace, recipe_error=problem,
    )  # fmt: skip


def _refresh(row) -> RefreshRecord:
    return RefreshRecord(
        id=row.id, audience_id=row.audience_id, run_id=row.run_id, refreshed_at=row.refreshed_at,
        trigger=row.trigger, status=row.status, size=row.size, added=row.added, removed=row.removed,
        notes=list(row.notes or []), error=row.error,
    )  # fmt: skip


class AudienceStore:
    """The saved audiences of one workspace. Thread-safe: each call uses its own pooled connection
    (or the connection it is given, inside the caller's transaction)."""

    def __init__(self, engine: Engine, workspace: str = ""):
        self.engine = engine
        self.workspace = workspace

    def ensure_tables(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.audiences_tables'))"))
            for ddl in DDL:
                conn.execute(sa.text(ddl))

    # -- audiences ------------------------------------------------------------------------------
    def save(
        self,
        name: str,
        recipe: Recipe,
        *,
        owner: str,
        channel: str | None = None,
        thread_ts: str | None = None,
        notify: str = "changes",
        overwrite: bool = False,
    ) -> SavedAudience:
        """Store a new audience. An existing name (any case) raises NameTaken unless `overwrite`,
        which replaces that audience and its history."""
        name = clean_name(name)
        if notify not in NOTIFY_CHOICES:
            raise ValueError(f"notify must be one of {NOTIFY_CHOICES}, not {notify!r}")
        params = {"w": self.workspace, "k": name.casefold()}
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.save:' || :w || ':' || :k))"), params)
            existing = conn.execute(
                sa.text("SELECT name FROM saved_audiences WHERE workspace = :w AND name_key = :k"), params
            ).first()
            if existing is not None:
                if not overwrite:
                    raise NameTaken(existing.name)
                conn.execute(sa.text("DELETE FROM saved_audiences WHERE workspace = :w AND name_key = :k"), params)
            row = conn.execute(
                sa.text(
                    "INSERT INTO saved_audiences (workspace, name, name_key, owner, channel, thread_ts, notify, recipe) "
                    "VALUES (:w, :name, :k, :owner, :channel, :thread_ts, :notify, CAST(:recipe AS jsonb)) "
                    f"RETURNING {_AUDIENCE_COLS}"
                ),
                {
                    **params,
                    "name": name,
                    "owner": owner,
                    "channel": channel,
                    "thread_ts": thread_ts,
                    "notify": notify,
                    "recipe": recipe_to_json(recipe),
                },  # fmt: skip
            ).one()
        return _audience(row)

    def find(self, name: str) -> SavedAudience | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(f"SELECT {_AUDIENCE_COLS} FROM saved_audiences WHERE workspace = :w AND name_key = :k"),
                {"w": self.workspace, "k": clean_name(name).casefold()},
            ).first()
        return _audience(row) if row else None

    def get(self, name: str) -> SavedAudience:
        """The audience named `name` (any case); UnknownAudience with the closest names otherwise."""
        found = self.find(name)
        if found is None:
            raise UnknownAudience(name.strip(), self.closest(name))
        return found

    def closest(self, name: str) -> list[str]:
        names = self.names()
        by_key = {n.casefold(): n for n in names}
        keys = difflib.get_close_matches(name.strip().casefold(), list(by_key), n=SUGGESTIONS, cutoff=0.5)
        return [by_key[k] for k in keys]

    def names(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT name FROM saved_audiences WHERE workspace = :w ORDER BY name_key"),
                {"w": self.workspace},
            )
            return [r.name for r in rows]

    def all(self) -> list[SavedAudience]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(f"SELECT {_AUDIENCE_COLS} FROM saved_audiences WHERE workspace = :w ORDER BY name_key"),
                {"w": self.workspace},
            )
            return [_audience(r) for r in rows]

    def delete(self, name: str) -> SavedAudience:
        """Remove the audience and its history; UnknownAudience when there is none by that name.
        Whether the user may is the caller's check (can_delete)."""
        audience = self.get(name)
        with self.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM saved_audiences WHERE id = :id"), {"id": audience.id})
        return audience

    def listing(self) -> list[Listing]:
        """Every audience with its latest refresh and its last TREND_REFRESHES successful sizes."""
        audiences = self.all()
        if not audiences:
            return []
        ids = [a.id for a in audiences]
        with self.engine.connect() as conn:
            last = {
                r.audience_id: _refresh(r)
                for r in conn.execute(
                    sa.text(
                        f"SELECT DISTINCT ON (audience_id) {_REFRESH_COLS} FROM audience_refreshes "
                        "WHERE audience_id = ANY(:ids) ORDER BY audience_id, id DESC"
                    ),
                    {"ids": ids},
                )
            }
            trends: dict[int, list[int]] = {}
            for r in conn.execute(
                sa.text(
                    "SELECT audience_id, size FROM (SELECT audience_id, id, size, row_number() OVER "
                    "(PARTITION BY audience_id ORDER BY id DESC) AS n FROM audience_refreshes "
                    "WHERE audience_id = ANY(:ids) AND status = 'succeeded') t WHERE n <= :k ORDER BY audience_id, id"
                ),
                {"ids": ids, "k": TREND_REFRESHES},
            ):
                trends.setdefault(r.audience_id, []).append(r.size)
        return [Listing(a, last.get(a.id), trends.get(a.id, [])) for a in audiences]

    # -- refreshes ------------------------------------------------------------------------------
    def history(self, audience_id: int, limit: int = 50) -> list[RefreshRecord]:
        """The refresh log of an audience, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT {_REFRESH_COLS} FROM audience_refreshes WHERE audience_id = :a ORDER BY id DESC LIMIT :n"
                ),
                {"a": audience_id, "n": limit},
            )
            return [_refresh(r) for r in rows]

    def members(self, audience_id: int, conn: Connection | None = None) -> tuple[RefreshRecord | None, np.ndarray]:
        """The last successful refresh and its members (sorted ids); (None, empty) before the first."""
        sql = sa.text(
            f"SELECT {_REFRESH_COLS}, members FROM audience_refreshes "
            "WHERE audience_id = :a AND status = 'succeeded' ORDER BY id DESC LIMIT 1"
        )
        if conn is None:
            with self.engine.connect() as own:
                row = own.execute(sql, {"a": audience_id}).first()
        else:
            row = conn.execute(sql, {"a": audience_id}).first()
        if row is None:
            return None, m.decode(None)
        return _refresh(row), m.decode(row.members)

    def record(
        self,
        conn: Connection,
        audience_id: int,
        *,
        run_id: int | None,
        trigger: str,
        members: np.ndarray | None = None,
        added: int | None = None,
        removed: int | None = None,
        notes: list[str] | None = None,
        error: str | None = None,
        seconds: float | None = None,
    ) -> RefreshRecord:
        """Append a refresh to the log inside the caller's transaction: successful with its members,
        or failed (members None) with its error."""
        row = conn.execute(
            sa.text(
                "INSERT INTO audience_refreshes "
                "(audience_id, run_id, trigger, status, size, added, removed, members, notes, error, seconds) "
                "VALUES (:a, :run, :trigger, :status, :size, :added, :removed, :members, CAST(:notes AS jsonb), "
                f":error, :seconds) RETURNING {_REFRESH_COLS}"
            ),
            {
                "a": audience_id,
                "run": run_id,
                "trigger": trigger,
                "status": "failed" if members is None else "succeeded",
                "size": None if members is None else len(members),
                "added": added,
                "removed": removed,
                "members": None if members is None else m.encode(members),
                "notes": json.dumps(notes or []),
                "error": error,
                "seconds": seconds,
            },  # fmt: skip
        ).one()
        return _refresh(row)

    def latest_runs(self) -> dict[int, int | None]:
        """Each audience's id → the snapshot (run id) of its latest refresh attempt (None: never)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT a.id, max(r.run_id) AS run_id FROM saved_audiences a "
                    "LEFT JOIN audience_refreshes r ON r.audience_id = a.id WHERE a.workspace = :w GROUP BY a.id"
                ),
                {"w": self.workspace},
            )
            return {r.id: r.run_id for r in rows}
