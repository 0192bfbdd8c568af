"""`/audience <question>` · `/audience help` · `/audience status` · `/audience ingest`."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.access import Refusal
from bot.app import BotContext
from bot.listeners import bot_of, is_help, keys
from bot.views import errors
from bot.views.help import help_message
from bot.views.status import status_message
from bot.work import Ask, new_request_id, respond, submit, tell
from discovery.llm_health import problem as llm_problem

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.command("/audience")(on_audience)


def refusal_message(refusal: Refusal) -> dict:
    if refusal is Refusal.GUEST:
        return errors.guest_refused()
    if refusal is Refusal.UNVERIFIED:
        return errors.cannot_verify()
    return errors.not_allowed()


def on_audience(ack: Ack, command: dict, client: WebClient, context: BoltContext) -> None:
    bot = bot_of(context)
    text = " ".join((command.get("text") or "").split())
    word = text.lower()
    user, channel, response_url = command["user_id"], command["channel_id"], command.get("response_url")
    name = command.get("command") or "/audience"
    if is_help(text):
        ack(**help_message(name))
        return
    if word == "ingest" and not bot.access.is_admin(user):
        ack(**errors.admins_only(f"{name} ingest"))
        return
    ack()
    try:
        run_command(bot, client, command, text, user, channel, response_url)
    except Exception:
        rid = new_request_id()
        log.exception("request %s: %s failed", rid, name)
        tell(client, user, channel, errors.unexpected(rid), response_url=response_url)


def run_command(
    bot: BotContext, client: WebClient, command: dict, text: str, user: str, channel: str, response_url: str | None
) -> None:
    name = command.get("command") or "/audience"
    word = text.lower()
    if not bot.store.claim(keys("command", command.get("trigger_id"))):
        log.info("duplicate delivery of a %s command from %s ignored", name, user)
        return
    refusal = bot.access.check(client, user, channel)
    if refusal is not None:
        log.info("%s refused for %s in %s (%s)", name, user, channel, refusal.value)
        tell(client, user, channel, refusal_message(refusal), response_url=response_url)
        return
    if word == "status":
        show_status(bot, client, user, channel, response_url)
    elif word == "ingest":
        request = bot.scheduler.request(requested_by=user, channel_id=channel)
        message = (
            errors.ingest_requested(request.message) if request.accepted else errors.ingest_refused(request.message)
        )
        tell(client, user, channel, message, response_url=response_url)
    else:
        submit(bot, client, Ask(text, user, channel, "command", response_url=response_url))


def show_status(bot: BotContext, client: WebClient, user: str, channel: str, response_url: str | None) -> None:
    from ingest.status import status

    try:
        info = status(bot.settings)
        message = status_message(
            info, answers_from=answers_from(bot), next_run=bot.scheduler.next_run_time(), schedule=schedule_text(bot),
            llm_problem=llm_problem(bot.settings),
        )  # fmt: skip
    except Exception:
        log.exception("status failed")
        message = errors.unexpected("status")
    if response_url:
        respond(response_url, message)
    else:
        tell(client, user, channel, message)


def answers_from(bot: BotContext) -> str:
    if bot.discovery.llm_configured:
        return f"the LLM agent ({bot.settings.llm_model}); the offline planner if it fails"
    return "the offline planner (no OPENROUTER_API_KEY is set)"


def schedule_text(bot: BotContext) -> str:
    if bot.scheduler.trigger is None:
        return "off (INGEST_CRON)"
    return f"{bot.settings.ingest_cron} {bot.settings.ingest_timezone}"
