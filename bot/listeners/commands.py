"""`/audience <question>` · `/audience help` · `/audience status` · `/audience ingest`.

help and an admins-only refusal are answered in the ack; everything else is acked at once, then
deduplicated and checked (guards.py) before its listener runs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from audiences.destinations import load_or_error
from bot.context import BotContext, bot_of
from bot.listeners import is_help, keys
from bot.listeners.guards import Reply, acknowledge, allowed, once, reply_of
from bot.slack_io import respond
from bot.views import errors
from bot.views.help import help_message
from bot.views.status import status_message
from bot.work import Ask, submit
from discovery.llm_health import problem as llm_problem
from ingest.status import status

log = logging.getLogger(__name__)

COMMAND = "/audience"


def register(app: App) -> None:
    app.command(COMMAND, matchers=[asks_for_help])(on_help)
    app.command(COMMAND, matchers=[says("ingest"), not_an_admin])(on_ingest_refused)
    guards = [command_reply, acknowledge, once(command_keys), allowed]
    app.command(COMMAND, matchers=[says("status")], middleware=guards)(on_status)
    app.command(COMMAND, matchers=[says("ingest")], middleware=guards)(on_ingest)
    app.command(COMMAND, middleware=guards)(on_question)


# -- matchers and middleware ------------------------------------------------------------------------


def text_of(command: dict) -> str:
    return " ".join((command.get("text") or "").split())


def name_of(command: dict) -> str:
    return command.get("command") or COMMAND


def asks_for_help(command: dict) -> bool:
    return is_help(text_of(command))


def says(word: str) -> Callable[[dict], bool]:
    def matches(command: dict) -> bool:
        return text_of(command).lower() == word

    return matches


def not_an_admin(command: dict, context: BoltContext) -> bool:
    return not bot_of(context).access.is_admin(command["user_id"])


def command_keys(body: dict) -> list[str | None]:
    return [keys("command", body.get("trigger_id"))]


def command_reply(command: dict, context: BoltContext, next_: Callable[[], None]) -> None:
    context["reply"] = Reply("command", command["user_id"], command["channel_id"],
                             response_url=command.get("response_url"))  # fmt: skip
    next_()


# -- listeners --------------------------------------------------------------------------------------


def on_help(ack: Ack, command: dict) -> None:
    ack(**help_message(name_of(command)))


def on_ingest_refused(ack: Ack, command: dict) -> None:
    ack(**errors.admins_only(f"{name_of(command)} ingest"))


def on_question(command: dict, client: WebClient, context: BoltContext) -> None:
    reply = reply_of(context)
    ask = Ask(text_of(command), reply.user, reply.channel, "command", response_url=reply.response_url)
    submit(bot_of(context), client, ask)


def on_ingest(client: WebClient, context: BoltContext) -> None:
    reply = reply_of(context)
    request = bot_of(context).scheduler.request(requested_by=reply.user, channel_id=reply.channel)
    message = errors.ingest_requested(request.message) if request.accepted else errors.ingest_refused(request.message)
    reply.tell(client, message)


def on_status(client: WebClient, context: BoltContext) -> None:
    bot, reply = bot_of(context), reply_of(context)
    try:
        message = status_message(
            status(bot.settings),
            answers_from=answers_from(bot),
            next_run=bot.scheduler.next_run_time(),
            schedule=schedule_text(bot),
            llm_problem=llm_problem(bot.settings),
            destinations_problem=load_or_error(bot.settings)[1],
        )
    except Exception:
        log.exception("status failed")
        message = errors.unexpected("status")
    if reply.response_url:
        respond(reply.response_url, message)
    else:
        reply.tell(client, message)


def answers_from(bot: BotContext) -> str:
    if bot.discovery.llm_configured:
        return f"the LLM agent ({bot.settings.llm_model}); the offline planner if it fails"
    return "the offline planner (no OPENROUTER_API_KEY is set)"


def schedule_text(bot: BotContext) -> str:
    if bot.scheduler.trigger is None:
        return "off (INGEST_CRON)"
    return f"{bot.settings.ingest_cron} {bot.settings.ingest_timezone}"
