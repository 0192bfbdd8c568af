"""The App Home tab: published (views.publish) when a user opens it, and again after a refresh or a
delete from it. Its buttons answer in the user's direct message with the bot: Open (the audience's
card and JSON file), Refresh now, Download (JSON and CSV of the current members: the only place
e-mails go), Delete (owner or admin). The access rules apply as for questions, in that DM."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from audiences.errors import AudienceError
from audiences.model import SavedAudience
from bot.context import BotContext, bot_of
from bot.listeners.actions import click_keys
from bot.listeners.audience_commands import delete, refresh_now, show
from bot.listeners.guards import Reply, acknowledge, allowed, handled, once, reply_of
from bot.slack_io import error_name, upload
from bot.views import errors
from bot.views import home as views
from bot.views.audiences import problem

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.event("app_home_opened", middleware=[home_opened_reply, checked_home])(on_home_opened)
    clicks: list[Callable[..., Any]] = [acknowledge, once(click_keys), home_click_reply, allowed]
    for action in views.HOME_ACTIONS:
        app.action(action, middleware=clicks)(on_click)


def publish(bot: BotContext, client: WebClient, user: str, *, note: str | None = None) -> None:
    view = views.home_view(bot.audiences.store.listing(), user=user, admin=bot.access.is_admin(user), note=note)
    try:
        client.views_publish(user_id=user, view=view)
    except (SlackApiError, SlackClientError) as exc:
        log.warning("views.publish for %s failed: %s", user, error_name(exc))


# -- the tab ----------------------------------------------------------------------------------------


def home_opened_reply(event: dict, context: BoltContext, next_: Callable[[], None]) -> BoltResponse | None:
    if event.get("tab") != "home" or not event.get("user"):
        return handled()
    context["reply"] = Reply("home", event["user"], event.get("channel") or "")
    next_()
    return None


def checked_home(client: WebClient, context: BoltContext, next_: Callable[[], None]) -> BoltResponse | None:
    """The access rules; a refused user's tab says why (nothing is listed)."""
    reply = reply_of(context)
    refusal = bot_of(context).access.check(client, reply.user, reply.channel or None)
    if refusal is None:
        next_()
        return None
    text = errors.refused(refusal)["text"]
    try:
        client.views_publish(user_id=reply.user, view=views.home_refused(text))
    except (SlackApiError, SlackClientError) as exc:
        log.warning("views.publish (refused) for %s failed: %s", reply.user, error_name(exc))
    return handled()


def on_home_opened(client: WebClient, context: BoltContext) -> None:
    publish(bot_of(context), client, reply_of(context).user)


# -- its buttons ------------------------------------------------------------------------------------


def home_click_reply(body: dict, client: WebClient, context: BoltContext, next_: Callable[[], None]) -> None:
    """Answers go to the user's DM with the bot (the Home tab has no channel of its own)."""
    user = body["user"]["id"]
    context["reply"] = Reply("home", user, bot_of(context).audiences.dm_channel(user))
    next_()


def _audience(body: dict, bot: BotContext, client: WebClient, reply: Reply) -> SavedAudience | None:
    name = body["actions"][0].get("value") or ""
    try:
        return bot.audiences.store.get(name)
    except AudienceError as exc:  # deleted meanwhile
        reply.tell(client, problem(str(exc)))
        publish(bot, client, reply.user)
        return None


def download(bot: BotContext, client: WebClient, reply: Reply, a: SavedAudience) -> None:
    for name, content in bot.audiences.member_files(a):
        upload(client, reply.channel, None, name, content, f"audience-{a.id}")


Do = Callable[[BotContext, WebClient, Reply, SavedAudience], None]
DO: dict[str, tuple[Do, bool]] = {  # the button → what it does, and whether the tab is published again
    views.ACTION_OPEN: (show, False),
    views.ACTION_REFRESH: (refresh_now, True),
    views.ACTION_DOWNLOAD: (download, False),
    views.ACTION_DELETE: (delete, True),
}


def on_click(body: dict, client: WebClient, context: BoltContext) -> None:
    bot, reply = bot_of(context), reply_of(context)
    a = _audience(body, bot, client, reply)
    if a is None:
        return
    do, republish = DO[body["actions"][0]["action_id"]]
    do(bot, client, reply, a)
    if republish:
        publish(bot, client, reply.user)
