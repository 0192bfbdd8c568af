"""A real webhook receiver on 127.0.0.1 (http.server, port 0): checks the signature of every
request, answers from a script (500, 429 with Retry-After, a hang) before accepting, and records
the bodies it accepted and every attempt (batch id, status, when)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, secret: bytes):
        self.secret = secret
        self.accepted: list[dict] = []
        self.attempts: list[tuple[str, int, float]] = []  # (batch id, status answered, monotonic time)
        self.script: deque[str] = deque()
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(receiver.secret, raw, hashlib.sha256).hexdigest()
                given = self.headers.get("X-Audience-Signature") or ""
                if not hmac.compare_digest(given, expected) or not self.headers.get("X-Audience-Timestamp"):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    return self._answer(401)
                body = json.loads(raw)
                with receiver.lock:
                    step = receiver.script.popleft() if receiver.script else "ok"
                status = {"500": 500, "ok": 200}.get(step) or (429 if step.startswith("429:") else 504)
                with receiver.lock:  # recorded on arrival (a hang is answered 504 once the client gave up)
                    receiver.attempts.append((body["batch_id"], status, time.monotonic()))
                    if status == 200:
                        receiver.accepted.append(body)
                if step.startswith("hang:"):
                    time.sleep(float(step[5:]))
                headers = {"Retry-After": step[4:]} if status == 429 else {}
                with contextlib.suppress(OSError):  # the client gave up waiting (a hang)
                    self._answer(status, headers)

            def _answer(self, status: int, headers: dict | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/audiences"

    def reset(self, *script: str) -> None:
        with self.lock:
            self.accepted.clear()
            self.attempts.clear()
            self.script = deque(script)
            self.bad_signatures = 0

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
