"""Socket Mode: the WebSocket the clients connect to, the envelopes pushed on it and the acks read from it.

A client gets its ``ws://`` URL (with a one-time ticket) from ``apps.connections.open``; the fake answers
``hello``, records every text frame (acks become ``Ack`` records) and pushes envelopes on the newest live
socket. ``disconnect()`` makes Slack's ``{"type": "disconnect", "reason": "refresh_requested"}`` request and
closes the socket; the client reconnects through a new ``apps.connections.open`` (``wait_connected(min_total=2)``).

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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from tests.fakes.slack.records import Ack, Conn, ConnectionInfo, Envelope, JsonDict, Records


class _NotConnected(Exception):
    pass


class SocketMode(Records):
    """The Socket Mode endpoint (a part of ``FakeSlackServer``, which holds the issued tickets, the app id,
    ``server_ping_interval`` and ``_submit`` to run a coroutine on the server's loop)."""

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
            conn = Conn(info=info, ws=ws)
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

    def _on_client_text(self, conn: Conn, data: str) -> None:
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
