"""The card's buttons: Show SQL (a modal), Download CSV (a file in the thread), 👍 / 👎 (bot_feedback)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import files
from bot.app import BotContext
from bot.listeners import bot_of, keys
from bot.listeners.commands import refusal_message
from bot.store import Card
from bot.views import errors
from bot.views.result_card import ACTION_DOWNLOAD_CSV, ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_SHOW_SQL
from bot.views.sql_modal import sql_modal
from bot.work import new_request_id, tell, upload

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.action(ACTION_SHOW_SQL)(on_show_sql)
    app.action(ACTION_DOWNLOAD_CSV)(on_download_csv)
    app.action(ACTION_FEEDBACK_UP)(on_feedback)
    app.action(ACTION_FEEDBACK_DOWN)(on_feedback)


def _where(body: dict) -> tuple[str, str, str | None]:
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return user, channel, body.get("response_url")


class Click(NamedTuple):
    """A click on a card that still exists: who clicked where, and the card."""

    bot: BotContext
    card: Card
    user: str
    channel: str
    response_url: str | None


def _card(body: dict, context: BoltContext, client: WebClient) -> Click | None:
    """The clicked card, once per click, or None when the click was already handled or the card has
    expired (the user is told)."""
    bot = bot_of(context)
    action = body["actions"][0]
    if not bot.store.claim(keys("action", action.get("action_ts"), body["user"]["id"])):
        return None
    user, channel, response_url = _where(body)
    card = bot.store.card(action.get("value") or "")
    if card is None:
        tell(client, user, channel, errors.card_expired(), response_url=response_url)
        return None
    return Click(bot, card, user, channel, response_url)


def _card_button(handle: Callable[[Click, dict, WebClient], None]) -> Callable[..., None]:
    """A button listener: ack, then `handle(click, body, client)` once per click on a card that still
    exists. (Bolt passes a listener's arguments by parameter name; no functools.wraps, which Bolt
    would unwrap to `handle`'s parameters.)"""

    def listener(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
        ack()
        click = _card(body, context, client)
        if click is not None:
            handle(click, body, client)

    listener.__name__ = listener.__qualname__ = handle.__name__
    return listener


@_card_button
def on_show_sql(click: Click, body: dict, client: WebClient) -> None:
    statements = (click.card.document.get("recipe") or {}).get("sql") or []
    try:
        client.views_open(trigger_id=body["trigger_id"], view=sql_modal(click.card.question, statements))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))


@_card_button
def on_download_csv(click: Click, body: dict, client: WebClient) -> None:
    bot, card, user, channel, response_url = click
    refusal = bot.access.check(client, user, card.channel)  # the file holds e-mails: only for allowed users
    if refusal is not None:
        tell(client, user, channel, refusal_message(refusal), response_url=response_url)
        return
    name, content = files.csv_file(card.document)
    rid = new_request_id()
    try:
        client.files_upload_v2(
            channel=card.channel, thread_ts=card.thread_ts, filename=name, title=name, content=content,
            initial_comment=f"CSV for <@{user}>",
        )  # fmt: skip
        log.info("request %s: %s uploaded for %s", rid, name, user)
    except SlackApiError as exc:
        if exc.response.get("error") in ("not_in_channel", "channel_not_found"):
            tell(client, user, channel, errors.not_in_channel(), response_url=response_url)
        else:
            upload(client, card.channel, card.thread_ts, name, content, rid)  # one more try, then a note


@_card_button
def on_feedback(click: Click, body: dict, client: WebClient) -> None:
    rating = 1 if body["actions"][0]["action_id"] == ACTION_FEEDBACK_UP else -1
    click.bot.store.record_feedback(click.card, click.user, rating)
    tell(client, click.user, click.channel, errors.feedback_thanks(rating), response_url=click.response_url)
