"""The card's buttons: Show SQL (a modal), Download CSV (a file in the thread), 👍 / 👎 (bot_feedback),
Find more like these (a lookalike of the card's customers, answered in its thread like a follow-up).

Each click is acked at once, processed once, and finds its card (or the user is told it expired);
Download CSV also passes the access rules of the card's channel (the file holds e-mails)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import files
from bot.context import bot_of
from bot.listeners import keys
from bot.listeners.guards import Reply, acknowledge, allowed, handled, once, reply_of
from bot.slack_io import upload
from bot.store import Card
from bot.views import errors
from bot.views.result_card import (
    ACTION_DOWNLOAD_CSV,
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_LOOKALIKE,
    ACTION_SHOW_SQL,
)
from bot.views.sql_modal import sql_modal
from bot.work import Ask, submit
from discovery.service import new_request_id

log = logging.getLogger(__name__)

CARD_KEY = "card"


def register(app: App) -> None:
    click = [click_reply, acknowledge, once(click_keys), with_card]
    app.action(ACTION_SHOW_SQL, middleware=click)(on_show_sql)
    app.action(ACTION_DOWNLOAD_CSV, middleware=[*click, allowed])(on_download_csv)
    app.action(ACTION_FEEDBACK_UP, middleware=click)(on_feedback)
    app.action(ACTION_FEEDBACK_DOWN, middleware=click)(on_feedback)
    app.action(ACTION_LOOKALIKE, middleware=[*click, allowed])(on_lookalike)


# -- middleware -------------------------------------------------------------------------------------


def click_reply(body: dict, context: BoltContext, next_: Callable[[], None]) -> None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    context["reply"] = Reply("click", body["user"]["id"], channel, response_url=body.get("response_url"))
    next_()


def click_keys(body: dict) -> list[str | None]:
    return [keys("action", body["actions"][0].get("action_ts"), body["user"]["id"])]


def with_card(body: dict, client: WebClient, context: BoltContext, next_: Callable[[], None]) -> BoltResponse | None:
    """The clicked card into the context; a card that has expired is said so. Access rules then apply
    to the card's channel."""
    card = bot_of(context).store.card(card_id_of(body["actions"][0]))
    reply = reply_of(context)
    if card is None:
        reply.tell(client, errors.card_expired())
        return handled()
    context[CARD_KEY] = card
    context["reply"] = replace(reply, asked_in=card.channel)
    next_()
    return None


def card_id_of(action: dict) -> str:
    """A button's value is its card's id; a menu option's value is `<choice>:<card id>`."""
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    return value.rpartition(":")[2]


def card_of(context: BoltContext) -> Card:
    return context[CARD_KEY]


# -- listeners --------------------------------------------------------------------------------------


def on_show_sql(body: dict, client: WebClient, context: BoltContext) -> None:
    card = card_of(context)
    statements = (card.document.get("recipe") or {}).get("sql") or []
    try:
        client.views_open(trigger_id=body["trigger_id"], view=sql_modal(card.question, statements))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))


def on_download_csv(client: WebClient, context: BoltContext) -> None:
    card, reply = card_of(context), reply_of(context)
    name, content = files.csv_file(files.activatable(card.document, bot_of(context).discovery.engine))
    rid = new_request_id()
    try:
        client.files_upload_v2(
            channel=card.channel, thread_ts=card.thread_ts, filename=name, title=name, content=content,
            initial_comment=f"CSV for <@{reply.user}>",
        )  # fmt: skip
        log.info("request %s: %s uploaded for %s", rid, name, reply.user)
    except SlackApiError as exc:
        if exc.response.get("error") in ("not_in_channel", "channel_not_found"):
            reply.tell(client, errors.not_in_channel())
        else:
            upload(client, card.channel, card.thread_ts, name, content, rid)  # one more try, then a note


def on_feedback(body: dict, client: WebClient, context: BoltContext) -> None:
    reply = reply_of(context)
    rating = 1 if body["actions"][0]["action_id"] == ACTION_FEEDBACK_UP else -1
    bot_of(context).store.record_feedback(card_of(context), reply.user, rating)
    reply.tell(client, errors.feedback_thanks(rating))


def on_lookalike(body: dict, client: WebClient, context: BoltContext) -> None:
    """As many more customers like the card's as it shows, in the card's thread; the seeds are the card's
    customers (not the thread's latest segment, should the card be an older one)."""
    card, reply = card_of(context), reply_of(context)
    seeds = [int(c["customer_id"]) for c in card.document.get("customers") or []]
    if not seeds:
        reply.tell(client, errors.no_lookalike_seeds())
        return
    ask = Ask(
        question=f"find {len(seeds)} more like these", user=reply.user, channel=card.channel, origin="thread",
        thread_ts=card.thread_ts, response_url=body.get("response_url"), seed_ids=seeds,
    )  # fmt: skip
    submit(bot_of(context), client, ask)
