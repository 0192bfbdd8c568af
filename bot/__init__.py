"""The Slack transport: Bolt in Socket Mode, listeners, Block Kit views, thread memory.

Knows Slack; knows nothing of SQL or vectors: questions go to `discovery.service.Discovery.answer`.
Entry point: `python -m bot` (bot/__main__.py). Tests build the app with `bot.app.create_app`.

Errors:

BotError                      base; str(error) says what happened and what to do
├── MissingSlackConfig        SLACK_BOT_TOKEN / SLACK_APP_TOKEN not set (start-up)
└── ScheduleError             INGEST_CRON / INGEST_TIMEZONE unusable (bot/schedule.py; also a ValueError)
"""


class BotError(Exception):
    """Base class of the bot's own errors."""


class MissingSlackConfig(BotError):
    """A required Slack setting is missing; the message names the variable and where to get it."""
