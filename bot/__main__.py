"""`python -m bot`: the Slack bot in Socket Mode (SLACK_BOT_TOKEN, SLACK_APP_TOKEN)."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from cdp.quiet import quiet_third_party

quiet_third_party()  # before the libraries below load

from bot import BotError, MissingSlackConfig  # noqa: E402
from cdp.settings import Settings  # noqa: E402
from discovery.llm_health import check_model  # noqa: E402

log = logging.getLogger("bot")

WHERE_BOT_TOKEN = (
    "SLACK_BOT_TOKEN is not set. Get it at https://api.slack.com/apps → your app → OAuth & Permissions → "
    "Bot User OAuth Token (starts with xoxb-), and put it in .env or the environment."
)
WHERE_APP_TOKEN = (
    "SLACK_APP_TOKEN is not set. Get it at https://api.slack.com/apps → your app → Basic Information → "
    "App-Level Tokens → Generate Token with the connections:write scope (starts with xapp-), and put it in .env "
    "or the environment. Socket Mode must be on (Settings → Socket Mode)."
)


def check_slack_settings(settings: Settings) -> tuple[str, str]:
    """The two tokens, or MissingSlackConfig naming every variable to set and where to get it."""
    bot = settings.slack_bot_token.get_secret_value().strip() if settings.slack_bot_token else ""
    app = settings.slack_app_token.get_secret_value().strip() if settings.slack_app_token else ""
    problems = []
    if not bot:
        problems.append(WHERE_BOT_TOKEN)
    elif not bot.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be the Bot User OAuth Token (xoxb-…), from OAuth & Permissions.")
    if not app:
        problems.append(WHERE_APP_TOKEN)
    elif not app.startswith("xapp-"):
        problems.append(
            "SLACK_APP_TOKEN must be an App-Level Token (xapp-…), from Basic Information → App-Level Tokens."
        )
    if problems:
        raise MissingSlackConfig("\n".join(problems))
    return bot, app


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("slack_sdk.socket_mode").setLevel(logging.WARNING)
    from cdp.settings import get_settings

    settings = get_settings()
    try:
        _, app_token = check_slack_settings(settings)
    except MissingSlackConfig as exc:
        print(f"Cannot start the bot:\n{exc}", file=sys.stderr)
        return 2
    from bot.schedule import ScheduleError, schedule_trigger

    try:  # before anything starts: a typo in the schedule must not wait until 02:00 to show
        schedule_trigger(settings.ingest_cron, settings.ingest_timezone)
    except ScheduleError as exc:
        print(f"Cannot start the bot: {exc}", file=sys.stderr)
        return 2

    try:
        return run(settings, app_token)
    finally:
        close_stores()


def run(settings: Settings, app_token: str) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_bolt.error import BoltError

    from bot.app import create_app, shutdown, warm_up
    from cdp.errors import CDPError
    from discovery.service import Discovery

    try:
        discovery = Discovery.from_settings(settings)
        app = create_app(settings, discovery)  # checks SLACK_BOT_TOKEN with auth.test
        log.info("loading the embedding model %s and warming up…", settings.embedding_model)
        warm_up(app)
    except (CDPError, BotError) as exc:  # BotError: ScheduleError
        print(f"Cannot start the bot: {exc}", file=sys.stderr)
        return 2
    except BoltError as exc:
        print(
            f"Cannot start the bot: Slack rejected SLACK_BOT_TOKEN ({exc}). Check the token and SLACK_API_URL.",
            file=sys.stderr,
        )
        return 2

    handler = SocketModeHandler(app, app_token)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        handler.connect()
    except Exception as exc:  # e.g. invalid_auth on apps.connections.open
        print(f"Cannot connect to Slack in Socket Mode: {exc}. Check SLACK_APP_TOKEN.", file=sys.stderr)
        shutdown(app, wait=False)
        return 2
    if problem := check_model(settings):  # the bot runs on; `/audience status` shows the problem
        log.warning("%s. Until then the offline planner answers.", problem)
    mode = f"LLM {settings.llm_model}" if discovery.llm_configured else "offline planner (no OPENROUTER_API_KEY)"
    log.info("Audience bot connected (Socket Mode); answers from the %s; %d workers", mode, settings.bot_workers)
    stop.wait()
    log.info("stopping: finishing the questions in progress…")
    handler.close()
    shutdown(app, wait=True)
    log.info("stopped")
    return 0


def close_stores() -> None:
    """Release Qdrant's local-mode folder lock and the database pool before the interpreter exits."""
    from cdp.db import dispose_engines
    from cdp.vectors import close_qdrant

    close_qdrant()
    dispose_engines()


if __name__ == "__main__":
    sys.exit(main())
