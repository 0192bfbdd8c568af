"""`@Audience …` in a channel, direct messages, and replies in the threads the bot started.

Every event is processed once: keys `event:<event_id>` and `message:<channel>:<ts>` (the same
message can arrive as app_mention and as message.channels, and Slack redelivers) are claimed
in bot_event_dedupe. Edits, joins, deletions (message subtypes) and bots' messages are ignored.
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.listeners import bot_of, is_help, keys, strip_mention
from bot.listeners.commands import refusal_message
from bot.views import errors
from bot.views.help import help_message
from bot.work import Ask, Origin, new_request_id, post, submit, tell

log = logging.getLogger(__name__)

ANSWERED_SUBTYPES = (None, "thread_broadcast")


def register(app: App) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def _from_a_person(event: dict, bot_user_id: str | None) -> bool:
    return bool(event.get("user")) and not event.get("bot_id") and event.get("user") != bot_user_id


def on_mention(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("subtype") not in ANSWERED_SUBTYPES or not _from_a_person(event, context.bot_user_id):
        return
    thread_ts = event.get("thread_ts") or event["ts"]
    origin: Origin = "thread" if event.get("thread_ts") else "mention"
    handle(body, event, client, context, thread_ts, origin)


def on_message(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("subtype") not in ANSWERED_SUBTYPES or not _from_a_person(event, context.bot_user_id):
        return
    bot = bot_of(context)
    channel, ts, thread_ts = event.get("channel"), event.get("ts"), event.get("thread_ts")
    if not channel or not ts:
        return
    if event.get("channel_type") == "im":
        origin: Origin = "thread" if thread_ts else "dm"
        handle(body, event, client, context, thread_ts or ts, origin)
        return
    if context.bot_user_id and f"<@{context.bot_user_id}" in (event.get("text") or ""):
        return  # the app_mention event for the same message answers it
    if not thread_ts or thread_ts == ts or bot.store.thread(channel, thread_ts) is None:
        return  # not a reply in a thread the bot started
    handle(body, event, client, context, thread_ts, "thread")


def handle(body: dict, event: dict, client: WebClient, context: BoltContext, thread_ts: str, origin: Origin) -> None:
    try:
        _handle(body, event, client, context, thread_ts, origin)
    except Exception:
        rid = new_request_id()
        log.exception("request %s: %s event %s failed", rid, event.get("type"), body.get("event_id"))
        tell(client, event["user"], event["channel"], errors.unexpected(rid), thread_ts=thread_ts)


def _handle(body: dict, event: dict, client: WebClient, context: BoltContext, thread_ts: str, origin: Origin) -> None:
    bot = bot_of(context)
    channel, user, ts = event["channel"], event["user"], event["ts"]
    if not bot.store.claim(keys("event", body.get("event_id")), keys("message", channel, ts)):
        log.info("duplicate delivery of %s (%s) ignored", body.get("event_id"), event.get("type"))
        return
    refusal = bot.access.check(client, user, channel)
    if refusal is not None:
        log.info("%s refused for %s in %s (%s)", origin, user, channel, refusal.value)
        tell(client, user, channel, refusal_message(refusal), thread_ts=thread_ts if origin == "thread" else None)
        return
    question = strip_mention(event.get("text") or "", context.bot_user_id)
    if is_help(question):
        post(client, channel, help_message(), thread_ts=thread_ts)
        return
    submit(bot, client, Ask(question, user, channel, origin, thread_ts=thread_ts))
