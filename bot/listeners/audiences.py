"""Saving a thread's segment as an audience: the reply `save as <name>` / `save this as <name>`, the
card's Save audience button (a modal: name, where refresh notices go, options), and Overwrite.

The bot answers in the thread: saved, its size now, what it does after each ingestion; or what is
wrong (no segment yet, an empty or too long name, a name taken: overwrite or pick another)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from audiences.errors import AudienceError, NameTaken
from audiences.model import clean_name, save_name
from audiences.refresh import save
from audiences.store import can_delete
from bot.context import BotContext, bot_of
from bot.listeners import strip_mention
from bot.listeners.actions import card_of, click_keys, click_reply, with_card
from bot.listeners.events import event_keys, mention_route, message_route, routed
from bot.listeners.guards import Reply, acknowledge, allowed, once, reply_of
from bot.saved_audiences import last_segment_card, recipe_of_card
from bot.slack_io import error_name, post
from bot.store import Card
from bot.views import audiences as views

log = logging.getLogger(__name__)


def register(app: App) -> None:
    """Register before events.register: a `save as` reply must not reach the question listener."""
    app.event("message", matchers=[asks_to_save], middleware=[routed(message_route), once(event_keys), allowed])(
        on_save_reply
    )
    app.event("app_mention", matchers=[asks_to_save], middleware=[routed(mention_route), once(event_keys), allowed])(
        on_save_reply
    )
    click: list[Callable[..., Any]] = [click_reply, acknowledge, once(click_keys)]
    app.action(views.ACTION_SAVE_AUDIENCE, middleware=[*click, with_card, allowed])(on_save_button)
    app.action(views.ACTION_OVERWRITE, middleware=[*click, allowed])(on_overwrite)
    app.view(views.SAVE_MODAL, middleware=[modal_reply, allowed])(on_save_submitted)


def save_request(text: str, bot_user_id: str | None = None) -> str | None:
    """The name asked for in `save as <name>` ("" when none is given), or None for any other text."""
    return save_name(strip_mention(text or "", bot_user_id))


def asks_to_save(event: dict, context: BoltContext) -> bool:
    return save_request(event.get("text") or "", context.bot_user_id) is not None


# -- saving -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveAsk:
    """What to save (the card's segment) under which name, where notices go, and where to answer."""

    user: str
    card_id: str | None
    name: str
    channel: str | None  # where refresh notices go (None: nowhere)
    thread_ts: str | None
    notify: str
    answer_channel: str
    answer_thread: str | None
    overwrite: bool = False

    def to_value(self) -> str:
        return json.dumps(vars(self) | {"overwrite": True}, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str, user: str) -> SaveAsk:
        return cls(**(json.loads(value) | {"user": user}))


def answer(client: WebClient, ask: SaveAsk, message: dict) -> None:
    try:
        post(client, ask.answer_channel, message, thread_ts=ask.answer_thread)
    except SlackApiError as exc:
        log.warning("could not answer the save in %s: %s", ask.answer_channel, error_name(exc))


def save_segment(bot: BotContext, client: WebClient, ask: SaveAsk, card: Card | None) -> None:
    """Save the card's segment and answer; every problem gets a clear answer where the user asked."""
    svc = bot.audiences
    try:
        recipe = recipe_of_card(card)
        name = clean_name(ask.name)
        existing = svc.store.find(name)
        if existing is not None:
            if not ask.overwrite:
                may = can_delete(existing, ask.user, bot.access.admins)
                answer(client, ask, views.name_taken(existing.name, existing.owner, ask.to_value(), may_overwrite=may))
                return
            if not can_delete(existing, ask.user, bot.access.admins):
                answer(client, ask, views.no_permission(existing, "overwrite"))
                return
        _, outcome = save(svc.aud, name, recipe, owner=ask.user, channel=ask.channel, thread_ts=ask.thread_ts,
                          notify=ask.notify, overwrite=ask.overwrite)  # fmt: skip
    except NameTaken as exc:  # saved by someone else in the meantime
        answer(client, ask, views.problem(str(exc)))
        return
    except AudienceError as exc:  # no segment, a bad name
        answer(client, ask, views.problem(str(exc)))
        return
    log.info("audience %d “%s” saved by %s: %s members", outcome.audience.id, name, ask.user, outcome.size_after)
    answer(client, ask, views.saved_message(outcome, replaced=existing is not None))


def on_save_reply(event: dict, client: WebClient, context: BoltContext) -> None:
    bot, reply = bot_of(context), reply_of(context)
    thread_ts, _ = context["route"]
    name = save_request(event.get("text") or "", context.bot_user_id) or ""
    with bot.thread_lock(reply.channel, thread_ts):  # a refinement in progress in the thread is saved, once done
        card = last_segment_card(bot.store, reply.channel, thread_ts)
    ask = SaveAsk(reply.user, card.card_id if card else None, name, reply.channel, thread_ts, "changes",
                  reply.channel, thread_ts)  # fmt: skip
    save_segment(bot, client, ask, card)


def on_save_button(body: dict, client: WebClient, context: BoltContext) -> None:
    card = card_of(context)
    thread = card.thread_ts or card.message_ts
    metadata = {"card": card.card_id, "channel": card.channel, "thread": thread}
    try:
        client.views_open(trigger_id=body["trigger_id"], view=views.save_modal(metadata, card.question))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))


def on_overwrite(body: dict, client: WebClient, context: BoltContext) -> None:
    bot, reply = bot_of(context), reply_of(context)
    ask = SaveAsk.from_value(body["actions"][0].get("value") or "{}", reply.user)
    card = bot.store.card(ask.card_id or "") if ask.card_id else None
    save_segment(bot, client, ask, card)


# -- the modal ----------------------------------------------------------------------------------------


def modal_reply(body: dict, context: BoltContext, next_: Callable[[], None]) -> None:
    meta = json.loads(body["view"].get("private_metadata") or "{}")
    context["save_meta"] = meta
    context["reply"] = Reply("modal", body["user"]["id"], meta.get("channel") or "", meta.get("thread"))
    next_()


def on_save_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Check the name in the ack (errors show under the field); save after it (the evaluation may take
    longer than Slack waits), answering in the card's thread."""
    bot, reply, meta = bot_of(context), reply_of(context), context["save_meta"]
    name, where, options = views.modal_values(body["view"])
    try:
        cleaned = clean_name(name)
    except AudienceError as exc:
        ack(response_action="errors", errors={views.NAME_BLOCK: str(exc)})
        return
    overwrite = views.OPTION_OVERWRITE in options
    existing = bot.audiences.store.find(cleaned)
    if existing is not None and not overwrite:
        ack(response_action="errors", errors={views.NAME_BLOCK: f"“{existing.name}” already exists: pick another "
                                              "name, or tick “Replace an audience of the same name”."})  # fmt: skip
        return
    ack()
    channel, thread_ts = notice_destination(bot, client, where, reply)
    ask = SaveAsk(reply.user, meta.get("card"), cleaned, channel, thread_ts,
                  "always" if views.OPTION_ALWAYS in options else "changes", reply.channel, reply.thread_ts,
                  overwrite)  # fmt: skip
    save_segment(bot, client, ask, bot.store.card(meta.get("card") or ""))


def notice_destination(bot: BotContext, client: WebClient, where: str, reply: Reply) -> tuple[str | None, str | None]:
    if where == views.WHERE_NOWHERE:
        return None, None
    if where == views.WHERE_DM:
        return bot.audiences.dm_channel(reply.user), None
    return reply.channel, reply.thread_ts
