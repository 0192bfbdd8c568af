"""The fake Slack server: one aiohttp server that ties the Web API and Socket Mode together.

Bound to ``127.0.0.1`` on an ephemeral port, it runs its own event loop in a background thread. Point the
*real* clients at it -- slack_sdk's ``WebClient`` (``base_url=fake.api_url``) and slack_bolt's builtin
``SocketModeHandler`` (it gets its ``ws://`` URL from ``apps.connections.open`` on the same server) -- and drive
the bot the way Slack would: push Socket Mode envelopes, observe the acks and the Web API calls.

Configuration: ``add_user``, ``add_channel``, ``register_method(name, fn)`` (methods the fake does not know
answer ``{"ok": false, "error": "unknown_method"}`` and are recorded). Failure injection:
``fail_next(method, error)``, ``rate_limit_next(method, retry_after)`` (HTTP 429 + ``Retry-After``, body
``{"ok": false, "error": "ratelimited"}``), ``set_not_in_channel(channel_id)``.

Protocol notes on the Web API side (slack_sdk 3.47):

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
import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import WSCloseCode, web

from tests.fakes.slack.envelopes import Envelopes
from tests.fakes.slack.records import JsonDict
from tests.fakes.slack.routes import Failure, HttpRoutes
from tests.fakes.slack.web_api import WebApi

logger = logging.getLogger(__name__)


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0
    except Exception:
        return 0


class FakeSlackServer(HttpRoutes, WebApi, Envelopes):
    """Fake Slack Web API + Socket Mode server. See the package and module docstrings."""

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

        super().__init__()
        self._pending_uploads: dict[str, JsonDict] = {}
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._not_in_channel: set[str] = set()
        self._users: dict[str, JsonDict] = {}
        self._channels: dict[str, JsonDict] = {}
        self._tickets: set[str] = set()
        self._custom: dict[str, Callable[[JsonDict], JsonDict]] = {}
        self._counter = 0
        self._last_ts_us = 0

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._port: int | None = None

        self._handlers = self._builtin_methods()

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
            self._failures[method].extend(Failure(error=error) for _ in range(times))

    def rate_limit_next(self, method: str, retry_after: int = 1, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After: retry_after``."""
        with self._cond:
            self._failures[method].extend(Failure(error="ratelimited", retry_after=retry_after) for _ in range(times))

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
