"""Talking to Slack: ephemeral notes (`tell`), posts, replacing the progress message (`deliver`), the
response_url (`respond`) and file uploads. Best effort where a failure must not fail the work."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)


@dataclass
class Target:
    """Where the answer goes: the progress message to replace, or the command's response_url."""

    channel: str
    thread_ts: str | None
    message_ts: str | None
    response_url: str | None = None  # set: the bot is not in the channel

    @property
    def via_response_url(self) -> bool:
        return self.response_url is not None


def error_name(exc: Exception) -> str:
    """What went wrong, for a log line or a note: Slack's error code, else the exception's type."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__


def webhook(response_url: str) -> WebhookClient:
    return WebhookClient(response_url, timeout=15, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])


def respond(response_url: str, message: dict, *, ephemeral: bool = True, replace: bool = False) -> bool:
    try:
        resp = webhook(response_url).send(
            text=message["text"],
            blocks=message.get("blocks"),
            response_type="ephemeral" if ephemeral else "in_channel",
            replace_original=replace,
            unfurl_links=False,
            unfurl_media=False,
        )
    except (SlackClientError, OSError) as exc:
        log.warning("response_url post failed: %s", type(exc).__name__)
        return False
    if resp.status_code != 200:
        log.warning("response_url answered %s: %s", resp.status_code, resp.body)
    return resp.status_code == 200


def tell(client: WebClient, user: str, channel: str, message: dict, *, thread_ts: str | None = None,
         response_url: str | None = None) -> None:  # fmt: skip
    """An ephemeral message to `user` (through the response_url when there is one)."""
    if response_url and respond(response_url, message):
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **message)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not tell %s in %s: %s", user, channel, error_name(exc))


def post(client: WebClient, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
    resp = client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
    )
    return resp["ts"]


def deliver(client: WebClient, target: Target, message: dict) -> str | None:
    """Replace the progress message with `message` (or post it through the response_url)."""
    if target.via_response_url:
        respond(target.response_url or "", message, ephemeral=False)
        return None
    try:
        client.chat_update(channel=target.channel, ts=target.message_ts, **message)
        return target.message_ts
    except SlackApiError as exc:
        if exc.response.get("error") not in ("message_not_found", "cant_update_message", "edit_window_closed"):
            raise
        return post(client, target.channel, message, thread_ts=target.thread_ts)


def upload(
    client: WebClient, channel: str, thread_ts: str | None, name: str, content: bytes, rid: str,
    *, note_on_failure: bool = True,
) -> bool:  # fmt: skip
    """Attach a file in the thread; on failure log it and (`note_on_failure`) say so in the thread."""
    try:
        client.files_upload_v2(channel=channel, thread_ts=thread_ts, filename=name, title=name, content=content)
        return True
    except (SlackApiError, SlackClientError, OSError) as exc:
        error = error_name(exc)
        log.warning("request %s: upload of %s failed: %s", rid, name, error)
        if note_on_failure:
            with contextlib.suppress(SlackApiError, SlackClientError, OSError):
                post(client, channel, {"text": f":warning: I couldn't attach {name} ({error})."}, thread_ts=thread_ts)
        return False
