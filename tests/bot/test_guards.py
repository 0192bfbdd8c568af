"""The listener middleware's stop and the one error handler, through the real Bolt app and the fake Slack:
whatever a listener or a middleware raises is logged with a request id, the user gets an apology
carrying it, and the request is still acked."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.commands import command_reply
from bot.listeners.guards import acknowledge
from tests.bot.harness import card_text, running_bot


def broken(*_args, **_kwargs) -> None:
    raise RuntimeError("boom")


def add_broken_commands(app: App) -> None:
    app.command("/broken", middleware=[command_reply, acknowledge])(broken)
    app.command("/broken-middleware", middleware=[command_reply, broken])(lambda ack: ack())


def apology(slack, count: int = 1) -> str:
    """The request id in the `count`-th apology sent through a response_url."""
    found = slack.wait_message(lambda m: m.kind == "response_url" and "went wrong" in card_text(m), count=count)
    return card_text(found).split("request id `")[1].split("`")[0]


def test_a_failing_listener_or_middleware_is_acked_logged_and_apologized_for(slack, loaded, caplog):
    with running_bot(slack, loaded, configure=add_broken_commands):
        env = slack.send_slash_command("/broken", text="anything")
        assert slack.wait_ack(env).latency < 3
        rid = apology(slack)
        assert any(rid in r.getMessage() and r.exc_info for r in caplog.records)

        env = slack.send_slash_command("/broken-middleware", text="anything")
        assert slack.wait_ack(env).latency < 3  # acked although a middleware failed before the listener ran
        second = apology(slack, count=2)
        assert second != rid and any(second in r.getMessage() and r.exc_info for r in caplog.records)
