"""Activation in Slack: files and deliveries of segments and saved audiences.

- In a segment's thread (or a saved audience's): `export for meta`, `export for google`, `export csv`,
  `export json` → the file is uploaded into the thread with how many customers it holds and how many
  were left out, and why (no consent, suppressed, no e-mail). The card's Export menu does the same
  in the card's thread.
- `/audience send <audience> to <destination>` (the audience's owner or an admin) delivers it now to a
  destination of DESTINATIONS_FILE; one line per delivery goes in the audience's thread (and to the
  person who asked).
- After every refresh of saved audiences (after an ingestion, or the catch-up at start) the bot calls
  `bot.saved_audiences.deliver_refreshed`: every `on_refresh` destination an audience was delivered to
  once gets the delta (audiences.delivery.deliver_after_refresh), one line per delivery in its thread.

The work runs in the bot's worker pool (a delivery may wait on retries); nothing here logs or posts
an e-mail.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from audiences import delivery
from audiences import destinations as dests
from audiences.errors import AudienceError
from audiences.export import export_members, file_name
from audiences.model import Recipe
from audiences.refresh import Audiences
from bot.context import BotContext, bot_of
from bot.listeners import strip_mention
from bot.listeners.actions import card_of, click_keys, click_reply, with_card
from bot.listeners.commands import COMMAND, command_keys, command_reply, text_of
from bot.listeners.events import event_keys, mention_route, message_route, routed
from bot.listeners.guards import Reply, acknowledge, allowed, once, reply_of
from bot.saved_audiences import delivery_message
from bot.slack_io import post, upload
from bot.views import errors
from bot.views.result_card import ACTION_EXPORT
from bot.views.text import message
from discovery.limits import DEFAULT_LIMIT
from discovery.service import Conversation, new_request_id

log = logging.getLogger(__name__)

EXPORT = re.compile(r"^\s*export\s+(?:for\s+|as\s+)?(meta|google|csv|json)\s*$", re.IGNORECASE)
SEND = re.compile(r"^send\s+(.+?)\s+to\s+(\S+)$", re.IGNORECASE)
WHAT_FILE = {
    "meta": "Meta Custom Audiences customer list (SHA-256 hashed; upload it in Ads Manager → Audiences)",
    "google": "Google Ads Customer Match file (hashed; upload it in Audience manager → Customer lists)",
    "csv": "CSV of the members, with e-mails",
    "json": "JSON of the members, with e-mails",
}


def register(app: App) -> None:
    """Register BEFORE commands/events: Bolt runs the first listener whose matchers match."""
    guards: list[Callable[..., Any]] = [command_reply, acknowledge, once(command_keys), allowed]
    app.command(COMMAND, matchers=[asks_to_send], middleware=guards)(on_send)
    app.event("app_mention", matchers=[asks_to_export], middleware=[routed(mention_route), once(event_keys), allowed])(
        on_export
    )
    app.event("message", matchers=[asks_to_export], middleware=[routed(message_route), once(event_keys), allowed])(
        on_export
    )
    click: list[Callable[..., Any]] = [click_reply, acknowledge, once(click_keys), with_card, allowed]  # e-mails
    app.action(ACTION_EXPORT, middleware=click)(on_export_menu)


def send_args(command: dict) -> tuple[str, str] | None:
    """(audience, destination) of `/audience send <audience> to <destination>`, else None."""
    found = SEND.match(text_of(command))
    return (found.group(1).strip("“”\"'"), found.group(2)) if found else None


def export_format(event: dict, bot_user_id: str | None) -> str | None:
    found = EXPORT.match(strip_mention(event.get("text") or "", bot_user_id))
    return found.group(1).lower() if found else None


def asks_to_send(command: dict) -> bool:
    return send_args(command) is not None


def asks_to_export(event: dict, context: BoltContext) -> bool:
    return export_format(event, context.bot_user_id) is not None


def _audiences(bot: BotContext) -> Audiences:
    return Audiences.from_settings(bot.settings)


# -- export in a thread -----------------------------------------------------------------------------


def on_export(event: dict, client: WebClient, context: BoltContext) -> None:
    bot, reply = bot_of(context), reply_of(context)
    thread_ts, _ = context["route"]
    fmt = export_format(event, context.bot_user_id) or "csv"
    bot.pool.submit(_guarded, client, reply, _export, bot, client, reply.channel, thread_ts, fmt)


def on_export_menu(body: dict, client: WebClient, context: BoltContext) -> None:
    """The card's Export menu: what `export for <format>` says in the card's thread."""
    bot, reply, card = bot_of(context), reply_of(context), card_of(context)
    fmt = ((body["actions"][0].get("selected_option") or {}).get("value") or "").partition(":")[0]
    if fmt not in WHAT_FILE or not card.thread_ts:  # a card answered through a response_url has no thread
        reply.tell(client, errors.not_in_channel() if fmt in WHAT_FILE else errors.card_expired())
        return
    bot.pool.submit(_guarded, client, reply, _export, bot, client, card.channel, card.thread_ts, fmt)


def thread_members(bot: BotContext, aud: Audiences, channel: str, thread_ts: str) -> tuple[np.ndarray, str] | None:
    """What a thread's export holds: the saved audience started in it (its last refresh), else the
    thread's latest segment — all of it (its gate refined by its intent, or its explicit top N), never
    only the page a card shows; None when the thread has neither."""
    for a in aud.store.all():
        if a.channel == channel and a.thread_ts == thread_ts:
            record, ids = aud.store.members(a.id)
            if record is not None:
                return ids, a.name
    state = bot.store.thread(channel, thread_ts)
    if state is None or not state.segment_ids:
        return None
    query = Conversation.from_dict(state.conversation).last_query
    if query is not None and query.like is None:  # the whole segment, as a saved audience would hold it
        recipe = Recipe(query=query, top_n=query.limit if query.limit != DEFAULT_LIMIT else None)
        return aud.evaluator.evaluate(recipe).ids, "segment"
    return np.asarray(state.segment_ids, dtype=np.int64), "segment"  # a lookalike: the ranked customers shown


def _export(bot: BotContext, client: WebClient, channel: str, thread_ts: str, fmt: str) -> None:
    found = thread_members(bot, _audiences(bot), channel, thread_ts)
    if found is None:
        post(client, channel, message(":information_source: There is no segment in this thread to export yet. "
                                      "Ask for an audience, then say `export for meta` here."), thread_ts=thread_ts)  # fmt: skip
        return
    ids, name = found
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name(name, fmt, datetime.now(UTC).strftime("%Y%m%d-%H%M"))
        screening = export_members(bot.discovery.engine, ids, fmt, path)
        content = path.read_bytes()
    if upload(client, channel, thread_ts, path.name, content, new_request_id()):
        text = f":outbox_tray: *{path.name}*: {WHAT_FILE[fmt]}.\n{screening.describe()}."
        post(client, channel, message(text), thread_ts=thread_ts)


# -- /audience send <audience> to <destination> -----------------------------------------------------


def on_send(command: dict, client: WebClient, context: BoltContext) -> None:
    bot, reply = bot_of(context), reply_of(context)
    name, dest_name = send_args(command) or ("", "")
    bot.pool.submit(_guarded, client, reply, _send, bot, client, reply, name, dest_name)


def _send(bot: BotContext, client: WebClient, reply: Reply, name: str, dest_name: str) -> None:
    found, problem = dests.load_or_error(bot.settings)
    if problem:
        reply.tell(client, message(f":warning: {problem}"))
        return
    aud = _audiences(bot)
    try:
        dest = dests.get(found, dest_name)
        audience = aud.store.get(name)
    except AudienceError as exc:
        reply.tell(client, message(f":warning: {exc}"))
        return
    if reply.user != audience.owner and not bot.access.is_admin(reply.user):
        reply.tell(client, message(f":no_entry: Only the owner of “{audience.name}” (<@{audience.owner}>) or an admin "
                                   "(ADMIN_USERS) can send it. Ask one of them."))  # fmt: skip
        return
    try:
        d = delivery.send(aud, bot.settings, audience, dest, trigger="slack")
    except AudienceError as exc:
        reply.tell(client, message(f":warning: {exc}"))
        return
    line = delivery_message(d)
    if audience.channel and audience.thread_ts:
        post(client, audience.channel, line, thread_ts=audience.thread_ts)
    reply.tell(client, line)


def _guarded(client: WebClient, reply: Reply, fn, *args) -> None:
    """Run `fn` in the worker pool; anything unexpected is logged with a request id and told."""
    try:
        fn(*args)
    except Exception:
        rid = new_request_id()
        log.exception("request %s: activation failed", rid)
        reply.tell(client, errors.unexpected(rid))
