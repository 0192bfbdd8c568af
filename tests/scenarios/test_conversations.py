"""End to end: the real bot (Bolt, SocketModeHandler, slack_sdk WebClient) against the fake Slack, with
real PostgreSQL, Qdrant and embedder (small_sample, loaded once for the module) and the offline planner."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import sqlalchemy as sa

from bot.views.result_card import ACTION_DOWNLOAD_CSV, ACTION_FEEDBACK_UP, ACTION_SHOW_SQL
from discovery.service import Conversation
from tests.bot.factories import CONTRACT_KEYS, EMAIL
from tests.bot.harness import (
    action_ids,
    button_value,
    card_text,
    is_progress,
    json_of,
    running_bot,
    send_message,
)


def assert_no_emails_in_messages(fake) -> None:
    for m in fake.messages():
        assert not EMAIL.search(json.dumps(m.blocks or []) + (m.text or "")), m


def test_slash_command_progress_card_and_json_file(slack, loaded):
    question = "customers who bought socks"
    with running_bot(slack, loaded) as bot:
        env = slack.send_slash_command("/audience", text=question, channel_id="C1")
        ack = slack.wait_ack(env)
        assert ack.latency < 3 and ack.payload is None  # nothing ephemeral: the channel message is the answer
        first = bot.first_post("C1")
        assert first.thread_ts is None and is_progress(first)
        assert first.time - ack.acked_at < 1.0, "the first message appears within a second"
        assert "> customers who bought socks" in card_text(first) and "<@U_USER> asked" in card_text(first)
        card = bot.card_for("C1", first.ts)
        text = card_text(card)
        assert "🎯 customers who bought socks" in text and "Offline planner" in text and "Funnel" in text
        assert action_ids(card) == ["show_sql", "download_csv", "feedback_up", "feedback_down", "save_audience"]
        (file,) = bot.files_in("C1", first.ts)
        assert re.fullmatch(r"segment-bought-socks-\d{8}-\d{4}\.json", file.name)
        doc = json_of(file)
        assert set(doc) == CONTRACT_KEYS

        expected = bot.discovery.answer(question, Conversation())
        assert [c["customer_id"] for c in doc["customers"]] == [c.customer_id for c in expected.customers]
        assert doc["customers"] == [c.contract() for c in expected.customers]
        assert doc["funnel"] == vars(expected.funnel) and doc["funnel"]["returned"] > 0
        for c in expected.customers[:5]:
            assert f"{c.first_name} {c.last_name}" in text
        # the progress message went through the stages before becoming the card
        updates = [m for m in slack.messages("C1") if m.kind == "chat.update" and m.ts == first.ts]
        assert updates[-1] is card and any(is_progress(m) for m in updates[:-1])
        state = bot.store.thread("C1", first.ts)
        assert state.segment_ids == [c.customer_id for c in expected.customers]
        assert_no_emails_in_messages(slack)
        for call in slack.calls("chat.postMessage"):
            assert call.args.get("unfurl_links") in (False, "false", "0", 0)
    slack.assert_all_messages_valid()


def test_mention_in_channel_answers_in_thread_once(slack, loaded):
    with running_bot(slack, loaded) as bot:
        text = "<@U_BOT> customers who bought socks"
        env = slack.send_app_mention(text, channel_id="C2")
        ts = slack.envelope(env).body["payload"]["event"]["ts"]
        # Slack also sends the same message as message.channels: it must not be answered twice
        slack.send_event(
            {"type": "message", "channel": "C2", "channel_type": "channel", "user": "U_USER", "text": text, "ts": ts}
        )
        first = bot.first_post("C2", thread_ts=ts)
        assert is_progress(first)
        card = bot.card_for("C2", first.ts)
        assert "customers who bought socks" in card_text(card)
        (file,) = bot.files_in("C2", ts)
        assert json_of(file)["question"] == "customers who bought socks"
        time.sleep(0.5)  # room for a duplicate answer to show up
        assert len([m for m in slack.messages("C2") if m.kind == "chat.postMessage"]) == 1
    slack.assert_all_messages_valid()


def test_direct_message_answers_in_thread(slack, loaded):
    with running_bot(slack, loaded) as bot:
        _, ts = send_message(slack, "customers who bought socks", channel="D_USER", channel_type="im")
        first = bot.first_post("D_USER", thread_ts=ts)
        card = bot.card_for("D_USER", first.ts)
        assert "Funnel" in card_text(card)
        bot.files_in("D_USER", ts)
        # help in a DM
        _, ts2 = send_message(slack, "help", channel="D_USER", channel_type="im")
        helped = bot.first_post("D_USER", thread_ts=ts2)
        assert "only Germany" in card_text(helped)
    slack.assert_all_messages_valid()


def test_thread_follow_ups_refine_with_diff_and_survive_a_restart(slack, loaded):
    with running_bot(slack, loaded) as bot:
        slack.send_slash_command("/audience", text="customers who bought socks", channel_id="C3")
        root = bot.first_post("C3")
        first_doc = json_of(bot.files_in("C3", root.ts)[0])
        all_ids = [c["customer_id"] for c in first_doc["customers"]]

        send_message(slack, "only Germany", channel="C3", thread_ts=root.ts)
        reply = bot.first_post("C3", thread_ts=root.ts)
        card = bot.card_for("C3", reply.ts)
        de_doc = json_of(bot.files_in("C3", root.ts, count=2)[1])
        de_ids = [c["customer_id"] for c in de_doc["customers"]]
        assert de_ids and set(de_ids) < set(all_ids)
        assert {c["country"] for c in de_doc["customers"]} == {"DE"}
        text = card_text(card)
        assert "Compared with the previous segment" in text
        assert f"−{len(all_ids) - len(de_ids)} removed" in text and "+0 added" in text

        probe = de_ids[0]
        send_message(slack, f"why is customer {probe} in?", channel="C3", thread_ts=root.ts)
        why = bot.card_for("C3", bot.first_post("C3", thread_ts=root.ts, count=2).ts)
        assert f"Customer {probe}" in card_text(why) and "Compared with" not in card_text(why)
        assert bot.store.thread("C3", root.ts).segment_ids == de_ids  # an explanation is not a new segment

    # a restart keeps the thread's memory (PostgreSQL)
    with running_bot(slack, loaded) as bot:
        send_message(slack, "show them as JSON", channel="C3", thread_ts=root.ts)
        msg = bot.first_post("C3", thread_ts=root.ts, count=3)
        card = bot.card_for("C3", msg.ts)
        text = card_text(card)
        assert "JSON" in text and "customer_id" in text and "Compared with the previous segment" in text
        docs = bot.files_in("C3", root.ts, count=3)
        assert [c["customer_id"] for c in json_of(docs[2])["customers"]] == de_ids
        assert_no_emails_in_messages(slack)
    slack.assert_all_messages_valid()


def test_analytics_breakdown_has_table_and_chart(slack, loaded):
    with running_bot(slack, loaded) as bot:
        slack.send_slash_command("/audience", text="customers by country", channel_id="C4")
        root = bot.first_post("C4")
        card = bot.card_for("C4", root.ts)
        text = card_text(card)
        assert "📊" in text and "DE" in text and "country" in text
        (png,) = bot.files_in("C4", root.ts, suffix=".png")
        assert png.content.startswith(b"\x89PNG") and png.name.startswith("analytics-")
        (doc,) = bot.files_in("C4", root.ts)
        assert json_of(doc)["kind"] == "analytics" and json_of(doc)["columns"] == ["country", "customers"]
    slack.assert_all_messages_valid()


def test_buttons_show_sql_download_csv_and_feedback(slack, loaded):
    with running_bot(slack, loaded) as bot:
        slack.send_slash_command("/audience", text="customers who bought socks", channel_id="C5")
        root = bot.first_post("C5")
        card = bot.card_for("C5", root.ts)
        card_id = button_value(card, ACTION_SHOW_SQL)
        doc = json_of(bot.files_in("C5", root.ts)[0])

        env = slack.send_block_action(ACTION_SHOW_SQL, card_id, channel_id="C5", message_ts=root.ts)
        assert slack.wait_ack(env).latency < 3
        view = slack.wait_for("views.open").args["view"]
        assert view["type"] == "modal" and doc["recipe"]["sql"][0][:40].replace("<", "&lt;") in json.dumps(view)

        slack.send_block_action(ACTION_DOWNLOAD_CSV, card_id, channel_id="C5", message_ts=root.ts)
        (csv_file,) = bot.files_in("C5", root.ts, suffix=".csv")
        rows = list(csv.DictReader(io.StringIO(csv_file.content.decode())))
        assert [int(r["customer_id"]) for r in rows] == [c["customer_id"] for c in doc["customers"]]
        assert all("@" in r["email"] for r in rows)  # the file is the segment: e-mails allowed

        feedback = slack.send_block_action(ACTION_FEEDBACK_UP, card_id, channel_id="C5", message_ts=root.ts)
        thanks = slack.wait_message(lambda m: m.kind == "response_url" and "Thanks" in (m.text or ""))
        assert thanks.response_type == "ephemeral" and thanks.replace_original is False
        with bot.discovery.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT rating, question, recipe FROM bot_feedback WHERE card_id = :c"), {"c": card_id}
            ).one()
        assert (
            row.rating == 1
            and row.question == "customers who bought socks"
            and row.recipe["sql"] == doc["recipe"]["sql"]
        )
        slack.wait_ack(feedback)
    slack.assert_all_messages_valid()


def test_help_status_and_ingest(slack, loaded):
    with running_bot(slack, loaded.model_copy(update={"admin_users": "U_ADMIN"})) as bot:
        slack.add_user("U_ADMIN", name="admin")
        ack = slack.wait_ack(slack.send_slash_command("/audience", text="help"))
        assert "only Germany" in json.dumps(ack.payload) and ack.latency < 3

        slack.send_slash_command("/audience", text="status", channel_id="C6")
        status = slack.wait_message(
            lambda m: m.kind == "response_url" and "status" in (m.text or "").lower(), timeout=15
        )
        text = card_text(status)
        assert (
            "80" in text
            and "offline planner" in text
            and "Next ingestion" in text
            and status.response_type == "ephemeral"
        )

        refused = slack.wait_ack(slack.send_slash_command("/audience", text="ingest", user_id="U_USER"))
        assert "admins" in json.dumps(refused.payload)
        ingest = slack.send_slash_command("/audience", text="ingest", user_id="U_ADMIN", channel_id="C6")
        refused = slack.wait_message(lambda m: m.kind == "response_url" and "not set" in (m.text or ""))
        assert refused.response_type == "ephemeral" and "CRM_CSV and EVENTS_CSV are not set" in refused.text
        slack.wait_ack(ingest)
        assert not slack.messages(kind="chat.postMessage")
        assert bot.app is not None
    slack.assert_all_messages_valid()
