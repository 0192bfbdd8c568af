"""Tests for the fake Slack server, driven by the real slack_sdk / slack_bolt clients (no mocks)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack import (
    BlockKitError,
    FakeSlackServer,
    validate_blocks,
    validate_message,
    validate_view,
)

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Audience:* 1,204 customers"}}
BUTTONS = {
    "type": "actions",
    "block_id": "segment_actions",
    "elements": [{"type": "button", "action_id": "export", "text": {"type": "plain_text", "text": "Export"}}],
}
MODAL = {
    "type": "modal",
    "callback_id": "refine",
    "title": {"type": "plain_text", "text": "Refine audience"},
    "submit": {"type": "plain_text", "text": "Run"},
    "blocks": [
        {
            "type": "input",
            "block_id": "q",
            "label": {"type": "plain_text", "text": "Question"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


@pytest.fixture
def fake() -> Iterator[FakeSlackServer]:
    with FakeSlackServer() as server:
        yield server
        assert server.server_errors == []


@pytest.fixture
def client(fake: FakeSlackServer) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


@dataclass
class Bolt:
    app: App
    handler: SocketModeHandler
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def bolt(fake: FakeSlackServer) -> Iterator[Bolt]:
    """A real Bolt app connected over the builtin Socket Mode client."""
    executor = ThreadPoolExecutor(max_workers=4)
    app = App(
        token="xoxb-test",
        client=WebClient(token="xoxb-test", base_url=fake.api_url),
        listener_executor=executor,
    )
    handler = SocketModeHandler(app, "xapp-test")
    bolt = Bolt(app, handler)

    @app.command("/audience")
    def audience(ack, command, client, respond):
        ack("Looking for your audience...")
        client.chat_postMessage(
            channel=command["channel_id"], text=f"Results for {command['text']}", blocks=[SECTION, BUTTONS]
        )
        respond(text="Posted the results", response_type="ephemeral")

    @app.event("app_mention")
    def mention(event, say, request):
        bolt.seen.append(
            {
                "event": event,
                "retry_num": request.headers.get("x-slack-retry-num"),
                "retry_reason": request.headers.get("x-slack-retry-reason"),
            }
        )
        say(text="Hi!", thread_ts=event["ts"])

    @app.action("export")
    def export(ack, body, respond):
        ack()
        respond(text=f"Exporting for <@{body['user']['id']}>", replace_original=False)

    @app.view("refine")
    def refine(ack, view):
        ack(response_action="errors", errors={"q": "Too vague"})

    handler.connect()
    try:
        yield bolt
    finally:
        handler.close()
        executor.shutdown(wait=True)


# ------------------------------------------------------------------------------------------ Web API


def test_web_api_post_update_and_upload(fake: FakeSlackServer, client: WebClient) -> None:
    auth = client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("U_BOT", "B_BOT", "T_TEST")

    posted = client.chat_postMessage(channel="C1", text="Found 1,204 customers", blocks=[SECTION, BUTTONS])
    assert posted["channel"] == "C1" and posted["message"]["blocks"][0]["type"] == "section"
    call = fake.wait_for("chat.postMessage")
    assert call.args["blocks"] == [SECTION, BUTTONS]  # parsed into Python
    assert call.headers["Authorization"] == "Bearer xoxb-test" and call.token == "xoxb-test"

    client.chat_update(channel="C1", ts=posted["ts"], text="Updated", blocks=[SECTION])
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts="1.000001", text="nope")
    assert err.value.response["error"] == "message_not_found"
    assert [(m.kind, m.text) for m in fake.messages("C1")] == [
        ("chat.postMessage", "Found 1,204 customers"),
        ("chat.update", "Updated"),
    ]
    assert fake.history("C1")[0]["text"] == "Updated"

    # form-encoded blocks (a JSON string) are parsed too
    client.api_call("chat.postEphemeral", data={"channel": "C1", "user": "U_USER", "blocks": json.dumps([SECTION])})
    assert fake.messages(kind="chat.postEphemeral")[0].blocks == [SECTION]

    content = json.dumps({"segment": "lapsed", "ids": [1, 2, 3]})
    upload = client.files_upload_v2(
        channel="C1", thread_ts=posted["ts"], content=content, filename="segment.json", initial_comment="Here"
    )
    assert upload["file"]["name"] == "segment.json"
    assert [c.method for c in fake.calls()[-3:]] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    (uploaded,) = fake.files()
    assert uploaded.content == content.encode()
    assert (uploaded.name, uploaded.title, uploaded.channel) == ("segment.json", "segment.json", "C1")
    assert (uploaded.thread_ts, uploaded.initial_comment, uploaded.length) == (posted["ts"], "Here", len(content))
    fake.assert_all_messages_valid()

    fake.forget_records()  # long benchmarks: the fake keeps nothing it saw, and keeps working
    assert (fake.calls(), fake.messages(), fake.files(), fake.history("C1")) == ([], [], [], [])
    client.chat_postMessage(channel="C1", text="again")
    assert [m.text for m in fake.messages("C1")] == ["again"]


def test_web_api_errors_and_lookups(fake: FakeSlackServer, client: WebClient) -> None:
    fake.add_user("U_GUEST", name="guest", is_restricted=True, tz="Europe/Paris")
    user = client.users_info(user="U_GUEST")["user"]
    assert (user["is_restricted"], user["is_ultra_restricted"], user["is_bot"], user["tz"]) == (
        True,
        False,
        False,
        "Europe/Paris",
    )
    assert client.users_info(user="U_BOT")["user"]["is_bot"] is True
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="U_NOBODY")

    fake.set_not_in_channel("C_PRIV")
    assert client.conversations_info(channel="C_PRIV")["channel"]["is_member"] is False
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel="C_PRIV", text="hi")
    client.conversations_join(channel="C_PRIV")
    client.chat_postMessage(channel="C_PRIV", text="hi")

    fake.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C1", text="first")
    client.chat_postMessage(channel="C1", text="second")
    assert [m.text for m in fake.messages("C1")] == ["second"]

    with pytest.raises(SlackApiError, match="unknown_method"):
        client.api_call("admin.does.notExist")
    assert fake.calls("admin.does.notExist")[0].error == "unknown_method"

    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        client.apps_connections_open(app_token="xoxb-test")
    assert client.apps_connections_open(app_token="xapp-test")["url"].startswith(f"ws://127.0.0.1:{fake.port}/socket?")
    with pytest.raises(SlackApiError, match="not_authed"):
        WebClient(base_url=fake.api_url).auth_test()

    fake.register_method("bookmarks.list", lambda args: {"bookmarks": [args["channel_id"]]})
    assert client.api_call("bookmarks.list", params={"channel_id": "C1"})["bookmarks"] == ["C1"]


def test_rate_limited_call_is_retried_once(fake: FakeSlackServer, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    assert client.chat_postMessage(channel="C1", text="hello")["ok"]
    assert time.monotonic() - started >= 1.0  # honoured Retry-After
    calls = fake.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert [m.text for m in fake.messages()] == ["hello"]

    plain = WebClient(token="xoxb-test", base_url=fake.api_url)  # no RateLimitErrorRetryHandler
    fake.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as err:
        plain.chat_postMessage(channel="C1", text="again")
    assert err.value.response.status_code == 429 and err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "7"


def test_views_and_trigger_ids(fake: FakeSlackServer, client: WebClient) -> None:
    trigger = fake.new_trigger_id()
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "refine"
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_open(trigger_id=trigger, view=MODAL)
    client.views_update(view_id=view["id"], view={**MODAL, "title": {"type": "plain_text", "text": "Again"}})
    too_big = {**MODAL, "blocks": [SECTION] * 101}
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id=fake.new_trigger_id(), view=too_big)
    with pytest.raises(BlockKitError, match="101 blocks"):
        fake.assert_all_messages_valid()

    short = FakeSlackServer(trigger_ttl=0.05)
    with short:
        late = short.new_trigger_id()
        time.sleep(0.1)
        with pytest.raises(SlackApiError, match="expired_trigger_id"):
            WebClient(token="xoxb-test", base_url=short.api_url).views_open(trigger_id=late, view=MODAL)


# ------------------------------------------------------------------------------------------ Block Kit


def test_block_kit_validation(fake: FakeSlackServer, client: WebClient) -> None:
    assert [b.type for b in validate_blocks([SECTION, BUTTONS])] == ["section", "actions"]
    validate_view(MODAL)
    with pytest.raises(BlockKitError, match="3000"):
        validate_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    with pytest.raises(BlockKitError, match="unknown block type"):
        validate_blocks([{"type": "sparkles"}])
    with pytest.raises(BlockKitError, match="at most 50"):
        validate_blocks([SECTION] * 51)
    validate_blocks([SECTION] * 100, max_blocks=100)
    with pytest.raises(BlockKitError, match="40000"):
        validate_message({"text": "x" * 40_001})

    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="bad", blocks=[{"type": "header", "text": {"type": "mrkdwn"}}])
    assert err.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError, match="msg_too_long"):
        client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert fake.messages() == []
    with pytest.raises(BlockKitError) as bad:
        fake.assert_all_messages_valid()
    assert len(bad.value.errors) == 2  # the rejected calls are still checked


# ------------------------------------------------------------------------------------------ Socket Mode


def test_socket_mode_hello_ping_and_webhook_response_url(fake: FakeSlackServer) -> None:
    handler_app = App(client=WebClient(token="xoxb-test", base_url=fake.api_url))
    handler = SocketModeHandler(handler_app, "xapp-test", ping_interval=0.2)
    handler.connect()
    try:
        fake.wait_connected(timeout=5)
        assert fake.connected and handler.client.is_connected()
        time.sleep(0.5)  # a few client pings answered by the server's pongs
        assert handler.client.current_session.last_ping_pong_time is not None
    finally:
        handler.close()
    assert fake.calls("apps.connections.open")[0].token == "xapp-test"

    url = fake.response_url("r1", channel_id="C9")
    assert WebhookClient(url).send(text="done", response_type="in_channel").body == "ok"
    (message,) = fake.messages("C9")
    assert (message.kind, message.text, message.response_type) == ("response_url", "done", "in_channel")
    assert WebhookClient(fake.base_url + "/response/unknown").send(text="x").status_code == 404


def test_bolt_app_over_socket_mode(fake: FakeSlackServer, bolt: Bolt) -> None:
    # slash command: ack (with payload) within Slack's 3 s, then Web API + response_url
    env_id = fake.send_slash_command("/audience", text="lapsed buyers", user_id="U_USER", channel_id="C1")
    ack = fake.wait_ack(env_id, timeout=5)
    assert ack.payload == {"text": "Looking for your audience..."}
    assert ack.latency is not None and 0 <= ack.latency < 3.0
    message = fake.wait_message(channel="C1")
    assert message.text == "Results for lapsed buyers" and message.blocks == [SECTION, BUTTONS]
    reply = fake.wait_message(lambda m: m.kind == "response_url")
    assert (reply.text, reply.channel, reply.user, reply.response_type) == (
        "Posted the results",
        "C1",
        "U_USER",
        "ephemeral",
    )

    # app_mention event, then Slack's redelivery of the same event (retry fields in the envelope)
    event = {
        "type": "app_mention",
        "user": "U_USER",
        "text": "<@U_BOT> who churned?",
        "ts": fake.new_ts(),
        "channel": "C2",
    }
    first = fake.send_event(event, event_id="Ev001")
    assert fake.wait_ack(first).payload is None
    fake.wait_message(channel="C2")
    again = fake.send_event(event, event_id="Ev001", retry_attempt=1, retry_reason="timeout")
    fake.wait_ack(again)
    fake.wait_message(channel="C2", count=2)
    sent = fake.envelope(again).body
    assert (sent["type"], sent["retry_attempt"], sent["retry_reason"]) == ("events_api", 1, "timeout")
    assert sent["payload"]["event_id"] == "Ev001" and sent["payload"]["type"] == "event_callback"
    assert [(s["retry_num"], s["retry_reason"]) for s in bolt.seen] == [(["0"], [""]), (["1"], ["timeout"])]
    assert fake.messages("C2")[0].thread_ts == event["ts"]

    # block_actions -> ack without payload -> respond() to the payload's response_url
    action = fake.send_block_action("export", value="seg-1", channel_id="C1", message_ts=message.ts)
    assert fake.wait_ack(action).payload is None
    respond = fake.wait_message(lambda m: m.kind == "response_url" and "Exporting" in (m.text or ""))
    assert respond.channel == "C1" and respond.replace_original is False

    # view_submission -> ack carries response_action
    submitted = fake.send_view_submission("refine", {"q": {"text": {"type": "plain_text_input", "value": "?"}}})
    assert fake.envelope(submitted).body["accepts_response_payload"] is True
    assert fake.wait_ack(submitted).payload == {"response_action": "errors", "errors": {"q": "Too vague"}}

    # a retried envelope via the helper, too
    redelivered = fake.retry_envelope(first)
    fake.wait_ack(redelivered)
    assert fake.envelope(redelivered).body["retry_attempt"] == 1

    assert len(fake.acks) == 6
    fake.assert_all_messages_valid()


def test_reconnect_after_server_disconnect(fake: FakeSlackServer, bolt: Bolt) -> None:
    first = fake.wait_connected()
    assert len(fake.calls("apps.connections.open")) == 1

    fake.disconnect()
    second = fake.wait_connected(timeout=10, min_total=2)
    assert second.id != first.id
    assert fake.connections[0].closed_at is not None
    assert len(fake.calls("apps.connections.open")) >= 2

    env_id = fake.send_slash_command("/audience", text="after reconnect", channel_id="C3")
    assert fake.wait_ack(env_id).connection_id == second.id
    assert fake.wait_message(channel="C3").text == "Results for after reconnect"


def test_stop_leaves_no_threads_and_refuses_sends() -> None:
    before = {t.ident for t in threading.enumerate()}
    fake = FakeSlackServer().start()
    WebClient(token="xoxb-test", base_url=fake.api_url).auth_test()
    fake.stop()
    assert {t.ident for t in threading.enumerate()} <= before
    with pytest.raises(RuntimeError, match="not running"):
        fake.disconnect()
    fake.stop()  # idempotent


def test_close_frame_only_reconnects_from_the_client_monitor(fake: FakeSlackServer) -> None:
    app = App(client=WebClient(token="xoxb-test", base_url=fake.api_url))
    app.command("/audience")(lambda ack: ack("pong"))
    handler = SocketModeHandler(app, "xapp-test", ping_interval=0.3)  # the monitor period
    handler.connect()
    try:
        fake.wait_connected()
        fake.disconnect(reason=None)  # no "disconnect" message: a bare close frame
        fake.wait_connected(timeout=5, min_total=2)
        assert fake.wait_ack(fake.send_slash_command(text="again")).payload == {"text": "pong"}
    finally:
        handler.close()
