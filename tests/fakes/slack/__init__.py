"""A fake Slack for tests that speaks the real wire protocol (Web API over HTTP + Socket Mode over WebSocket).

The package's rooms: ``blockkit`` (what Slack would reject), ``records`` (what the fake recorded and how to
read and wait for it), ``web_api`` (the Web API methods), ``routes`` (the HTTP side: bodies, tokens, failure
injection), ``socket_mode`` (the WebSocket, envelopes and acks), ``envelopes`` (the payloads Slack pushes) and
``server`` (``FakeSlackServer``: the thread, the loop and the configuration that tie them).

Usage::

    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk import WebClient
    from tests.fakes.slack import FakeSlackServer

    with FakeSlackServer() as fake:
        app = App(client=WebClient(token="xoxb-test", base_url=fake.api_url))   # auth.test hits the fake

        @app.command("/audience")
        def audience(ack, command, client):
            ack("On it")
            client.chat_postMessage(channel=command["channel_id"], text="Done")

        handler = SocketModeHandler(app, "xapp-test")
        handler.connect()                                   # non-blocking; hello arrives on the socket
        try:
            env_id = fake.send_slash_command("/audience", text="lapsed buyers", channel_id="C1")
            ack = fake.wait_ack(env_id, timeout=5)          # ack.payload == {"text": "On it"}, ack.latency in s
            call = fake.wait_for("chat.postMessage")        # a Call: method, args, headers, token, time, response
            assert fake.messages("C1")[0].text == "Done"
            fake.assert_all_messages_valid()                # Block Kit + Slack limits on everything posted
        finally:
            handler.close()                                 # close the client before the fake stops

As a pytest fixture::

    @pytest.fixture
    def slack() -> Iterator[FakeSlackServer]:
        with FakeSlackServer() as fake:
            yield fake
"""

from tests.fakes.slack.blockkit import (
    MAX_MESSAGE_BLOCKS,
    MAX_TEXT_CHARS,
    MAX_VIEW_BLOCKS,
    BlockKitError,
    validate_blocks,
    validate_message,
    validate_view,
)
from tests.fakes.slack.records import Ack, Call, Envelope, Message, UploadedFile
from tests.fakes.slack.server import FakeSlackServer

__all__ = [
    "MAX_MESSAGE_BLOCKS",
    "MAX_TEXT_CHARS",
    "MAX_VIEW_BLOCKS",
    "Ack",
    "BlockKitError",
    "Call",
    "Envelope",
    "FakeSlackServer",
    "Message",
    "UploadedFile",
    "validate_blocks",
    "validate_message",
    "validate_view",
]
