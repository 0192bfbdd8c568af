"""`/audience list` · `/audience show NAME` · `/audience refresh NAME` · `/audience delete NAME`.

Register before commands.register (its last listener takes any text as a question). show, refresh
and delete are subcommands when their text names a saved audience (or one close to it) or does not
read like a question: "show me customers who…" and "delete all customers" stay questions. Acked at
once, deduplicated and checked like questions (guards.py); delete only by the owner or an admin.
Unknown names get the closest ones."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from audiences.errors import AudienceError
from audiences.model import SavedAudience
from audiences.refresh import refresh
from audiences.store import can_delete
from bot.context import BotContext, bot_of
from bot.listeners.commands import COMMAND, command_keys, command_reply, text_of
from bot.listeners.guards import Reply, acknowledge, allowed, once, reply_of
from bot.slack_io import error_name, post, upload
from bot.views import audiences as views
from bot.views.errors import not_in_channel

log = logging.getLogger(__name__)

SUBCOMMANDS = ("show", "refresh", "delete")
QUESTION_STARTS = frozenset(
    ("me", "us", "all", "the", "them", "their", "customers", "customer", "people", "users", "clients", "shoppers",
     "buyers", "who", "which", "what", "how", "top", "a", "an", "every", "everyone", "only")
)  # fmt: skip


def register(app: App) -> None:
    guards: list[Callable[..., Any]] = [command_reply, acknowledge, once(command_keys), allowed]
    app.command(COMMAND, matchers=[lists], middleware=guards)(on_list)
    app.command(COMMAND, matchers=[names_an_audience], middleware=guards)(on_subcommand)


# -- matchers ---------------------------------------------------------------------------------------


def split(text: str) -> tuple[str, str]:
    word, _, rest = text.partition(" ")
    return word.lower(), rest.strip().strip("\"'“”‘’`").strip()


def lists(command: dict) -> bool:
    return text_of(command).lower() in ("list", "audiences", "list audiences")


def names_an_audience(command: dict, context: BoltContext) -> bool:
    word, name = split(text_of(command))
    if word not in SUBCOMMANDS:
        return False
    if not name:
        return True
    if name.split()[0].lower() not in QUESTION_STARTS:
        return True
    store = bot_of(context).audiences.store
    try:
        return store.find(name) is not None or bool(store.closest(name))
    except AudienceError:
        return False


# -- listeners --------------------------------------------------------------------------------------


def on_list(client: WebClient, context: BoltContext) -> None:
    reply_of(context).tell(client, views.listing_message(bot_of(context).audiences.store.listing()))


def on_subcommand(command: dict, client: WebClient, context: BoltContext) -> None:
    bot, reply = bot_of(context), reply_of(context)
    word, name = split(text_of(command))
    if not name:
        reply.tell(client, views.problem(f"Say which audience: `{COMMAND} {word} NAME` (`{COMMAND} list` names them)."))
        return
    try:
        audience = bot.audiences.store.get(name)
    except AudienceError as exc:  # unknown: the closest names
        reply.tell(client, views.problem(str(exc)))
        return
    DO[word](bot, client, reply, audience)


def show(bot: BotContext, client: WebClient, reply: Reply, a: SavedAudience) -> None:
    """The card in the channel and the JSON file in its thread (privately when the bot is not in it)."""
    message = card_message(bot, a)
    try:
        ts = post(client, reply.channel, message)
    except SlackApiError as exc:
        log.info("show: could not post in %s: %s", reply.channel, error_name(exc))
        reply.tell(client, message)
        reply.tell(client, not_in_channel())
        return
    for name, content in bot.audiences.show_files(a):
        upload(client, reply.channel, ts, name, content, f"audience-{a.id}")


def card_message(bot: BotContext, a: SavedAudience) -> dict:
    svc = bot.audiences
    members = svc.members(a)
    return views.audience_card(a, svc.store.history(a.id), len(members), svc.population(), svc.top(a, members))


def refresh_now(bot: BotContext, client: WebClient, reply: Reply, a: SavedAudience) -> None:
    outcome = refresh(bot.audiences.aud, a, trigger=f"slack:{reply.user}")
    reply.tell(client, views.refresh_message(outcome))


def delete(bot: BotContext, client: WebClient, reply: Reply, a: SavedAudience) -> None:
    if not can_delete(a, reply.user, bot.access.admins):
        reply.tell(client, views.no_permission(a, "delete"))
        return
    try:
        gone = bot.audiences.store.delete(a.name)
    except AudienceError as exc:  # deleted in the meantime
        reply.tell(client, views.problem(str(exc)))
        return
    log.info("audience %d “%s” deleted by %s", gone.id, gone.name, reply.user)
    reply.tell(client, views.deleted(gone))


DO: dict[str, Callable[[BotContext, WebClient, Reply, SavedAudience], None]] = {
    "show": show,
    "refresh": refresh_now,
    "delete": delete,
}
