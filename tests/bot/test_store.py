"""The bot's tables on real PostgreSQL: dedupe with a TTL, thread memory, cards, feedback."""

from __future__ import annotations

import sqlalchemy as sa

from bot.store import BotStore, Card


def test_tables_and_dedupe(engine):
    store = BotStore(engine, dedupe_ttl_s=900)
    store.ensure_tables()
    store.ensure_tables()  # idempotent
    assert store.claim("event:Ev1", "message:C1:1.1")
    assert not store.claim("event:Ev1")  # redelivery
    assert not store.claim("event:Ev2", "message:C1:1.1")  # same message, other event (mention + message)
    assert store.claim("event:Ev3")
    assert store.claim()  # nothing to claim
    # an expired key may be claimed again
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE bot_event_dedupe SET expires_at = now() - interval '1 second' WHERE key = 'event:Ev1'")
        )
    assert store.claim("event:Ev1")
    with engine.connect() as conn:
        ttl = conn.execute(
            sa.text("SELECT extract(epoch FROM expires_at - now()) FROM bot_event_dedupe WHERE key = 'event:Ev3'")
        ).scalar()
    assert 890 < ttl <= 900


def test_threads_cards_feedback(engine):
    store = BotStore(engine)
    store.ensure_tables()
    assert store.thread("C1", "1.1") is None
    store.start_thread("C1", "1.1", "U1")
    state = store.thread("C1", "1.1")
    assert state.conversation == {} and state.segment_ids is None
    store.save_thread("C1", "1.1", {"turns": [["q", "a"]], "last_plan": None, "last_ids": [1]}, [1, 2], "U1")
    state = store.thread("C1", "1.1")
    assert state.conversation["turns"] == [["q", "a"]] and state.segment_ids == [1, 2]

    doc = {"kind": "segment", "question": "q", "mode": "offline", "recipe": {"sql": ["SELECT 1"]}, "customers": []}
    store.save_card(Card("card1", "C1", "1.1", "1.1", "U1", "q", doc), request_id="r1")
    card = store.card("card1")
    assert card.document == doc and card.thread_ts == "1.1"
    assert store.card("nope") is None
    store.record_feedback(card, "U2", 1)
    store.record_feedback(card, "U2", -1)  # a change of mind replaces the vote
    store.record_feedback(card, "U3", 1)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT user_id, rating, question, recipe FROM bot_feedback ORDER BY user_id")
        ).all()
    assert [(r.user_id, r.rating) for r in rows] == [("U2", -1), ("U3", 1)]
    assert rows[0].question == "q" and rows[0].recipe == {"sql": ["SELECT 1"]}


def test_reader_role_cannot_read_bot_tables(engine, settings):
    from cdp.db import read_only
    from cdp.reader import reader_engine
    from cdp.schema import ensure_schema

    store = BotStore(engine)
    store.ensure_tables()
    ensure_schema(engine)  # what discovery runs at start-up
    with read_only(reader_engine(settings), timeout_ms=1000) as conn:  # the pool model-written SQL runs on
        try:
            conn.execute(sa.text("SELECT count(*) FROM bot_cards"))
            readable = True
        except sa.exc.ProgrammingError:
            readable = False
    assert not readable, "model-written SQL must not see the bot's tables"
