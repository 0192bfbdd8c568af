"""A fake Slack for tests that speaks the real wire protocol (Web API over HTTP + Socket Mode over WebSocket).

One aiohttp server bound to ``127.0.0.1`` on an ephemeral port, running its own event loop in a background
thread. Point the *real* clients at it -- slack_sdk's ``WebClient`` (``base_url=fake.api_url``) and slack_bolt's
builtin ``SocketModeHandler`` (it gets its ``ws://`` URL from ``apps.connections.open`` on the same server) --
and drive the bot the way Slack would: push Socket Mode envelopes, observe the acks and the Web API calls.

Usage::

    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk import WebClient
    from tests.fakes.slack_server import FakeSlackServer

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

Web API (``POST /api/<method>``, form, multipart or JSON bodies, token from ``Authorization: Bearer`` or a
``token`` argument): ``auth.test``, ``apps.connections.open`` (needs an ``xapp-`` token), ``chat.postMessage``,
``chat.update``, ``chat.postEphemeral``, ``chat.delete``, ``chat.getPermalink``, ``views.open|push|update|publish``,
``users.info``, ``conversations.info|join|open``, ``reactions.add|remove``, ``files.getUploadURLExternal``,
``files.completeUploadExternal``. Anything else answers ``{"ok": false, "error": "unknown_method"}`` (and is
recorded); add more with ``register_method(name, fn)``. Errors are HTTP 200 + ``ok: false`` like Slack; bot
tokens used on ``apps.connections.open`` (or app tokens elsewhere) get ``not_allowed_token_type``.
Invalid Block Kit is answered ``invalid_blocks`` (messages) / ``invalid_arguments`` (views), as Slack does.
Two pseudo-methods are recorded too: ``"upload_url"`` (the raw-bytes POST of ``files_upload_v2`` step 2) and
``"response_url"`` (POSTs to ``fake.response_url(id)``, e.g. from Bolt's ``respond()``).

Failure injection: ``fail_next(method, error)``, ``rate_limit_next(method, retry_after)`` (HTTP 429 +
``Retry-After``, body ``{"ok": false, "error": "ratelimited"}``), ``set_not_in_channel(channel_id)``.

Socket Mode: ``send_slash_command``, ``send_event``/``send_app_mention``, ``send_interactive``/
``send_block_action``/``send_view_submission``, ``retry_envelope``; each returns the ``envelope_id``.
``wait_ack(envelope_id)`` -> ``Ack`` (``payload``, ``latency``). ``disconnect()`` makes Slack's
``{"type": "disconnect", "reason": "refresh_requested"}`` request and closes the socket; the client reconnects
through a new ``apps.connections.open`` (``wait_connected(min_total=2)``).

Protocol notes (slack_sdk 3.47 builtin client, slack_bolt 1.30):

* The builtin client picks TLS by *port* (443 -> TLS, anything else -> plain TCP), not by ``ws``/``wss``; it
  writes its own HTTP/1.1 upgrade request (``Host`` without port, ``path?query``) and checks
  ``Sec-WebSocket-Accept``. It never sends a close frame: it just closes the TCP socket.
* On a server close frame the client does *not* reconnect at once (it still looks connected while its close
  listener runs); its monitor thread reconnects after up to ``ping_interval`` seconds (Bolt default 10). A
  ``{"type": "disconnect"}`` message instead makes it reconnect immediately -- ``disconnect()`` sends one.
* Acks are text frames ``{"envelope_id": ...}`` or ``{"envelope_id": ..., "payload": {...}}``. Bolt acks only
  after the listener called ``ack()`` (or right away for events); a request no listener handles gets *no* ack.
* The client pings every ``ping_interval`` with ``"<session id>:<time>"`` and expects the payload echoed in a
  pong (aiohttp's autoping does that); it answers server pings with pongs.
* ``files_upload_v2`` = ``files.getUploadURLExternal`` (form: filename, length) -> raw POST of the bytes to
  ``upload_url`` (no auth header, urllib's default form content type) which must answer 200 ->
  ``files.completeUploadExternal`` (form: ``files`` JSON ``[{"id", "title"}]``, ``channel_id``, ``thread_ts``,
  ``initial_comment``).
* ``WebClient`` only retries a 429 when a ``RateLimitErrorRetryHandler`` is installed; it sleeps
  ``int(Retry-After) + random()`` seconds. Without it the call raises ``SlackApiError`` (``ratelimited``).

All public methods are thread-safe. ``stop()`` closes live sockets (code 1001), the server and its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, quote

from aiohttp import WSCloseCode, WSMsgType, web
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

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

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_CHARS = 40_000

UPLOAD_URL = "upload_url"
RESPONSE_URL = "response_url"
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")
# Arguments Slack accepts as JSON-encoded strings in form bodies; parsed into Python when recorded.
JSON_ARGS = frozenset({"blocks", "attachments", "view", "files", "metadata", "user_auth_blocks"})
VERIFICATION_TOKEN = "fake-verification-token"


# ----------------------------------------------------------------------------------------------------------
# Block Kit validation
# ----------------------------------------------------------------------------------------------------------


class BlockKitError(AssertionError):
    """Blocks, a message or a view that Slack would reject (``errors`` lists every problem found)."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid Block Kit:\n  " + "\n  ".join(self.errors))


def _block_errors(blocks: Any, *, max_blocks: int, where: str = "blocks") -> list[str]:
    if blocks is None:
        return []
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError as exc:
            return [f"{where}: not valid JSON ({exc})"]
    if not isinstance(blocks, list | tuple):
        return [f"{where}: must be a list, got {type(blocks).__name__}"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"{where}: {len(blocks)} blocks, Slack allows at most {max_blocks}")
    for i, raw in enumerate(blocks):
        if not isinstance(raw, dict | Block):
            errors.append(f"{where}[{i}]: must be an object, got {type(raw).__name__}")
            continue
        kind = raw.get("type") if isinstance(raw, dict) else raw.type
        try:
            block = Block.parse(raw)
            if block is None:
                errors.append(f"{where}[{i}]: unknown block type {kind!r}")
                continue
            block.validate_json()
            block.to_dict()  # validates nested elements / text objects too
        except Exception as exc:  # SlackObjectFormationError, TypeError for bad keys, ...
            errors.append(f"{where}[{i}] ({kind}): {type(exc).__name__}: {exc}")
    return errors


def _message_errors(args: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    text = args.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        errors.append(f"text: {len(text)} characters, Slack allows at most {MAX_TEXT_CHARS}")
    errors += _block_errors(args.get("blocks"), max_blocks=MAX_MESSAGE_BLOCKS)
    attachments = args.get("attachments")
    if isinstance(attachments, list):
        for i, attachment in enumerate(attachments):
            if isinstance(attachment, dict) and "blocks" in attachment:
                errors += _block_errors(
                    attachment["blocks"], max_blocks=MAX_MESSAGE_BLOCKS, where=f"attachments[{i}].blocks"
                )
    elif attachments is not None:
        errors.append("attachments: must be a list")
    return errors


def _view_errors(view: Any) -> list[str]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as exc:
            return [f"view: not valid JSON ({exc})"]
    if not isinstance(view, dict):
        return [f"view: must be an object, got {type(view).__name__}"]
    errors: list[str] = []
    if view.get("type") not in ("modal", "home", "workflow_step"):
        errors.append(f"view.type: must be modal, home or workflow_step, got {view.get('type')!r}")
    if view.get("type") == "modal" and not view.get("title"):
        errors.append("view.title: required for modals")
    if not view.get("blocks"):
        errors.append("view.blocks: at least one block is required")
    block_errors = _block_errors(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS, where="view.blocks")
    errors += block_errors
    if not block_errors:  # View() re-parses the blocks; avoid reporting the same problem twice
        try:
            View(**view).validate_json()
        except Exception as exc:
            errors.append(f"view: {type(exc).__name__}: {exc}")
    return errors


def validate_blocks(
    blocks: Iterable[Mapping[str, Any] | Block], *, max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[Block]:
    """Parse every block with ``Block.parse`` and run ``validate_json()`` (recursively via ``to_dict()``).

    Raises ``BlockKitError`` on unknown block types, invalid blocks or more than ``max_blocks`` blocks
    (Slack: 50 per message, 100 per modal/Home tab). Returns the parsed blocks.
    """
    blocks = list(blocks)
    errors = _block_errors(blocks, max_blocks=max_blocks)
    if errors:
        raise BlockKitError(errors)
    return [b for b in (Block.parse(raw) for raw in blocks) if b is not None]  # type: ignore[arg-type]


def validate_message(args: Mapping[str, Any]) -> None:
    """Validate a message payload (``text`` <= 40,000 chars, <= 50 valid ``blocks``, attachment blocks)."""
    errors = _message_errors(args)
    if errors:
        raise BlockKitError(errors)


def validate_view(view: Mapping[str, Any]) -> None:
    """Validate a modal/Home view (``slack_sdk`` ``View`` rules, <= 100 valid blocks)."""
    errors = _view_errors(dict(view))
    if errors:
        raise BlockKitError(errors)


# ----------------------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One HTTP request the fake received: a Web API method, ``"upload_url"`` or ``"response_url"``."""

    method: str
    args: JsonDict  # parsed form/JSON/multipart body + query; JSON-string args (blocks, view...) parsed
    headers: dict[str, str]
    token: str | None
    time: float  # time.monotonic() on arrival
    status: int  # HTTP status answered
    response: Any  # the body answered (dict for the Web API, str for upload/response URLs)

    @property
    def ok(self) -> bool:
        return self.status == 200 and (not isinstance(self.response, dict) or bool(self.response.get("ok")))

    @property
    def error(self) -> str | None:
        return self.response.get("error") if isinstance(self.response, dict) else None


@dataclass
class Message:
    """A successfully posted/updated/ephemeral message or a response_url POST, in arrival order."""

    kind: str  # "chat.postMessage" | "chat.update" | "chat.postEphemeral" | "response_url"
    channel: str | None
    ts: str | None
    text: str | None
    blocks: list[JsonDict] | None
    attachments: list[JsonDict] | None
    thread_ts: str | None
    user: str | None  # recipient of an ephemeral message
    args: JsonDict
    time: float
    response_url_id: str | None = None
    response_type: str | None = None  # response_url: "ephemeral" | "in_channel"
    replace_original: bool | None = None
    delete_original: bool | None = None


@dataclass
class UploadedFile:
    """A file shared with ``files.completeUploadExternal`` (bytes from the upload URL POST)."""

    id: str
    name: str
    title: str | None
    content: bytes
    channel: str | None
    channels: list[str]
    thread_ts: str | None
    initial_comment: str | None
    length: int | None  # as announced to files.getUploadURLExternal
    alt_txt: str | None
    snippet_type: str | None
    time: float


@dataclass
class Ack:
    """An acknowledgement the Socket Mode client sent for an envelope."""

    envelope_id: str
    payload: JsonDict | None
    message: JsonDict  # the whole frame, e.g. {"envelope_id": "...", "payload": {"text": "..."}}
    sent_at: float | None  # monotonic time the envelope went out (None if the envelope is unknown)
    acked_at: float
    connection_id: int

    @property
    def latency(self) -> float | None:
        """Seconds from sending the envelope to receiving its ack."""
        return None if self.sent_at is None else self.acked_at - self.sent_at


@dataclass
class Envelope:
    """A Socket Mode envelope the fake pushed to a client."""

    envelope_id: str
    type: str  # "slash_commands" | "events_api" | "interactive"
    body: JsonDict  # the full frame
    sent_at: float
    connection_id: int


@dataclass
class ConnectionInfo:
    id: int
    ticket: str
    opened_at: float
    closed_at: float | None = None


@dataclass
class _Failure:
    error: str | None = None
    retry_after: int | None = None  # set -> HTTP 429


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


class _NotConnected(Exception):
    pass


@dataclass
class _Conn:
    info: ConnectionInfo
    ws: web.WebSocketResponse
    closing: bool = False


def _tz_offset(tz: str) -> int:
    try:
        from zoneinfo import ZoneInfo

        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0
    except Exception:
        return 0


def _parse_json_args(args: JsonDict) -> None:
    for key in JSON_ARGS & args.keys():
        value = args[key]
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)


def _as_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


# ----------------------------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------------------------


class FakeSlackServer:
    """Fake Slack Web API + Socket Mode server. See the module docstring."""

    def __init__(
        self,
        *,
        team_id: str = "T_TEST",
        team_name: str = "Test Team",
        team_domain: str = "test-team",
        app_id: str = "A_TEST",
        bot_user_id: str = "U_BOT",
        bot_id: str = "B_BOT",
        bot_name: str = "audience-bot",
        bot_token: str | None = None,
        app_token: str | None = None,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        reject_invalid_blocks: bool = True,
        trigger_ttl: float | None = 3.0,
        server_ping_interval: float | None = 0.25,
    ) -> None:
        """``bot_token``/``app_token``: when set, only that exact token is accepted (else any ``xoxb-``/``xoxp-``
        resp. ``xapp-`` token). ``users``: extra users for ``users.info`` (id -> ``add_user`` keyword args).
        ``trigger_ttl``: trigger_ids the fake issued expire after this many seconds (``expired_trigger_id``).
        ``server_ping_interval``: the server pings each socket this often (Slack pings too). Besides keeping the
        socket busy, this wakes the builtin client's blocking ``recv`` so ``handler.close()`` returns in well
        under a second instead of waiting out the client's 3 s socket timeout. ``None`` disables it."""
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.bot_token = bot_token
        self.app_token = app_token
        self.reject_invalid_blocks = reject_invalid_blocks
        self.trigger_ttl = trigger_ttl
        self.server_ping_interval = server_ping_interval

        self._cond = threading.Condition()  # guards everything below
        self._calls: list[Call] = []
        self._messages: list[Message] = []
        self._files: list[UploadedFile] = []
        self._pending_uploads: dict[str, JsonDict] = {}
        self._history: dict[str, dict[str, JsonDict]] = defaultdict(dict)  # channel -> ts -> message
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._not_in_channel: set[str] = set()
        self._users: dict[str, JsonDict] = {}
        self._channels: dict[str, JsonDict] = {}
        self._views: dict[str, JsonDict] = {}
        self._response_urls: dict[str, JsonDict] = {}
        self._triggers: dict[str, float] = {}
        self._used_triggers: set[str] = set()
        self._tickets: set[str] = set()
        self._conns: list[_Conn] = []  # live sockets, oldest first
        self._connections: list[ConnectionInfo] = []  # every socket ever accepted
        self._envelopes: dict[str, Envelope] = {}
        self._acks: list[Ack] = []
        self._received: list[Any] = []  # every text frame from clients (parsed JSON when possible)
        self._server_errors: list[BaseException] = []
        self._custom: dict[str, Callable[[JsonDict], JsonDict]] = {}
        self._counter = 0
        self._last_ts_us = 0

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._port: int | None = None

        self._handlers: dict[str, Callable[[JsonDict, str | None], JsonDict]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "reactions.add": self._reactions,
            "reactions.remove": self._reactions,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

        self.add_user(bot_user_id, name=bot_name, is_bot=True)
        self.add_user("U_USER", name="test.user", real_name="Test User", tz="America/New_York")
        for user_id, attrs in (users or {}).items():
            self.add_user(user_id, **dict(attrs))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("FakeSlackServer already started")
        self._ready.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._thread_main, name="fake-slack-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("FakeSlackServer did not start within 15 s")
        if self._start_error is not None:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError("FakeSlackServer failed to start") from self._start_error
        return self

    def stop(self) -> None:
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(15)
        if thread.is_alive():
            raise RuntimeError("FakeSlackServer thread did not stop within 15 s")
        self._thread = None
        self._loop = None
        self._stop_event = None
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._port is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlackServer is not running")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """``WebClient(base_url=...)`` value (ends with ``/``)."""
        return f"{self.base_url}/api/"

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported through start()
            self._start_error = exc
            logger.exception("fake Slack server crashed")
        finally:
            self._port = None
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._port = int(runner.addresses[0][1])
            self._ready.set()
            await self._stop_event.wait()
            await self._close_sockets(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        finally:
            await runner.cleanup()

    def _submit(self, coro: Any, timeout: float) -> Any:
        loop = self._loop
        if loop is None or not self.running:
            coro.close()
            raise RuntimeError("FakeSlackServer is not running")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    # ------------------------------------------------------------------ configuration

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        is_bot: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        tz: str = "UTC",
        deleted: bool = False,
        is_admin: bool = False,
        email: str | None = None,
        **extra: Any,
    ) -> JsonDict:
        """Add (or replace) a user for ``users.info``. ``is_restricted`` = guest (multi-channel),
        ``is_ultra_restricted`` = single-channel guest. Returns the Slack user object."""
        name = name or user_id.lower()
        real_name = real_name or name
        user: JsonDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": _tz_offset(tz),
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "team": self.team_id,
                **({"email": email} if email else {}),
                **({"bot_id": self.bot_id, "api_app_id": self.app_id} if user_id == self.bot_user_id else {}),
            },
            "is_admin": is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": is_restricted,
            "is_ultra_restricted": is_ultra_restricted,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            **extra,
        }
        with self._cond:
            self._users[user_id] = user
        return user

    def add_channel(
        self, channel_id: str, *, name: str | None = None, is_private: bool = False, is_im: bool = False, **extra: Any
    ) -> JsonDict:
        """Register channel details for ``conversations.info`` (unregistered IDs get synthesized info)."""
        channel = self._channel_object(channel_id, name=name, is_private=is_private, is_im=is_im)
        channel.update(extra)
        with self._cond:
            self._channels[channel_id] = channel
        return channel

    def set_not_in_channel(self, channel_id: str, not_in_channel: bool = True) -> None:
        """The bot is (not) a member of ``channel_id``: posting there answers ``not_in_channel``
        (``conversations.join`` makes it a member again)."""
        with self._cond:
            if not_in_channel:
                self._not_in_channel.add(channel_id)
            else:
                self._not_in_channel.discard(channel_id)

    def fail_next(self, method: str, error: str = "not_in_channel", *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}`` (queued in order with
        ``rate_limit_next``). Works for ``"upload_url"``/``"response_url"`` too (HTTP 500/404 with the text)."""
        with self._cond:
            self._failures[method].extend(_Failure(error=error) for _ in range(times))

    def rate_limit_next(self, method: str, retry_after: int = 1, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After: retry_after``."""
        with self._cond:
            self._failures[method].extend(_Failure(error="ratelimited", retry_after=retry_after) for _ in range(times))

    def register_method(self, method: str, handler: Callable[[JsonDict], JsonDict]) -> None:
        """Answer ``method`` with ``handler(args)`` (``"ok": true`` added unless present). Raise ``KeyError`` or
        return ``{"ok": False, "error": ...}`` for errors. Also overrides a built-in method."""
        with self._cond:
            self._custom[method] = handler

    def response_url(self, response_id: str, *, channel_id: str | None = None, user_id: str | None = None) -> str:
        """A response_url on this server; POSTs to it are recorded (``calls("response_url")``, ``messages()``)."""
        with self._cond:
            entry = self._response_urls.setdefault(response_id, {"channel": None, "user": None})
            if channel_id is not None:
                entry["channel"] = channel_id
            if user_id is not None:
                entry["user"] = user_id
        return f"{self.base_url}/response/{quote(response_id, safe='')}"

    def forget_records(self) -> None:
        """Drop what was recorded so far (calls, messages, files, envelopes, acks, frames, history, views,
        response URLs, triggers). For long benchmarks that measure the memory of the app under test:
        otherwise the fake's own records grow with every request."""
        with self._cond:
            for records in (self._calls, self._messages, self._files, self._acks, self._received):
                records.clear()
            for table in (self._history, self._envelopes, self._views, self._response_urls, self._triggers):
                table.clear()
            self._used_triggers.clear()

    def new_ts(self) -> str:
        """A fresh, strictly increasing Slack timestamp ("1700000000.000123")."""
        with self._cond:
            now = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
            self._last_ts_us = now
        return f"{now // 1_000_000}.{now % 1_000_000:06d}"

    def new_trigger_id(self) -> str:
        """A trigger_id valid for ``trigger_ttl`` seconds and a single ``views.open``/``views.push``."""
        trigger_id = f"{int(time.time())}.{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex}"
        with self._cond:
            self._triggers[trigger_id] = time.monotonic()
        return trigger_id

    # ------------------------------------------------------------------ recorded data

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str | None = None, *, kind: str | None = None) -> list[Message]:
        """postMessage/update/postEphemeral/response_url messages that succeeded, in arrival order."""
        with self._cond:
            return [
                m
                for m in self._messages
                if (channel is None or m.channel == channel) and (kind is None or m.kind == kind)
            ]

    def history(self, channel: str) -> list[JsonDict]:
        """The channel's current bot messages (updates applied, deletions removed), oldest first."""
        with self._cond:
            return [dict(m) for _, m in sorted(self._history.get(channel, {}).items())]

    def files(self) -> list[UploadedFile]:
        with self._cond:
            return list(self._files)

    def views(self) -> list[JsonDict]:
        """Every view opened/pushed/updated/published (as stored, with id and hash)."""
        with self._cond:
            return [dict(v) for v in self._views.values()]

    @property
    def acks(self) -> list[Ack]:
        with self._cond:
            return list(self._acks)

    @property
    def envelopes(self) -> list[Envelope]:
        with self._cond:
            return list(self._envelopes.values())

    def envelope(self, envelope_id: str) -> Envelope:
        with self._cond:
            return self._envelopes[envelope_id]

    @property
    def received(self) -> list[Any]:
        """Every text frame the clients sent (acks included), parsed JSON when possible."""
        with self._cond:
            return list(self._received)

    @property
    def server_errors(self) -> list[BaseException]:
        """Exceptions raised inside the fake's handlers (should stay empty)."""
        with self._cond:
            return list(self._server_errors)

    @property
    def connections(self) -> list[ConnectionInfo]:
        with self._cond:
            return list(self._connections)

    @property
    def connected(self) -> bool:
        with self._cond:
            return any(not c.closing for c in self._conns)

    @property
    def total_connections(self) -> int:
        with self._cond:
            return len(self._connections)

    def _wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
                self._cond.wait(remaining)

    def wait_for(self, predicate: Callable[[Call], bool] | str, timeout: float = 5.0, *, count: int = 1) -> Call:
        """Block until ``count`` recorded calls match (already recorded ones count) and return the
        ``count``-th. ``predicate`` is a ``Call -> bool`` or a method name. Raises ``TimeoutError``."""
        match = (lambda c: c.method == predicate) if isinstance(predicate, str) else predicate

        def find() -> Call | None:
            hits = [c for c in self._calls if match(c)]
            return hits[count - 1] if len(hits) >= count else None

        return self._wait(find, timeout, f"call {predicate!r} #{count}")

    def wait_message(
        self,
        predicate: Callable[[Message], bool] | None = None,
        *,
        channel: str | None = None,
        timeout: float = 5.0,
        count: int = 1,
    ) -> Message:
        """Like ``wait_for`` for ``messages()``."""

        def find() -> Message | None:
            hits = [
                m
                for m in self._messages
                if (channel is None or m.channel == channel) and (predicate is None or predicate(m))
            ]
            return hits[count - 1] if len(hits) >= count else None

        return self._wait(find, timeout, f"message #{count} (channel={channel!r})")

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """Block until the client acks ``envelope_id``; the ``Ack`` has ``payload`` and ``latency``."""

        def find() -> Ack | None:
            return next((a for a in self._acks if a.envelope_id == envelope_id), None)

        return self._wait(find, timeout, f"ack of envelope {envelope_id}")

    def wait_connected(self, timeout: float = 5.0, *, min_total: int = 1) -> ConnectionInfo:
        """Block until a client socket is open and at least ``min_total`` sockets were accepted in total
        (``min_total=previous total + 1`` waits for a reconnect). Returns the newest live connection."""

        def find() -> ConnectionInfo | None:
            live = [c for c in self._conns if not c.closing]
            return live[-1].info if live and len(self._connections) >= min_total else None

        return self._wait(find, timeout, f"a Socket Mode connection (total >= {min_total})")

    # ------------------------------------------------------------------ validation

    def assert_all_messages_valid(self) -> None:
        """Validate the Block Kit of every message/update/ephemeral/response_url POST and every view the bot
        sent -- including ones the fake rejected -- and Slack's limits. Raises ``BlockKitError``."""
        errors: list[str] = []
        with self._cond:
            calls = list(self._calls)
        for i, call in enumerate(calls):
            if call.method in (*MESSAGE_METHODS, RESPONSE_URL):
                problems = _message_errors(call.args)
            elif call.method in VIEW_METHODS:
                problems = _view_errors(call.args.get("view"))
            else:
                continue
            errors += [f"call #{i} {call.method}: {p}" for p in problems]
        if errors:
            raise BlockKitError(errors)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_args(self, request: web.Request) -> tuple[JsonDict, str | None]:
        args: JsonDict = dict(request.query)
        error: str | None = None
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if isinstance(part, web.BodyPartReader) and part.name:
                    if part.filename is not None:
                        args[part.name] = bytes(await part.read(decode=True))
                    else:
                        args[part.name] = await part.text()
        else:
            raw = await request.read()
            if raw:
                if request.content_type == "application/json":
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body, error = None, "invalid_json"
                    if isinstance(body, dict):
                        args.update(body)
                    elif error is None:
                        error = "invalid_json"
                else:
                    args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        _parse_json_args(args)
        return args, error

    def _record(
        self,
        method: str,
        args: JsonDict,
        request: web.Request,
        token: str | None,
        arrived: float,
        status: int,
        body: Any,
    ) -> None:
        # caller holds self._cond
        self._calls.append(Call(method, args, dict(request.headers), token, arrived, status, body))
        self._cond.notify_all()

    def _pop_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    async def _handle_api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        args, parse_error = await self._read_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        body_token = args.pop("token", None)
        token = token or (body_token if isinstance(body_token, str) else None)
        headers: dict[str, str] = {}
        status = 200
        with self._cond:
            failure = self._pop_failure(method)
            if failure is not None and failure.retry_after is not None:
                status = 429
                headers["Retry-After"] = str(failure.retry_after)
                body: JsonDict = {"ok": False, "error": "ratelimited"}
            elif failure is not None:
                body = {"ok": False, "error": failure.error}
            elif parse_error is not None:
                body = {"ok": False, "error": parse_error}
            else:
                body = self._dispatch(method, args, token)
            self._record(method, args, request, token, arrived, status, body)
        return web.json_response(body, status=status, headers=headers)

    def _dispatch(self, method: str, args: JsonDict, token: str | None) -> JsonDict:
        custom = self._custom.get(method)
        builtin = self._handlers.get(method)
        if custom is None and builtin is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        auth_error = self._check_token(method, token)
        if auth_error is not None:
            return {"ok": False, "error": auth_error}
        try:
            if custom is not None:
                try:
                    result = dict(custom(args))
                except KeyError as exc:
                    raise _ApiError("invalid_arguments", response_metadata={"messages": [f"missing {exc}"]}) from exc
                result.setdefault("ok", True)
                return result
            assert builtin is not None
            return {"ok": True, **builtin(args, token)}
        except _ApiError as exc:
            return {"ok": False, "error": exc.error, **exc.extra}
        except Exception as exc:
            logger.exception("fake Slack handler for %s failed", method)
            self._server_errors.append(exc)
            return {"ok": False, "error": "fatal_error"}

    def _check_token(self, method: str, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return "not_allowed_token_type"
            return "invalid_auth" if self.app_token is not None and token != self.app_token else None
        if token.startswith("xapp-"):
            return "not_allowed_token_type"
        if self.bot_token is not None:
            return None if token == self.bot_token else "invalid_auth"
        return None if token.startswith(("xoxb-", "xoxp-")) else "invalid_auth"

    async def _handle_upload(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        file_id = request.match_info["file_id"]
        content = await request.read()
        args: JsonDict = {"file_id": file_id, "length": len(content)}
        with self._cond:
            failure = self._pop_failure(UPLOAD_URL)
            if failure is not None:
                status = 429 if failure.retry_after is not None else 500
                text = str(failure.error)
            elif file_id not in self._pending_uploads:
                status, text = 404, "file_not_found"
            else:
                self._pending_uploads[file_id]["content"] = content
                status, text = 200, f"OK - {len(content)}"
            self._record(UPLOAD_URL, args, request, None, arrived, status, text)
        retry = {"Retry-After": str(failure.retry_after)} if failure and failure.retry_after is not None else None
        return web.Response(status=status, text=text, headers=retry)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        rid = request.match_info["rid"]
        args, parse_error = await self._read_args(request)
        if isinstance(args.get("payload"), str):  # form-encoded payload=<json>
            with contextlib.suppress(ValueError):
                args = {**json.loads(args.pop("payload")), **args}
                _parse_json_args(args)
        with self._cond:
            failure = self._pop_failure(RESPONSE_URL)
            entry = self._response_urls.get(rid)
            if failure is not None:
                status = 429 if failure.retry_after is not None else 404
                text = str(failure.error)
            elif entry is None:
                status, text = 404, "no_active_hooks"
            elif parse_error is not None:
                status, text = 400, parse_error
            elif self.reject_invalid_blocks and _message_errors(args):
                status, text = 400, "invalid_blocks"
            else:
                status, text = 200, "ok"
                self._messages.append(
                    Message(
                        kind=RESPONSE_URL,
                        channel=entry["channel"],
                        ts=None,
                        text=args.get("text"),
                        blocks=args.get("blocks"),
                        attachments=args.get("attachments"),
                        thread_ts=args.get("thread_ts"),
                        user=entry["user"],
                        args=args,
                        time=arrived,
                        response_url_id=rid,
                        response_type=args.get("response_type"),
                        replace_original=_as_bool(args.get("replace_original")),
                        delete_original=_as_bool(args.get("delete_original")),
                    )
                )
            self._record(RESPONSE_URL, {**args, "response_url_id": rid}, request, None, arrived, status, text)
        retry = {"Retry-After": str(failure.retry_after)} if failure and failure.retry_after is not None else None
        return web.Response(status=status, text=text, headers=retry)

    # ------------------------------------------------------------------ Web API methods (hold self._cond)

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:08d}"

    def _channel_object(
        self, channel_id: str, *, name: str | None = None, is_private: bool | None = None, is_im: bool | None = None
    ) -> JsonDict:
        is_im = channel_id.startswith("D") if is_im is None else is_im
        is_private = channel_id.startswith("G") if is_private is None else is_private
        name = name or channel_id.lower()
        return {
            "id": channel_id,
            "name": name,
            "name_normalized": name,
            "is_channel": not is_im and not is_private,
            "is_group": is_private and not is_im,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": is_private or is_im,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "created": 1_600_000_000,
            "creator": "U_USER",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _require(self, args: JsonDict, key: str, error: str = "invalid_arguments") -> Any:
        value = args.get(key)
        if value in (None, ""):
            raise _ApiError(error, response_metadata={"messages": [f"[ERROR] missing required field: {key}"]})
        return value

    def _check_member(self, channel: str) -> None:
        if channel in self._not_in_channel:
            raise _ApiError("not_in_channel")

    def _check_message_content(self, args: JsonDict) -> None:
        if isinstance(args.get("blocks"), str):
            raise _ApiError("invalid_blocks_format")
        if isinstance(args.get("attachments"), str):
            raise _ApiError("invalid_attachments")
        text = args.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
            raise _ApiError("msg_too_long")
        if self.reject_invalid_blocks:
            problems = _message_errors(args)
            if problems:
                raise _ApiError(
                    "invalid_blocks",
                    errors=problems,
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                )

    def _message_object(self, args: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": args.get("text") or "",
            "ts": ts,
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.bot_name, "team_id": self.team_id},
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    def _add_message(self, kind: str, channel: str, ts: str | None, args: JsonDict, *, user: str | None = None) -> None:
        self._messages.append(
            Message(
                kind=kind,
                channel=channel,
                ts=ts,
                text=args.get("text"),
                blocks=args.get("blocks"),
                attachments=args.get("attachments"),
                thread_ts=args.get("thread_ts"),
                user=user,
                args=args,
                time=time.monotonic(),
            )
        )

    def _auth_test(self, args: JsonDict, token: str | None) -> JsonDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: JsonDict, token: str | None) -> JsonDict:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}&app_id={self.app_id}"}

    def _chat_post_message(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        self._check_member(channel)
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise _ApiError("no_text")
        self._check_message_content(args)
        ts = self.new_ts()
        message = self._message_object(args, ts)
        self._history[channel][ts] = message
        self._add_message("chat.postMessage", channel, ts, args)
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_update(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        ts = self._require(args, "ts", "message_not_found")
        existing = self._history.get(channel, {}).get(ts)
        if existing is None:
            raise _ApiError("message_not_found")
        self._check_message_content(args)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                existing[key] = args[key]
        existing["edited"] = {"user": self.bot_user_id, "ts": self.new_ts()}
        self._add_message("chat.update", channel, ts, args)
        return {"channel": channel, "ts": ts, "text": existing.get("text", ""), "message": dict(existing)}

    def _chat_post_ephemeral(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        user = self._require(args, "user", "user_not_found")
        self._check_member(channel)
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise _ApiError("no_text")
        self._check_message_content(args)
        ts = self.new_ts()
        self._add_message("chat.postEphemeral", channel, ts, args, user=user)
        return {"message_ts": ts}

    def _chat_delete(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        ts = self._require(args, "ts", "message_not_found")
        if self._history.get(channel, {}).pop(ts, None) is None:
            raise _ApiError("message_not_found")
        return {"channel": channel, "ts": ts}

    def _chat_get_permalink(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        ts = self._require(args, "message_ts", "message_not_found")
        return {
            "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _store_view(self, view: Any, *, view_id: str | None = None) -> JsonDict:
        if isinstance(view, str) or not isinstance(view, dict):
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] view must be a JSON object"]})
        problems = _view_errors(view)
        if problems and self.reject_invalid_blocks:
            raise _ApiError(
                "invalid_arguments", errors=problems, response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
            )
        view_id = view_id or self._next_id("V")
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": uuid.uuid4().hex[:16],
            "state": {"values": {}},
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
        }
        self._views[view_id] = stored
        return stored

    def _views_open(self, args: JsonDict, token: str | None) -> JsonDict:
        trigger_id = self._require(args, "trigger_id")
        issued = self._triggers.get(trigger_id)
        if issued is not None:
            if trigger_id in self._used_triggers:
                raise _ApiError("exchanged_trigger_id")
            if self.trigger_ttl is not None and time.monotonic() - issued > self.trigger_ttl:
                raise _ApiError("expired_trigger_id")
        view = self._require(args, "view")
        stored = self._store_view(view)
        if issued is not None:
            self._used_triggers.add(trigger_id)
        return {"view": stored}

    def _views_update(self, args: JsonDict, token: str | None) -> JsonDict:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((k for k, v in self._views.items() if v.get("external_id") == args["external_id"]), None)
        if not view_id or view_id not in self._views:
            raise _ApiError("not_found")
        return {"view": self._store_view(self._require(args, "view"), view_id=view_id)}

    def _views_publish(self, args: JsonDict, token: str | None) -> JsonDict:
        user_id = self._require(args, "user_id")
        if user_id not in self._users:
            raise _ApiError("user_not_found")
        return {"view": self._store_view(self._require(args, "view"), view_id=f"VH_{user_id}")}

    def _users_info(self, args: JsonDict, token: str | None) -> JsonDict:
        user = self._users.get(self._require(args, "user", "user_not_found"))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": json.loads(json.dumps(user))}

    def _conversations_info(self, args: JsonDict, token: str | None) -> JsonDict:
        channel_id = self._require(args, "channel", "channel_not_found")
        channel = dict(self._channels.get(channel_id) or self._channel_object(channel_id))
        channel["is_member"] = channel_id not in self._not_in_channel
        return {"channel": channel}

    def _conversations_join(self, args: JsonDict, token: str | None) -> JsonDict:
        channel_id = self._require(args, "channel", "channel_not_found")
        self._not_in_channel.discard(channel_id)
        channel = dict(self._channels.get(channel_id) or self._channel_object(channel_id))
        channel["is_member"] = True
        return {"channel": channel}

    def _conversations_open(self, args: JsonDict, token: str | None) -> JsonDict:
        if args.get("channel"):
            return {"channel": {"id": args["channel"]}}
        users = self._require(args, "users", "users_list_not_supplied")
        users = users if isinstance(users, str) else ",".join(users)
        return {"channel": {"id": "D_" + users.replace(",", "_")}}

    def _reactions(self, args: JsonDict, token: str | None) -> JsonDict:
        self._require(args, "channel", "channel_not_found")
        self._require(args, "name", "invalid_name")
        self._require(args, "timestamp", "message_not_found")
        return {}

    def _files_get_upload_url(self, args: JsonDict, token: str | None) -> JsonDict:
        filename = self._require(args, "filename")
        length = self._require(args, "length")
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise _ApiError("invalid_arguments") from None
        file_id = self._next_id("F")
        self._pending_uploads[file_id] = {
            "filename": filename,
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"),
            "content": None,
        }
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: JsonDict, token: str | None) -> JsonDict:
        files = self._require(args, "files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        channels = args.get("channels") or []
        if isinstance(channels, str):
            channels = [c for c in channels.split(",") if c]
        channel = args.get("channel_id") or (channels[0] if channels else None)
        for target in ([channel] if channel else []) + list(channels):
            self._check_member(target)
        for item in files:
            if not isinstance(item, dict) or item.get("id") not in self._pending_uploads:
                raise _ApiError("file_not_found")
        now = time.monotonic()
        answered = []
        for item in files:
            pending = self._pending_uploads.pop(item["id"])
            content = pending["content"] if pending["content"] is not None else b""
            title = item.get("title") or pending["filename"]
            self._files.append(
                UploadedFile(
                    id=item["id"],
                    name=pending["filename"],
                    title=title,
                    content=content,
                    channel=channel,
                    channels=list(channels) or ([channel] if channel else []),
                    thread_ts=args.get("thread_ts"),
                    initial_comment=args.get("initial_comment"),
                    length=pending["length"],
                    alt_txt=pending["alt_txt"],
                    snippet_type=pending["snippet_type"],
                    time=now,
                )
            )
            answered.append(
                {
                    "id": item["id"],
                    "created": int(time.time()),
                    "timestamp": int(time.time()),
                    "name": pending["filename"],
                    "title": title,
                    "mimetype": "application/octet-stream",
                    "filetype": "binary",
                    "user": self.bot_user_id,
                    "size": len(content),
                    "is_public": channel is not None,
                    "url_private": f"{self.base_url}/files/{item['id']}",
                }
            )
        return {"files": answered}

    # ------------------------------------------------------------------ Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._cond:
            known = ticket in self._tickets
        if not known:
            return web.Response(status=401, text="invalid_ticket")
        ws = web.WebSocketResponse(autoping=True, compress=False, timeout=2.0)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="websocket upgrade expected")
        await ws.prepare(request)
        with self._cond:
            info = ConnectionInfo(id=len(self._connections) + 1, ticket=ticket, opened_at=time.monotonic())
            conn = _Conn(info=info, ws=ws)
            self._connections.append(info)
            self._conns.append(conn)
            live = sum(1 for c in self._conns if not c.closing)
            self._cond.notify_all()
        keepalive = asyncio.create_task(self._keepalive(ws)) if self.server_ping_interval else None
        try:
            hello = {
                "type": "hello",
                "num_connections": live,
                "debug_info": {
                    "host": "applink-fake-1",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            await ws.send_str(json.dumps(hello))
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_text(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        except ConnectionError:
            pass
        finally:
            if keepalive is not None:
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keepalive
            with self._cond:
                conn.closing = True
                if conn in self._conns:
                    self._conns.remove(conn)
                info.closed_at = time.monotonic()
                self._cond.notify_all()
        return ws

    async def _keepalive(self, ws: web.WebSocketResponse) -> None:
        assert self.server_ping_interval is not None
        while not ws.closed:
            await asyncio.sleep(self.server_ping_interval)
            if ws.closed:
                break
            try:
                await ws.ping(b"fake-slack-keepalive")
            except Exception:
                break

    def _on_client_text(self, conn: _Conn, data: str) -> None:
        now = time.monotonic()
        try:
            message: Any = json.loads(data)
        except ValueError:
            message = data
        with self._cond:
            self._received.append(message)
            if isinstance(message, dict) and "envelope_id" in message:
                envelope = self._envelopes.get(message["envelope_id"])
                self._acks.append(
                    Ack(
                        envelope_id=message["envelope_id"],
                        payload=message.get("payload"),
                        message=message,
                        sent_at=envelope.sent_at if envelope else None,
                        acked_at=now,
                        connection_id=conn.info.id,
                    )
                )
            self._cond.notify_all()

    async def _send_on_newest(self, body: JsonDict) -> None:
        with self._cond:
            live = [c for c in self._conns if not c.closing and not c.ws.closed]
            if not live:
                raise _NotConnected
            conn = live[-1]
            self._envelopes[body["envelope_id"]] = Envelope(
                envelope_id=body["envelope_id"],
                type=body["type"],
                body=body,
                sent_at=time.monotonic(),
                connection_id=conn.info.id,
            )
        try:
            await conn.ws.send_str(json.dumps(body))
        except ConnectionError as exc:
            with self._cond:
                self._envelopes.pop(body["envelope_id"], None)
            raise _NotConnected from exc

    def _send_envelope(
        self, env_type: str, payload: JsonDict, *, accepts_response_payload: bool, timeout: float, **extra: Any
    ) -> str:
        envelope_id = str(uuid.uuid4())
        body: JsonDict = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": env_type,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        deadline = time.monotonic() + timeout
        while True:
            self.wait_connected(max(0.0, deadline - time.monotonic()))
            try:
                self._submit(self._send_on_newest(body), max(0.1, deadline - time.monotonic()))
                return envelope_id
            except _NotConnected:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no Socket Mode connection to send {env_type} on") from None
                time.sleep(0.01)

    def _user_object(self, user_id: str) -> JsonDict:
        with self._cond:
            name = self._users.get(user_id, {}).get("name", user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def send_slash_command(
        self,
        command: str = "/audience",
        text: str = "",
        *,
        user_id: str = "U_USER",
        channel_id: str = "C_TEST",
        channel_name: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        retry_attempt: int = 0,
        timeout: float = 5.0,
    ) -> str:
        """Push a ``slash_commands`` envelope (payload fields are strings, like Slack's form post). Without
        ``response_url`` a fresh ``fake.response_url(...)`` bound to the channel/user is used; without
        ``trigger_id`` a fresh one (valid ``trigger_ttl`` s). Returns the envelope_id."""
        if response_url is None:
            response_url = self.response_url(
                f"commands-{uuid.uuid4().hex[:12]}", channel_id=channel_id, user_id=user_id
            )
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or channel_id.lower(),
            "user_id": user_id,
            "user_name": self._user_object(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or self.new_trigger_id(),
        }
        extra = {"retry_attempt": retry_attempt, "retry_reason": "timeout"} if retry_attempt else {}
        return self._send_envelope("slash_commands", payload, accepts_response_payload=True, timeout=timeout, **extra)

    def send_event(
        self,
        event: Mapping[str, Any],
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str | None = None,
        *,
        event_time: int | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Push an ``events_api`` envelope wrapping ``event`` in an ``event_callback`` payload. Reuse the
        ``event_id`` with ``retry_attempt>=1`` (``retry_reason`` defaults to ``"timeout"``) to simulate
        Slack's redelivery. ``event_ts`` is added when missing. Returns the envelope_id."""
        event = dict(event)
        event.setdefault("event_ts", event.get("ts") or self.new_ts())
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": event_time or int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        if retry_reason is None:
            retry_reason = "timeout" if retry_attempt else ""
        return self._send_envelope(
            "events_api",
            payload,
            accepts_response_payload=False,
            timeout=timeout,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    def send_app_mention(
        self,
        text: str,
        *,
        user_id: str = "U_USER",
        channel_id: str = "C_TEST",
        thread_ts: str | None = None,
        ts: str | None = None,
        event_id: str | None = None,
        timeout: float = 5.0,
    ) -> str:
        """``send_event`` with an ``app_mention`` event (put ``<@U_BOT>`` in ``text`` yourself)."""
        event: JsonDict = {
            "type": "app_mention",
            "user": user_id,
            "text": text,
            "ts": ts or self.new_ts(),
            "channel": channel_id,
            "team": self.team_id,
            "client_msg_id": str(uuid.uuid4()),
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return self.send_event(event, event_id, timeout=timeout)

    def retry_envelope(self, envelope_id: str, retry_reason: str = "timeout", *, timeout: float = 5.0) -> str:
        """Redeliver an earlier envelope as Slack does: same payload, new envelope_id,
        ``retry_attempt`` + 1 and ``retry_reason``. Returns the new envelope_id."""
        with self._cond:
            old = self._envelopes[envelope_id].body
        extra = {
            k: v for k, v in old.items() if k not in ("envelope_id", "payload", "type", "accepts_response_payload")
        }
        extra["retry_attempt"] = int(old.get("retry_attempt") or 0) + 1
        extra["retry_reason"] = retry_reason
        return self._send_envelope(
            old["type"],
            old["payload"],
            accepts_response_payload=old.get("accepts_response_payload", False),
            timeout=timeout,
            **extra,
        )

    def send_interactive(self, payload: Mapping[str, Any], *, timeout: float = 5.0) -> str:
        """Push an ``interactive`` envelope (block_actions, view_submission, shortcut, ...). Missing
        ``token``/``api_app_id``/``team``/``trigger_id`` are filled in; a ``block_actions`` payload without
        ``response_url`` gets one bound to its channel. Returns the envelope_id."""
        payload = dict(payload)
        kind = payload.get("type")
        payload.setdefault("token", VERIFICATION_TOKEN)
        payload.setdefault("api_app_id", self.app_id)
        payload.setdefault("team", {"id": self.team_id, "domain": self.team_domain})
        payload.setdefault("enterprise", None)
        payload.setdefault("is_enterprise_install", False)
        if kind in ("block_actions", "view_submission", "shortcut", "message_action"):
            payload.setdefault("trigger_id", self.new_trigger_id())
        if kind == "block_actions" and "response_url" not in payload:
            channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
            if channel:
                user = (payload.get("user") or {}).get("id")
                payload["response_url"] = self.response_url(
                    f"actions-{uuid.uuid4().hex[:12]}", channel_id=channel, user_id=user
                )
        accepts = kind in ("view_submission", "block_suggestion")
        return self._send_envelope("interactive", payload, accepts_response_payload=accepts, timeout=timeout)

    def send_block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str = "actions",
        action_type: str = "button",
        user_id: str = "U_USER",
        channel_id: str = "C_TEST",
        message_ts: str | None = None,
        message: Mapping[str, Any] | None = None,
        action: Mapping[str, Any] | None = None,
        timeout: float = 5.0,
    ) -> str:
        """A realistic ``block_actions`` payload for a click on a message button (override parts of the action
        with ``action``, e.g. ``{"selected_option": ...}``). Returns the envelope_id."""
        message_ts = message_ts or (message or {}).get("ts") or self.new_ts()
        act: JsonDict = {"type": action_type, "action_id": action_id, "block_id": block_id, "action_ts": self.new_ts()}
        if value is not None:
            act["value"] = value
        if action_type == "button":
            act["text"] = {"type": "plain_text", "text": value or action_id, "emoji": True}
        act.update(action or {})
        payload = {
            "type": "block_actions",
            "user": self._user_object(user_id),
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "message": dict(message)
            if message is not None
            else {"type": "message", "ts": message_ts, "user": self.bot_user_id, "bot_id": self.bot_id, "text": ""},
            "state": {"values": {}},
            "actions": [act],
        }
        return self.send_interactive(payload, timeout=timeout)

    def send_view_submission(
        self,
        callback_id: str,
        values: Mapping[str, Any] | None = None,
        *,
        user_id: str = "U_USER",
        private_metadata: str = "",
        view_id: str | None = None,
        blocks: list[JsonDict] | None = None,
        timeout: float = 5.0,
    ) -> str:
        """A ``view_submission`` payload; ``values`` is ``view.state.values``
        (``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``). Returns the envelope_id."""
        view_id = view_id or f"V{uuid.uuid4().hex[:10].upper()}"
        payload = {
            "type": "view_submission",
            "user": self._user_object(user_id),
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "blocks": blocks or [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": dict(values or {})},
                "hash": uuid.uuid4().hex[:16],
                "title": {"type": "plain_text", "text": "Modal"},
                "clear_on_close": False,
                "notify_on_close": False,
                "close": None,
                "submit": None,
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": self.app_id,
                "external_id": "",
                "app_installed_team_id": self.team_id,
                "bot_id": self.bot_id,
            },
            "response_urls": [],
        }
        return self.send_interactive(payload, timeout=timeout)

    async def _close_sockets(self, *, code: int, message: bytes, reason: str | None = None) -> None:
        with self._cond:
            conns = [c for c in self._conns if not c.closing]
            for c in conns:
                c.closing = True
            self._cond.notify_all()
        for conn in conns:
            with contextlib.suppress(Exception):
                if reason is not None:
                    await conn.ws.send_str(
                        json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}})
                    )
                await asyncio.wait_for(conn.ws.close(code=code, message=message), 5.0)

    def disconnect(self, reason: str | None = "refresh_requested", *, timeout: float = 10.0) -> None:
        """Server-side close of every live socket. With ``reason`` (default) Slack's
        ``{"type": "disconnect", "reason": ...}`` message goes first, which makes the builtin client reconnect
        at once; with ``reason=None`` only a close frame is sent and the client reconnects from its monitor
        thread within its ``ping_interval``. Returns once the sockets are closed."""
        self._submit(self._close_sockets(code=WSCloseCode.GOING_AWAY, message=b"", reason=reason), timeout)
