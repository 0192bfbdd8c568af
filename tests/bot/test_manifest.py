"""manifest.yml: a Socket Mode app with the command, scopes and events the bot's listeners need."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def test_manifest():
    m = yaml.safe_load(MANIFEST.read_text())
    assert m["settings"]["socket_mode_enabled"] is True and m["settings"]["interactivity"]["is_enabled"] is True
    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/audience"]
    assert set(m["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "chat:write", "commands", "files:write", "channels:history", "groups:history",
        "im:history", "im:write", "mpim:history", "users:read",
    }  # fmt: skip
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "app_mention", "message.channels", "message.groups", "message.im", "message.mpim",
    }  # fmt: skip
    assert m["features"]["app_home"]["messages_tab_enabled"] is True  # direct messages to the bot
    assert m["features"]["app_home"]["home_tab_enabled"] is True  # the saved audiences (bot/home.py)
