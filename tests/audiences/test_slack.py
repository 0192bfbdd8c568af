"""Activation through the real bot and the fake Slack: thread exports, the card's activatable count and
Export menu, `/audience send`, and a destinations file that does not parse."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import sqlalchemy as sa

from audiences.model import Recipe
from audiences.refresh import Audiences, Outcome, save
from bot.app import bot_context
from bot.saved_audiences import deliver_refreshed
from bot.views.result_card import ACTION_EXPORT
from cdp import suppression
from cdp.db import get_engine
from discovery.catalogue import load_catalogue
from discovery.query import AudienceQuery, Behaviour
from discovery.service import Conversation
from tests.audiences.receiver import Receiver
from tests.bot.conftest import loaded, slack  # noqa: F401 - fixtures
from tests.bot.harness import card_text, running_bot, send_message

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
SECRET, ENV = "slack-side-secret", "TEST_SLACK_HOOK_SECRET"


def socks_buyers(settings) -> list[int]:
    """Who bought socks, read straight from the events (the segment "customers who bought socks")."""
    with get_engine(settings).connect() as conn:
        rows = conn.execute(
            sa.text("SELECT DISTINCT customer_id FROM events WHERE event_type = 'purchase' AND product = 'socks'")
        )
        return sorted(r[0] for r in rows)


def _texts(fake) -> str:
    return "\n".join((m.text or "") + json.dumps(m.blocks or []) for m in fake.messages())


def _said(fake, needle: str, **kw):
    return fake.wait_message(lambda m: needle in (m.text or "") + card_text(m), timeout=30, **kw)


def test_export_phrases_in_a_segment_thread_upload_the_file_with_counts(slack, loaded):  # noqa: F811
    with running_bot(slack, loaded) as bot:
        slack.send_slash_command("/audience", text="customers who bought socks", channel_id="C7")
        root = bot.first_post("C7")
        bot.card_for("C7", root.ts)
        shown = bot.store.thread("C7", root.ts).segment_ids
        ids = socks_buyers(loaded)  # the whole segment, not the page the card shows
        assert set(shown) <= set(ids)
        send_message(slack, "export for meta", channel="C7", thread_ts=root.ts)
        files = bot.files_in("C7", root.ts, suffix=".csv")
        rows = list(csv.reader(files[0].content.decode().splitlines()))
        assert rows[0] == ["email", "fn", "ln", "country"] and len(rows) - 1 == len(ids)
        note = _said(slack, "Meta Custom Audiences customer list", channel="C7")
        assert note.thread_ts == root.ts and f"{len(ids)} customers; nobody left out; no consent data" in note.text
        send_message(slack, "export json", channel="C7", thread_ts=root.ts)
        doc = json.loads(bot.files_in("C7", root.ts, suffix=".json", count=2)[1].content)
        assert [m["customer_id"] for m in doc] == ids
        assert not EMAIL.search(_texts(slack))


def test_send_an_audience_from_slack(slack, loaded, tmp_path, monkeypatch):  # noqa: F811
    receiver = Receiver(SECRET.encode())
    monkeypatch.setenv(ENV, SECRET)
    path = tmp_path / "destinations.yaml"
    path.write_text(
        f"destinations:\n  crm-hook:\n    type: webhook\n    url: {receiver.url}\n    secret_env: {ENV}\n"
        "    on_refresh: true\n"
    )
    settings = loaded.model_copy(update={"destinations_file": path, "admin_users": "U_ADMIN"})
    aud = Audiences.from_settings(settings)
    product = load_catalogue(get_engine(settings)).products[0]
    try:
        with running_bot(slack, settings) as bot:
            slack.add_user("U_OWNER", name="owner")
            slack.add_user("U_ADMIN", name="admin")
            slack.send_slash_command("/audience", text=f"customers who bought {product}", channel_id="C8")
            root = bot.first_post("C8")
            bot.card_for("C8", root.ts)
            recipe = Recipe(query=AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], products=[product])]))
            a, o = save(aud, "Fans", recipe, owner="U_OWNER", channel="C8", thread_ts=root.ts, overwrite=True)
            members = aud.store.members(a.id)[1].tolist()
            assert o.status == "succeeded" and members

            slack.send_slash_command("/audience", text="send Fans to crm-hook", user_id="U_USER", channel_id="C8")
            assert "Only the owner of “Fans” (<@U_OWNER>) or an admin" in _said(slack, "Only the owner").text
            assert receiver.attempts == []

            slack.send_slash_command("/audience", text="send fans to crm-hook", user_id="U_OWNER", channel_id="C8")
            line = _said(slack, "“Fans” → crm-hook", channel="C8")
            assert line.thread_ts == root.ts and f"{len(members)} members sent (full" in line.text
            assert sorted(m["customer_id"] for b in receiver.accepted for m in b["added"]) == members

            slack.send_slash_command("/audience", text="send Fans to crm-hook", user_id="U_ADMIN", channel_id="C8")
            again = _said(slack, "+0 −0 since the last delivery", channel="C8")
            assert again.thread_ts == root.ts

            slack.send_slash_command("/audience", text="send Fans to crm-hok", user_id="U_OWNER", channel_id="C8")
            assert "Did you mean “crm-hook”" in _said(slack, "No destination is named").text
            slack.send_slash_command("/audience", text="send Fanz to crm-hook", user_id="U_OWNER", channel_id="C8")
            assert "Did you mean “Fans”" in _said(slack, "No saved audience is named").text

            with aud.store.engine.begin() as conn:  # a refresh in which the first member left
                aud.store.record(conn, a.id, run_id=o.run_id, trigger="test", members=np.asarray(members[1:]))
            done = deliver_refreshed(bot_context(bot.app).settings, bot.app.client, [Outcome(a, "succeeded")])
            assert [(d.destination, d.added, d.removed) for d in done] == [("crm-hook", 0, 1)]
            assert _said(slack, "+0 −1 since the last delivery", channel="C8").thread_ts == root.ts
            assert [m["customer_id"] for m in receiver.accepted[-1]["removed"]] == members[:1]
            members = members[1:]

            send_message(slack, "export csv", channel="C8", thread_ts=root.ts)
            (f,) = bot.files_in("C8", root.ts, suffix=".csv")
            assert f.name.startswith("fans-csv-") and len(f.content.decode().splitlines()) == len(members) + 1

            path.write_text("destinations:\n  crm-hook:\n    type: webhook\n    url: [oops\n")
            slack.send_slash_command("/audience", text="send Fans to crm-hook", user_id="U_OWNER", channel_id="C8")
            bad = _said(slack, "does not parse")
            assert str(path) in bad.text and "line 5" in bad.text
            assert not EMAIL.search(_texts(slack)) and SECRET not in _texts(slack)
    finally:
        receiver.stop()


def _export_menu(card) -> dict:
    (menu,) = [b["accessory"] for b in card.blocks if b.get("accessory", {}).get("action_id") == ACTION_EXPORT]
    return menu


def test_the_card_counts_who_can_be_activated_and_its_export_menu_exports(slack, loaded):  # noqa: F811
    question = "customers who bought socks"
    engine, blocked = get_engine(loaded), []
    try:
        with running_bot(slack, loaded) as bot:
            expected = bot.discovery.answer(question, Conversation())
            shown = [c.customer_id for c in expected.customers]
            blocked = [c.email for c in expected.customers[:2]]
            assert suppression.add(engine, blocked) == 2
            slack.send_slash_command("/audience", text=question, channel_id="C9")
            root = bot.first_post("C9")
            card = bot.card_for("C9", root.ts)
            segment = socks_buyers(loaded)  # the card counts the whole segment, as the exports hold it
            line = f"*Activatable:* {len(segment) - 2} of {len(segment)} (2 suppressed, no consent data)"
            assert line in card_text(card) and "shown (" not in card_text(card)
            menu = _export_menu(card)
            assert [o["value"].split(":")[0] for o in menu["options"]] == ["meta", "google", "csv", "json"]

            meta = next(o for o in menu["options"] if o["value"].startswith("meta:"))
            env = slack.send_block_action(ACTION_EXPORT, action_type="static_select", channel_id="C9",
                                          message_ts=root.ts, action={"selected_option": meta})  # fmt: skip
            assert slack.wait_ack(env).latency < 3
            (f,) = bot.files_in("C9", root.ts, suffix=".csv")
            rows = list(csv.reader(f.content.decode().splitlines()))
            segment = socks_buyers(loaded)  # exports hold the whole segment, screened
            assert rows[0] == ["email", "fn", "ln", "country"] and len(rows) - 1 == len(segment) - 2
            assert set(blocked).isdisjoint(f.content.decode())
            note = _said(slack, "Meta Custom Audiences customer list", channel="C9")
            assert note.thread_ts == root.ts and f"{len(segment) - 2} customers; left out: 2 suppressed" in note.text

            json_option = next(o for o in menu["options"] if o["value"].startswith("json:"))
            slack.send_block_action(ACTION_EXPORT, action_type="static_select", channel_id="C9", message_ts=root.ts,
                                    action={"selected_option": json_option})  # fmt: skip
            doc = json.loads(bot.files_in("C9", root.ts, suffix=".json", count=2)[1].content)
            assert [m["customer_id"] for m in doc] == sorted(set(segment) - set(shown[:2]))
            assert not EMAIL.search(_texts(slack))
    finally:
        suppression.remove(engine, blocked)
    slack.assert_all_messages_valid()


def test_an_unparsable_destinations_file_is_logged_at_start_and_shown_in_status(slack, loaded, tmp_path, caplog):  # noqa: F811
    path = tmp_path / "destinations.yaml"
    path.write_text("destinations:\n  crm-hook:\n    type: webhook\n    url: [oops\n")
    with running_bot(slack, loaded.model_copy(update={"destinations_file": path})):
        said = [r.getMessage() for r in caplog.records if str(path) in r.getMessage()]
        assert len(said) == 1 and "line 5" in said[0] and "does not parse" in said[0] and "\n" not in said[0]
        slack.send_slash_command("/audience", text="status", channel_id="C6")
        status = slack.wait_message(lambda m: m.kind == "response_url" and "Destinations" in card_text(m), timeout=15)
        assert str(path) in card_text(status) and "line 5" in card_text(status)
