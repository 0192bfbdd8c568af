"""Running the real bot (create_app + SocketModeHandler + slack_sdk WebClient) against FakeSlackServer.

Shared by tests/bot and tests/scenarios (and bench/bot_burst.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import bot_context, create_app, shutdown
from cdp.settings import Settings
from discovery.service import Discovery
from tests.conftest import loaded_database as shared_loaded_database
from tests.fakes.slack import FakeSlackServer, Message, UploadedFile

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"


def slack_settings(settings: Settings, fake: FakeSlackServer, **update: Any) -> Settings:
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_app_token": SecretStr(APP_TOKEN),
            "slack_api_url": fake.api_url,
            "llm_max_retries": 0,
            **update,
        }
    )


@dataclass
class RunningBot:
    fake: FakeSlackServer
    app: App
    handler: SocketModeHandler
    settings: Settings
    discovery: Discovery

    @property
    def store(self):
        return bot_context(self.app).store

    # -- waiting for what the bot posts -------------------------------------------------------
    def card_for(self, channel: str, ts: str, timeout: float = 30.0) -> Message:
        """The final content of message `ts`: the update that replaced the progress message."""
        return self.fake.wait_message(
            lambda m: m.kind == "chat.update" and m.ts == ts and not is_progress(m), channel=channel, timeout=timeout
        )

    def first_post(
        self, channel: str, *, thread_ts: str | None = None, count: int = 1, timeout: float = 10.0
    ) -> Message:
        return self.fake.wait_message(
            lambda m: m.kind == "chat.postMessage" and (thread_ts is None or m.thread_ts == thread_ts),
            channel=channel,
            timeout=timeout,
            count=count,
        )

    def files_in(self, channel: str, thread_ts: str, *, suffix: str = ".json", count: int = 1, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while True:
            found = [
                f
                for f in self.fake.files()
                if f.channel == channel and f.thread_ts == thread_ts and f.name.endswith(suffix)
            ]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {suffix} file in {channel}/{thread_ts}: {[f.name for f in self.fake.files()]}")
            time.sleep(0.02)


def send_message(
    fake: FakeSlackServer,
    text: str,
    *,
    channel: str,
    user: str = "U_USER",
    thread_ts: str | None = None,
    channel_type: str = "channel",
    subtype: str | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> tuple[str, str]:
    """A `message` event as Slack sends it for message.channels/groups/im/mpim. Returns (envelope_id, ts)."""
    ts = fake.new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "channel_type": channel_type,
        "user": user,
        "text": text,
        "ts": ts,
        "team": fake.team_id,
        "client_msg_id": str(uuid.uuid4()),
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = fake.bot_user_id
    if subtype:
        event["subtype"] = subtype
    return fake.send_event(event, event_id), ts


def is_progress(message: Message) -> bool:
    """The progress message is a quote and a stage line (no header, no buttons)."""
    blocks = message.blocks or []
    return (
        len(blocks) == 2
        and blocks[0]["type"] == "section"
        and blocks[1]["type"] == "context"
        and ("reading the question" in str(blocks[1]) or "→" in str(blocks[1]) or "…" in str(blocks[1]))
    )


def card_text(message: Message) -> str:
    return "\n".join(_texts(message.blocks or []))


def _texts(obj: Any) -> Iterator[str]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _texts(item)


def action_ids(message: Message) -> list[str]:
    return [e.get("action_id") for b in message.blocks or [] if b["type"] == "actions" for e in b["elements"]]


def button_value(message: Message, action_id: str) -> str:
    for b in message.blocks or []:
        if b["type"] == "actions":
            for e in b["elements"]:
                if e.get("action_id") == action_id:
                    return e["value"]
    raise KeyError(action_id)


def json_of(file: UploadedFile) -> dict:
    import json

    return json.loads(file.content)


@contextmanager
def running_bot(
    fake: FakeSlackServer,
    settings: Settings,
    *,
    discovery: Discovery | None = None,
    configure: Callable[[App], None] | None = None,
    **create_kwargs: Any,
) -> Iterator[RunningBot]:
    s = slack_settings(settings, fake)
    discovery = discovery or Discovery.from_settings(s)
    app = create_app(s, discovery, **create_kwargs)
    if configure:
        configure(app)
    handler = SocketModeHandler(app, APP_TOKEN)
    total = fake.total_connections
    handler.connect()
    fake.wait_connected(10, min_total=total + 1)
    try:
        yield RunningBot(fake, app, handler, s, discovery)
    finally:
        handler.close()
        shutdown(app, wait=True)


# -- a database loaded once per module -----------------------------------------------------------


@contextmanager
def loaded_database(pg_server_url: str, data_dir: Path, crm: Path, events: Path) -> Iterator[Settings]:
    """The shared loaded-database helper, with the LLM client's retries off (tests must fail fast)."""
    with shared_loaded_database(pg_server_url, data_dir, crm, events, llm_max_retries=0) as settings:
        yield settings
