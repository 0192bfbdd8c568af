"""End to end: exactly-once processing, Slack's failures (429, not_in_channel, disconnects), concurrency
and per-user limits, ignored messages, unexpected errors."""

from __future__ import annotations

import threading
import time

from bot.app import bot_context
from bot.views.errors import INVITE_HINT
from discovery.service import Discovery
from tests.bot.harness import card_text, is_progress, json_of, running_bot, send_message

QUESTION = "customers who bought socks"


def posts(fake, channel, thread_ts=None):
    return [
        m
        for m in fake.messages(channel)
        if m.kind == "chat.postMessage" and (thread_ts is None or m.thread_ts == thread_ts)
    ]


def test_redelivered_envelopes_are_answered_once(slack, loaded):
    with running_bot(slack, loaded) as bot:
        env = slack.send_app_mention(f"<@U_BOT> {QUESTION}", channel_id="C1")
        ts = slack.envelope(env).body["payload"]["event"]["ts"]
        retries = [env]
        for attempt in (1, 2, 3):
            retries.append(slack.retry_envelope(retries[-1]))
            assert slack.envelope(retries[-1]).body["retry_attempt"] == attempt
        for e in retries:
            slack.wait_ack(e)
        first = bot.first_post("C1", thread_ts=ts)
        bot.card_for("C1", first.ts)
        bot.files_in("C1", ts)

        cmd = slack.send_slash_command("/audience", text=QUESTION, channel_id="C1b")
        slack.wait_ack(slack.retry_envelope(cmd))
        root = bot.first_post("C1b")
        bot.card_for("C1b", root.ts)
        time.sleep(0.7)
        assert len(posts(slack, "C1", ts)) == 1 and len(posts(slack, "C1b")) == 1
        assert len([f for f in slack.files() if f.name.endswith(".json")]) == 2
    slack.assert_all_messages_valid()


def test_rate_limited_post_is_retried(slack, loaded):
    with running_bot(slack, loaded) as bot:
        slack.rate_limit_next("chat.postMessage", retry_after=1)
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C2")
        first = bot.first_post("C2", timeout=15)
        bot.card_for("C2", first.ts)
        calls = slack.calls("chat.postMessage")
        assert [c.status for c in calls[:2]] == [429, 200] and calls[1].time - calls[0].time >= 1.0
    slack.assert_all_messages_valid()


def test_not_in_channel_answers_through_response_url_with_invite_hint(slack, loaded):
    slack.set_not_in_channel("C_OUT")
    with running_bot(slack, loaded):
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C_OUT")
        card = slack.wait_message(lambda m: m.kind == "response_url" and m.response_type == "in_channel", timeout=15)
        text = card_text(card)
        assert "Funnel" in text and "/invite @Audience" in text
        note = slack.messages(kind="response_url")[0]
        assert note.response_type == "ephemeral" and "/invite @Audience" in card_text(note)
        assert not slack.messages(kind="chat.postMessage") and not slack.files()
        assert INVITE_HINT in text
    slack.assert_all_messages_valid()


def test_twenty_concurrent_commands_from_ten_users(slack, loaded):
    users = [f"U{i:02d}" for i in range(10)]
    for u in users:
        slack.add_user(u)
    with running_bot(slack, loaded.model_copy(update={"bot_workers": 4})) as bot:
        questions = [
            "customers who bought socks", "customers from Germany", "customers who bought shoes",
            "customers who like luxury", "customers by country",
        ]  # fmt: skip
        envs = []
        for i in range(20):
            envs.append(
                slack.send_slash_command("/audience", text=questions[i % 5], user_id=users[i % 10], channel_id=f"CC{i}")
            )
        acks = [slack.wait_ack(e, timeout=10) for e in envs]
        assert max(a.latency for a in acks) < 3
        for i in range(20):
            first = bot.first_post(f"CC{i}", timeout=30)
            card = bot.card_for(f"CC{i}", first.ts, timeout=60)
            assert not is_progress(card) and "went wrong" not in card_text(card)
            bot.files_in(f"CC{i}", first.ts)
    slack.assert_all_messages_valid()


class GatedDiscovery(Discovery):
    """The real discovery layer, held at a gate: keeps a question in flight for as long as a test needs."""

    gate: threading.Event

    def answer(self, *args, **kwargs):
        assert self.gate.wait(20)
        return super().answer(*args, **kwargs)


def test_per_user_limit(slack, loaded):
    gated = GatedDiscovery.from_settings(loaded)
    gated.gate = threading.Event()
    with running_bot(slack, loaded.model_copy(update={"max_questions_per_user": 1}), discovery=gated) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C7")
        first = bot.first_post("C7")
        slack.send_slash_command("/audience", text="customers who bought shoes", channel_id="C7")
        busy = slack.wait_message(lambda m: m.kind == "response_url" and "in progress" in (m.text or ""))
        assert busy.response_type == "ephemeral"
        slack.add_user("U_OTHER")
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C7", user_id="U_OTHER")  # others are not held
        bot.first_post("C7", count=2)
        gated.gate.set()
        bot.card_for("C7", first.ts, timeout=20)
        inflight = bot_context(bot.app).inflight
        deadline = time.monotonic() + 10
        while inflight.count("U_USER") and time.monotonic() < deadline:  # the worker still uploads the file
            time.sleep(0.02)
        last = slack.send_slash_command("/audience", text="customers who bought shoes", channel_id="C7")
        bot.first_post("C7", count=3, timeout=10)
        slack.wait_ack(last)
    slack.assert_all_messages_valid()


def test_socket_reconnects_after_disconnect(slack, loaded):
    with running_bot(slack, loaded) as bot:
        total = slack.total_connections
        slack.disconnect()
        slack.wait_connected(15, min_total=total + 1)
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C8")
        bot.card_for("C8", bot.first_post("C8").ts)


def test_edits_joins_bots_and_unrelated_messages_are_ignored(slack, loaded):
    with running_bot(slack, loaded) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C9")
        root = bot.first_post("C9")
        bot.card_for("C9", root.ts)
        send_message(slack, "only Germany", channel="C9", thread_ts=root.ts, subtype="message_changed")
        send_message(slack, "only Germany", channel="C9", thread_ts=root.ts, subtype="channel_join")
        send_message(slack, "only Germany", channel="C9", thread_ts=root.ts, bot_id="B_OTHER")
        send_message(slack, "only Germany", channel="C9", thread_ts=root.ts, user="U_BOT")
        send_message(slack, "only Germany", channel="C9")  # not in a thread: not for the bot
        send_message(slack, "only Germany", channel="C9", thread_ts="1700000000.000001")  # someone else's thread
        time.sleep(1.0)
        assert len(posts(slack, "C9")) == 1
        send_message(slack, "only Germany", channel="C9", thread_ts=root.ts)  # a real reply is answered
        bot.first_post("C9", thread_ts=root.ts)


class BrokenDiscovery(Discovery):
    """A discovery layer with a bug: the bot must apologize, not crash."""

    def answer(self, *args, **kwargs):
        raise RuntimeError("boom")


def test_unexpected_error_becomes_an_apology_with_request_id(slack, loaded, caplog):
    broken = BrokenDiscovery.from_settings(loaded)
    with running_bot(slack, loaded, discovery=broken) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C10")
        first = bot.first_post("C10")
        card = bot.card_for("C10", first.ts)
        text = card_text(card)
        assert "Sorry, something went wrong" in text
        rid = text.split("request id `")[1].split("`")[0]
        assert any(rid in r.getMessage() and r.exc_info for r in caplog.records)
        # the app still works
        assert "only Germany" in str(slack.wait_ack(slack.send_slash_command("/audience", text="help")).payload)
    with running_bot(slack, loaded) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C11")
        assert json_of(bot.files_in("C11", bot.first_post("C11").ts)[0])["funnel"]["returned"] > 0
