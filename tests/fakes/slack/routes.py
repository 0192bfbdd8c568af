"""The HTTP side of the fake: ``POST /api/<method>``, the upload URL and response URLs.

Bodies are read as form, multipart or JSON (JSON-string arguments such as ``blocks`` or ``view`` are parsed);
the token comes from ``Authorization: Bearer`` or a ``token`` argument. Before a Web API method runs, the
queued failures of ``fail_next``/``rate_limit_next`` are answered (HTTP 429 + ``Retry-After`` for rate limits),
then the token is checked: bot tokens on ``apps.connections.open`` (or app tokens elsewhere) get
``not_allowed_token_type``. Errors are HTTP 200 + ``ok: false`` like Slack. Every request is recorded as a
``Call``, including the two pseudo-methods ``"upload_url"`` (the raw-bytes POST of ``files_upload_v2`` step 2)
and ``"response_url"`` (POSTs to ``fake.response_url(id)``, e.g. from Bolt's ``respond()``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.slack.blockkit import message_errors
from tests.fakes.slack.records import RESPONSE_URL, UPLOAD_URL, Call, JsonDict, Message, Records
from tests.fakes.slack.web_api import ApiError

logger = logging.getLogger(__name__)

# Arguments Slack accepts as JSON-encoded strings in form bodies; parsed into Python when recorded.
JSON_ARGS = frozenset({"blocks", "attachments", "view", "files", "metadata", "user_auth_blocks"})


@dataclass
class Failure:
    error: str | None = None
    retry_after: int | None = None  # set -> HTTP 429


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


class HttpRoutes(Records):
    """The aiohttp handlers of the Web API, upload and response URLs (a part of ``FakeSlackServer``, which
    holds the method table ``_handlers``, the custom methods, the queued failures and the token settings)."""

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

    def _pop_failure(self, method: str) -> Failure | None:
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
                    raise ApiError("invalid_arguments", response_metadata={"messages": [f"missing {exc}"]}) from exc
                result.setdefault("ok", True)
                return result
            assert builtin is not None
            return {"ok": True, **builtin(args, token)}
        except ApiError as exc:
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
            elif self.reject_invalid_blocks and message_errors(args):
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
