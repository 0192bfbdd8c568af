"""Scripted fake OpenAI-compatible chat-completions server for tests.

A real HTTP server (stdlib ``ThreadingHTTPServer``) bound to ``127.0.0.1`` on an ephemeral
port, served from a background thread. Point any OpenAI-compatible client (LlamaIndex
``OpenRouter``/``OpenAILike``, the ``openai`` SDK, ...) at ``server.base_url``.

Each ``POST /v1/chat/completions`` pops the next scripted turn (FIFO). When the script is
empty the server answers HTTP 500 (``x-should-retry: false``) and records the request in
``exhausted`` so the test fails loudly. ``GET /v1/models`` lists ``models`` (OpenRouter's models
endpoint: ``{"data": [{"id": ...}, ...]}``); change ``server.models`` to take one away.

Usage::

    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openrouter import OpenRouter
    from tests.fakes.llm_server import FakeLLMServer

    with FakeLLMServer() as server:
        server.enqueue("Hello!", prompt_tokens=12, completion_tokens=3)
        server.enqueue_error(status=429)
        server.enqueue_delay(10.0, then="too late")   # trips clients with timeout < 10 s
        server.enqueue_garbage()                       # 200 with a non-JSON body
        llm = OpenRouter(api_key="test", model="m", api_base=server.base_url, max_retries=0)
        assert llm.chat([ChatMessage(role="user", content="hi")]).message.content == "Hello!"
        assert server.last_request["json"]["messages"] == [{"role": "user", "content": "hi"}]

As a pytest fixture::

    @pytest.fixture
    def llm_server() -> Iterator[FakeLLMServer]:
        with FakeLLMServer() as server:
            yield server

Streaming (``"stream": true``) replies are OpenAI-style SSE chunks ending in ``data: [DONE]``;
with ``stream_options.include_usage`` a final chunk with empty ``choices`` carries ``usage``.
Default token counts: prompt = characters of request message text // 4, completion =
characters of reply (content + tool-call names/arguments) // 4, each at least 1.
Responses use HTTP/1.0 (one request per connection) so no keep-alive threads outlive ``stop()``.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self

__all__ = ["FakeLLMServer", "Turn"]

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """One scripted answer. Build them with the ``FakeLLMServer.enqueue*`` methods."""

    kind: Literal["reply", "error", "delay", "garbage"]
    content: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tool_calls: list[JsonDict] | None = None
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    then: Turn | None = None
    cost: float | None = None  # OpenRouter's usage accounting: usage.cost in USD
    model: str | None = None  # the model that answered (a fallback); default: the request's model


def _error_body(message: str, err_type: str, code: str | int | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": err_type, "param": None, "code": code}}).encode()


def _text_len(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):  # multimodal parts: [{"type": "text", "text": ...}, ...]
        return sum(len(p.get("text") or "") for p in content if isinstance(p, dict))
    return 0


def _normalize_tool_call(index: int, call: Mapping[str, Any]) -> JsonDict:
    """Accept ``{"name", "arguments", "id"?}`` or OpenAI's ``{"id", "type", "function": {...}}``."""
    fn = call.get("function", call)
    args = fn.get("arguments", {})
    return {
        "id": call.get("id") or f"call_fake_{index}",
        "type": "function",
        "function": {"name": fn["name"], "arguments": args if isinstance(args, str) else json.dumps(args)},
    }


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default listen backlog (5) refuses bursts of concurrent clients
    daemon_threads = False  # join handler threads in server_close()
    block_on_close = True

    def __init__(self, fake: FakeLLMServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"
    timeout = 10  # never block a handler thread forever on a silent client

    def log_message(self, fmt: str, *args: Any) -> None:  # silence per-request stderr logging
        pass

    def do_GET(self) -> None:
        self._dispatch(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length else b"")

    def _dispatch(self, raw: bytes | None) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up (e.g. timed out)
            self.server.fake._handle(self, raw)

    def send_bytes(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: Any) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json")


class FakeLLMServer:
    """Scripted OpenAI-compatible server; see the module docstring. Thread-safe."""

    def __init__(
        self, models: Sequence[str] = ("google/gemini-3.5-flash", "google/gemini-3.1-flash-lite", "fake/model")
    ) -> None:
        self.models = list(models)
        self._lock = threading.Lock()
        self._turns: deque[Turn] = deque()
        self._requests: list[JsonDict] = []
        self._exhausted: list[JsonDict] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # ----- lifecycle -----------------------------------------------------------------------
    def start(self) -> Self:
        if self._httpd is None:
            self._stopping.clear()
            self._httpd = _HTTPServer(self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(0.02,), name="FakeLLMServer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any scripted delays and join all server threads. Idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` -- pass as ``api_base``/``base_url``."""
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # ----- scripting -----------------------------------------------------------------------
    def enqueue(
        self,
        content: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
        cost: float | None = None,
        model: str | None = None,
    ) -> None:
        """Queue a successful reply. ``tool_calls``: ``[{"name": ..., "arguments": dict|str, "id"?: ...}]``;
        ``cost``: put ``cost`` (USD) in ``usage`` as OpenRouter's usage accounting does; ``model``: answer as
        this model (as when OpenRouter fell back to one of the request's ``models``)."""
        calls = [_normalize_tool_call(i, c) for i, c in enumerate(tool_calls)] if tool_calls else None
        self._push(Turn("reply", content, prompt_tokens, completion_tokens, calls, cost=cost, model=model))

    def enqueue_error(
        self,
        status: int = 500,
        body: str | bytes | Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue an HTTP error. ``body``: None → OpenAI-style error JSON; mapping → JSON; str/bytes → raw text."""
        if body is None:
            raw, ctype = _error_body(f"scripted error {status}", "server_error", status), "application/json"
        elif isinstance(body, Mapping):
            raw, ctype = json.dumps(body).encode(), "application/json"
        else:
            raw, ctype = (body.encode() if isinstance(body, str) else body), "text/plain"
        self._push(Turn("error", status=status, body=raw, content_type=ctype, headers=dict(headers or {})))

    def enqueue_delay(self, seconds: float, then: str | None = None) -> None:
        """Sleep ``seconds`` before answering (interrupted by ``stop()``).

        Afterwards reply with ``then`` as content, or with HTTP 504 if ``then`` is None. The delayed
        request never consumes another queued turn, so a client retry gets the *next* turn.
        """
        after = (
            Turn("reply", then)
            if then is not None
            else Turn("error", status=504, body=_error_body("scripted delay elapsed", "timeout", 504))
        )
        self._push(Turn("delay", seconds=seconds, then=after))

    def enqueue_garbage(self, body: str = "<html>this is not JSON</html>") -> None:
        """Queue a 200 that claims JSON but is not (for streams: one SSE event ``data: <body>``)."""
        self._push(Turn("garbage", body=body.encode()))

    def _push(self, turn: Turn) -> None:
        with self._lock:
            self._turns.append(turn)

    def reset(self) -> None:
        """Clear the script and all recorded requests."""
        with self._lock:
            self._turns.clear()
            self._requests.clear()
            self._exhausted.clear()

    # ----- inspection ----------------------------------------------------------------------
    @property
    def requests(self) -> list[JsonDict]:
        """Snapshot list of recorded requests: ``{"method", "path", "headers" (lower-case keys), "json"}``."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> JsonDict:
        with self._lock:
            if not self._requests:
                raise AssertionError("FakeLLMServer received no requests")
            return self._requests[-1]

    @property
    def exhausted(self) -> list[JsonDict]:
        """Chat requests that arrived when the script was empty."""
        with self._lock:
            return list(self._exhausted)

    @property
    def pending(self) -> int:
        """Number of scripted turns not consumed yet."""
        with self._lock:
            return len(self._turns)

    def prompts(self) -> list[list[JsonDict]]:
        """The ``messages`` list of every chat-completions request, in order."""
        return [r["json"]["messages"] for r in self.requests if r["path"] == CHAT_PATH and isinstance(r["json"], dict)]

    def assert_script_consumed(self) -> None:
        """Fail if turns are left over or any request found the script empty."""
        with self._lock:
            pending, exhausted = len(self._turns), len(self._exhausted)
        if pending or exhausted:
            raise AssertionError(f"FakeLLMServer: {pending} turn(s) unused, {exhausted} request(s) hit an empty script")

    # ----- request handling (server threads) -----------------------------------------------
    def _handle(self, h: _Handler, raw: bytes | None) -> None:
        path = h.path.split("?", 1)[0].rstrip("/")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = {
            "method": h.command,
            "path": path,
            "headers": {k.lower(): v for k, v in h.headers.items()},
            "json": body,
        }
        with self._lock:
            self._requests.append(record)
            self._counter += 1
            seq = self._counter
            turn: Turn | None = None
            if h.command == "POST" and path == CHAT_PATH and isinstance(body, dict):
                if self._turns:
                    turn = self._turns.popleft()
                else:
                    self._exhausted.append(record)

        if h.command == "GET" and path == MODELS_PATH:
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
            return h.send_json(200, {"object": "list", "data": data})
        if path != CHAT_PATH or h.command != "POST":
            return h.send_bytes(404, _error_body(f"no route {h.command} {path}", "not_found", 404), "application/json")
        if not isinstance(body, dict):
            return h.send_bytes(
                400, _error_body("request body is not a JSON object", "invalid_request_error"), "application/json"
            )
        if turn is None:
            msg = f"FakeLLMServer script exhausted: no turn queued for request #{seq}"
            return h.send_bytes(
                500,
                _error_body(msg, "fake_script_exhausted", "script_exhausted"),
                "application/json",
                {"x-should-retry": "false"},
            )
        self._answer(h, turn, body, seq)

    def _answer(self, h: _Handler, turn: Turn, body: JsonDict, seq: int) -> None:
        if turn.kind == "delay":
            if self._stopping.wait(turn.seconds):
                return  # server is stopping: drop the connection
            assert turn.then is not None
            return self._answer(h, turn.then, body, seq)
        if turn.kind == "error":
            return h.send_bytes(turn.status, turn.body, turn.content_type, turn.headers)
        if turn.kind == "garbage":  # for streams, a non-JSON SSE event (plain garbage would be silently skipped)
            if body.get("stream"):
                return h.send_bytes(200, b"data: " + turn.body + b"\n\n", "text/event-stream")
            return h.send_bytes(200, turn.body, "application/json")

        model = turn.model or str(body.get("model", "fake/model"))
        messages = body.get("messages") or []
        prompt_tokens = turn.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = max(1, sum(_text_len(m.get("content")) for m in messages if isinstance(m, dict)) // 4)
        completion_tokens = turn.completion_tokens
        if completion_tokens is None:
            tool_chars = sum(
                len(c["function"]["name"]) + len(c["function"]["arguments"]) for c in turn.tool_calls or []
            )
            completion_tokens = max(1, (len(turn.content) + tool_chars) // 4)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if turn.cost is not None:
            usage["cost"] = turn.cost
        finish = "tool_calls" if turn.tool_calls else "stop"
        base = {
            "id": f"chatcmpl-fake-{seq}",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }

        if not body.get("stream"):
            message: JsonDict = {"role": "assistant", "content": turn.content or None, "refusal": None}
            if turn.tool_calls:
                message["tool_calls"] = turn.tool_calls
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            return h.send_json(200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})

        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunk_base = {**base, "object": "chat.completion.chunk"}
        if include_usage:
            chunk_base["usage"] = None  # OpenAI sends usage: null on every chunk but the last

        def chunk(delta: JsonDict, finish_reason: str | None = None) -> JsonDict:
            return {
                **chunk_base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }

        chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
        chunks += [chunk({"content": piece}) for piece in re.findall(r"\S+\s*|\s+", turn.content)]
        for i, call in enumerate(turn.tool_calls or []):
            fn = call["function"]
            chunks.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": i,
                                "id": call["id"],
                                "type": "function",
                                "function": {"name": fn["name"], "arguments": ""},
                            }
                        ]
                    }
                )
            )
            chunks.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": fn["arguments"]}}]}))
        chunks.append(chunk({}, finish))
        if include_usage:
            chunks.append({**chunk_base, "choices": [], "usage": usage})

        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream; charset=utf-8")
        h.send_header("Cache-Control", "no-cache")
        h.end_headers()
        for c in chunks:
            h.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
            h.wfile.flush()
        h.wfile.write(b"data: [DONE]\n\n")
