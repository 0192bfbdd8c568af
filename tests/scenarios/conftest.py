"""The scenarios use the bot's fixtures: a fake Slack, a scripted LLM, a database loaded once per module."""

from tests.bot.conftest import llm_server, loaded, slack  # noqa: F401
