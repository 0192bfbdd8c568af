"""What the fake records: the calls it answered, the messages, files, envelopes and acks, and the reading side.

``Records`` owns the lock (a ``threading.Condition``) that guards every piece of the fake's state, the
recorded lists, and the thread-safe ways to read them and to wait for them (``wait_for``, ``wait_message``,
``wait_ack``, ``wait_connected``). ``FakeSlackServer`` is built on it.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.slack.blockkit import BlockKitError, message_errors, view_errors

JsonDict = dict[str, Any]

UPLOAD_URL = "upload_url"
RESPONSE_URL = "response_url"
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")


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
class Conn:
    info: ConnectionInfo
    ws: web.WebSocketResponse
    closing: bool = False


class Records:
    """The recorded state of a fake Slack and its thread-safe readers. All public methods are thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()  # guards everything the fake holds
        self._calls: list[Call] = []
        self._messages: list[Message] = []
        self._files: list[UploadedFile] = []
        self._history: dict[str, dict[str, JsonDict]] = defaultdict(dict)  # channel -> ts -> message
        self._views: dict[str, JsonDict] = {}
        self._response_urls: dict[str, JsonDict] = {}
        self._triggers: dict[str, float] = {}
        self._used_triggers: set[str] = set()
        self._conns: list[Conn] = []  # live sockets, oldest first
        self._connections: list[ConnectionInfo] = []  # every socket ever accepted
        self._envelopes: dict[str, Envelope] = {}
        self._acks: list[Ack] = []
        self._received: list[Any] = []  # every text frame from clients (parsed JSON when possible)
        self._server_errors: list[BaseException] = []

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
                problems = message_errors(call.args)
            elif call.method in VIEW_METHODS:
                problems = view_errors(call.args.get("view"))
            else:
                continue
            errors += [f"call #{i} {call.method}: {p}" for p in problems]
        if errors:
            raise BlockKitError(errors)
