"""`@Audience …` in a channel, direct messages, and replies in the threads the bot started.

Every event is processed once: keys `event:<event_id>` and `message:<channel>:<ts>` (the same
message can arrive as app_mention and as message.channels, and Slack redelivers) are claimed
in bot_event_dedupe. Edits, joins, deletions (message subtypes) and bots' messages are ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.context import BotContext, bot_of
from bot.listeners import is_help, keys, strip_mention
from bot.listeners.guards import Reply, allowed, handled, once, reply_of
from bot.slack_io import post
from bot.views.help import help_message
from bot.work import Ask, Origin, submit

ANSWERED_SUBTYPES = (None, "thread_broadcast")

Route = tuple[str, Origin]  # the thread to answer in, and how the question came
Router = Callable[[dict, str | None, BotContext], Route | None]


def register(app: App) -> None:
    app.event("app_mention", middleware=[routed(mention_route), once(event_keys), allowed])(on_ask)
    app.event("message", middleware=[routed(message_route), once(event_keys), allowed])(on_ask)


# -- routing: is the event for the bot, and where is it answered -------------------------------------


def _from_a_person(event: dict, bot_user_id: str | None) -> bool:
    return bool(event.get("user")) and not event.get("bot_id") and event.get("user") != bot_user_id


def _answered(event: dict, bot_user_id: str | None) -> bool:
    return event.get("subtype") in ANSWERED_SUBTYPES and _from_a_person(event, bot_user_id)


def mention_route(event: dict, bot_user_id: str | None, bot: BotContext) -> Route | None:
    if not _answered(event, bot_user_id):
        return None
    return event.get("thread_ts") or event["ts"], "thread" if event.get("thread_ts") else "mention"


def message_route(event: dict, bot_user_id: str | None, bot: BotContext) -> Route | None:
    channel, ts, thread_ts = event.get("channel"), event.get("ts"), event.get("thread_ts")
    if not _answered(event, bot_user_id) or not channel or not ts:
        return None
    if event.get("channel_type") == "im":
        return thread_ts or ts, "thread" if thread_ts else "dm"
    if bot_user_id and f"<@{bot_user_id}" in (event.get("text") or ""):
        return None  # the app_mention event for the same message answers it
    if not thread_ts or thread_ts == ts or bot.store.thread(channel, thread_ts) is None:
        return None  # not a reply in a thread the bot started
    return thread_ts, "thread"


def routed(route_of: Router) -> Callable[..., BoltResponse | None]:
    """Middleware: drop events not for the bot; else set the reply (refusals go in the thread only
    for a reply in a thread) and the route."""

    def route(event: dict, context: BoltContext, next_: Callable[[], None]) -> BoltResponse | None:
        found = route_of(event, context.bot_user_id, bot_of(context))
        if found is None:
            return handled()
        thread_ts, origin = found
        context["route"] = found
        context["reply"] = Reply(origin, event["user"], event["channel"], thread_ts if origin == "thread" else None)
        next_()
        return None

    return route


def event_keys(body: dict) -> list[str | None]:
    event = body.get("event") or {}
    return [keys("event", body.get("event_id")), keys("message", event.get("channel"), event.get("ts"))]


# -- the listener -----------------------------------------------------------------------------------


def on_ask(event: dict, client: WebClient, context: BoltContext) -> None:
    reply = reply_of(context)
    thread_ts, origin = context["route"]
    question = strip_mention(event.get("text") or "", context.bot_user_id)
    if is_help(question):
        post(client, reply.channel, help_message(), thread_ts=thread_ts)
        return
    submit(bot_of(context), client, Ask(question, reply.user, reply.channel, origin, thread_ts=thread_ts))
