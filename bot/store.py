"""The bot's own tables in PostgreSQL (through cdp's engine): event dedupe, thread memory, the
cards it posted (for Show SQL / Download CSV after a restart) and feedback.

bot_event_dedupe  key (event_id, message or trigger id) → expires_at; a key is claimed once per TTL
bot_threads       (channel, thread_ts) → Conversation.to_dict(), the last segment's customer ids
bot_cards         card_id → where it was posted, who asked, the question, the segment JSON document
bot_feedback      (card_id, user_id) → 👍 / 👎 with the question, the recipe and the mode
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

CARD_RETENTION_DAYS = 30

DDL = (
    """
    CREATE TABLE IF NOT EXISTS bot_event_dedupe (
        key        text PRIMARY KEY,
        expires_at timestamptz NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS bot_event_dedupe_expires ON bot_event_dedupe (expires_at)",
    """
    CREATE TABLE IF NOT EXISTS bot_threads (
        channel      text NOT NULL,
        thread_ts    text NOT NULL,
        started_by   text,
        conversation jsonb NOT NULL DEFAULT '{}'::jsonb,
        segment_ids  jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel, thread_ts)
    )""",
    """
    CREATE TABLE IF NOT EXISTS bot_cards (
        card_id    text PRIMARY KEY,
        channel    text NOT NULL,
        thread_ts  text,
        message_ts text,
        user_id    text,
        request_id text,
        question   text NOT NULL,
        document   jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    """
    CREATE TABLE IF NOT EXISTS bot_feedback (
        card_id    text NOT NULL,
        user_id    text NOT NULL,
        rating     smallint NOT NULL CHECK (rating IN (-1, 1)),
        question   text NOT NULL,
        recipe     jsonb,
        mode       text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (card_id, user_id)
    )""",
)


@dataclass
class ThreadState:
    channel: str
    thread_ts: str
    conversation: dict
    segment_ids: list[int] | None  # None: no segment yet in this thread


@dataclass
class Card:
    card_id: str
    channel: str
    thread_ts: str | None
    message_ts: str | None
    user_id: str | None
    question: str
    document: dict


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class BotStore:
    """Thread-safe (each call uses its own pooled connection)."""

    def __init__(self, engine: Engine, *, dedupe_ttl_s: int = 1800):
        self.engine = engine
        self.dedupe_ttl_s = dedupe_ttl_s
        self._last_purge = 0.0
        self._purge_lock = threading.Lock()

    def ensure_tables(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.bot_tables'))"))
            for ddl in DDL:
                conn.execute(sa.text(ddl))
            conn.execute(sa.text("DELETE FROM bot_event_dedupe WHERE expires_at < now()"))
            conn.execute(
                sa.text("DELETE FROM bot_cards WHERE created_at < now() - make_interval(days => :d)"),
                {"d": CARD_RETENTION_DAYS},
            )

    # -- dedupe -----------------------------------------------------------------------------
    def claim(self, *keys: str | None) -> bool:
        """True when none of `keys` was seen within the TTL (the caller processes the event);
        False for a redelivery or a duplicate."""
        keys = tuple(k for k in keys if k)
        if not keys:
            return True
        stmt = sa.text(
            "INSERT INTO bot_event_dedupe (key, expires_at) VALUES (:k, now() + make_interval(secs => :ttl)) "
            "ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at "
            "WHERE bot_event_dedupe.expires_at < now() RETURNING key"
        )
        fresh = True
        with self.engine.begin() as conn:
            for key in keys:
                if conn.execute(stmt, {"k": key[:500], "ttl": self.dedupe_ttl_s}).first() is None:
                    fresh = False
        self._maybe_purge()
        return fresh

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        with self._purge_lock:
            if now - self._last_purge < 60:
                return
            self._last_purge = now
        with self.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM bot_event_dedupe WHERE expires_at < now()"))

    # -- threads ----------------------------------------------------------------------------
    def start_thread(self, channel: str, thread_ts: str, user_id: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO bot_threads (channel, thread_ts, started_by) VALUES (:c, :t, :u) "
                    "ON CONFLICT (channel, thread_ts) DO NOTHING"
                ),
                {"c": channel, "t": thread_ts, "u": user_id},
            )

    def thread(self, channel: str, thread_ts: str) -> ThreadState | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT conversation, segment_ids FROM bot_threads WHERE channel = :c AND thread_ts = :t"),
                {"c": channel, "t": thread_ts},
            ).first()
        if row is None:
            return None
        return ThreadState(channel, thread_ts, row.conversation or {}, row.segment_ids)

    def save_thread(
        self, channel: str, thread_ts: str, conversation: dict, segment_ids: list[int] | None, user_id: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO bot_threads (channel, thread_ts, started_by, conversation, segment_ids) "
                    "VALUES (:c, :t, :u, CAST(:conv AS jsonb), CAST(:ids AS jsonb)) "
                    "ON CONFLICT (channel, thread_ts) DO UPDATE SET conversation = EXCLUDED.conversation, "
                    "segment_ids = EXCLUDED.segment_ids, updated_at = now()"
                ),
                {
                    "c": channel,
                    "t": thread_ts,
                    "u": user_id,
                    "conv": _json(conversation),
                    "ids": None if segment_ids is None else _json(segment_ids),
                },
            )

    # -- cards ------------------------------------------------------------------------------
    def save_card(self, card: Card, request_id: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO bot_cards (card_id, channel, thread_ts, message_ts, user_id, request_id, question, "
                    "document) VALUES (:id, :c, :t, :m, :u, :r, :q, CAST(:doc AS jsonb))"
                ),
                {
                    "id": card.card_id,
                    "c": card.channel,
                    "t": card.thread_ts,
                    "m": card.message_ts,
                    "u": card.user_id,
                    "r": request_id,
                    "q": card.question,
                    "doc": _json(card.document),
                },
            )

    def card(self, card_id: str) -> Card | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT card_id, channel, thread_ts, message_ts, user_id, question, document "
                    "FROM bot_cards WHERE card_id = :id"
                ),
                {"id": card_id},
            ).first()
        return Card(*row) if row else None

    def thread_cards(self, channel: str, thread_ts: str, limit: int = 50) -> list[Card]:
        """The cards posted in a thread, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT card_id, channel, thread_ts, message_ts, user_id, question, document FROM bot_cards "
                    "WHERE channel = :c AND thread_ts = :t ORDER BY created_at DESC, message_ts DESC LIMIT :n"
                ),
                {"c": channel, "t": thread_ts, "n": limit},
            )
            return [Card(*r) for r in rows]

    # -- feedback ---------------------------------------------------------------------------
    def record_feedback(self, card: Card, user_id: str, rating: int) -> None:
        doc = card.document
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO bot_feedback (card_id, user_id, rating, question, recipe, mode) "
                    "VALUES (:id, :u, :r, :q, CAST(:recipe AS jsonb), :mode) "
                    "ON CONFLICT (card_id, user_id) DO UPDATE SET rating = EXCLUDED.rating, created_at = now()"
                ),
                {
                    "id": card.card_id,
                    "u": user_id,
                    "r": 1 if rating > 0 else -1,
                    "q": card.question,
                    "recipe": _json(doc.get("recipe")),
                    "mode": doc.get("mode"),
                },
            )
