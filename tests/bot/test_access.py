"""Access rules and the per-user limit (users.info answered by the fake Slack over HTTP)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.access import Access, InFlight, Refusal
from bot.listeners import is_help, keys, strip_mention
from cdp.settings import Settings


def test_access_rules(slack):
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    slack.add_user("U_A")
    slack.add_user("U_ADMIN")
    slack.add_user("U_GUEST", is_restricted=True)
    slack.add_user("U_SINGLE", is_ultra_restricted=True)
    slack.add_user("U_ROBOT", is_bot=True)
    open_access = Access(Settings(_env_file=None))
    assert open_access.check(client, "U_A", "C1") is None
    assert open_access.check(client, "U_GUEST", "C1") is Refusal.GUEST
    assert open_access.check(client, "U_SINGLE", "C1") is Refusal.GUEST
    assert open_access.check(client, "U_ROBOT", "C1") is Refusal.BOT
    assert open_access.check(client, "U_NOBODY", "C1") is Refusal.UNVERIFIED

    strict = Access(Settings(_env_file=None, allowed_users="U_A, U_B", allowed_channels="C1", admin_users="U_ADMIN"))
    assert strict.check(client, "U_A", "C1") is None
    assert strict.check(client, "U_ADMIN", "C1") is None  # admins count as allowed users
    assert strict.check(client, "U_C", "C1") is Refusal.USER
    assert strict.check(client, "U_A", "C2") is Refusal.CHANNEL
    assert strict.is_admin("U_ADMIN") and not strict.is_admin("U_A")

    calls = len(slack.calls("users.info"))
    for _ in range(5):
        open_access.check(client, "U_A", "C1")
    assert len(slack.calls("users.info")) == calls, "users.info answers are cached"


def test_inflight_limit():
    limit = InFlight(2)
    assert limit.acquire("U1") and limit.acquire("U1") and not limit.acquire("U1")
    assert limit.acquire("U2")
    limit.release("U1")
    assert limit.count("U1") == 1 and limit.acquire("U1")
    for _ in range(5):
        limit.release("U3")  # never below zero
    assert limit.count("U3") == 0


def test_listener_helpers():
    assert (
        strip_mention("<@U_BOT>   customers who <@U_BOT|audience> bought socks", "U_BOT")
        == "customers who bought socks"
    )
    assert strip_mention("<@U_OTHER> hi", "U_BOT") == "<@U_OTHER> hi"
    assert is_help("") and is_help(" HELP ") and not is_help("help me find socks buyers")
    assert keys("event", "Ev1") == "event:Ev1" and keys("message", "C1", "1.2") == "message:C1:1.2"
    assert keys("command", None) is None and keys("event", "") is None
