"""Exporting and delivering a large audience.

python -m bench activation [--members 100000]
    fills `customers` with N (+1 %) synthetic customers (a third on gmail.com, 1 % suppressed), saves an
    audience holding all of them, then times: the Meta and Google files (screening, normalising and
    SHA-256 hashing included), a first webhook delivery (full, 1,000 members a request, signed) to
    a local receiver that checks every signature, and a delta delivery after 1 % of the membership
    changed. Peak resident memory of this process is sampled throughout (the receiver runs in it too).
    Also the card's activatable count of the whole membership (audiences.screen.counted: one statement,
    over the held ids and over a gate statement, a consent column present), beside the Python screening.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import psutil
import sqlalchemy as sa

from audiences import delivery
from audiences.destinations import Destination
from audiences.export import export_members
from audiences.model import Recipe
from audiences.refresh import Audiences
from audiences.screen import blocked_ids, counted, ids_sql
from bench.memory import PeakMemory
from bench.stores import temp_stores
from cdp import suppression
from cdp.db import get_engine
from cdp.schema import CUSTOMERS_DDL, ensure_schema
from discovery.compile import CompiledSQL
from discovery.query import AudienceQuery, CRMFilter

SECRET_ENV = "BENCH_AUDIENCE_HOOK_SECRET"
COUNTRIES = ("DE", "FR", "PL", "ES", "IT", "NL", "SE", "GB")


def _fill(engine: sa.Engine, n: int) -> None:
    buf = io.StringIO()
    for i in range(1, n + 1):
        domain = "gmail.com" if i % 3 == 0 else "example.org"
        buf.write(f"{i}\tFirst{i}\tO'Last-{i}\tFirst.Last{i}@{domain}\t{COUNTRIES[i % len(COUNTRIES)]}\t"
                  f"{20 + i % 50}\t{i % 1000}.50\tblue\t2025-01-01 00:00:00\n")  # fmt: skip
    buf.seek(0)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS customers")
        cur.execute(CUSTOMERS_DDL.format(name="customers"))
        cur.copy_expert("COPY customers FROM STDIN", buf)
        raw.commit()
    finally:
        raw.close()


def count_rows(engine: sa.Engine, ids: np.ndarray) -> list[tuple[str, float, str]]:
    """The card's count of `ids` (all the customers) with a consent column (every 7th without consent)."""
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS customer_attributes (customer_id bigint PRIMARY KEY)"))
        conn.execute(sa.text("ALTER TABLE customer_attributes ADD COLUMN IF NOT EXISTS email_opt_in boolean"))
        conn.execute(sa.text("INSERT INTO customer_attributes (customer_id, email_opt_in) "
                             "SELECT customer_id, customer_id % 7 <> 0 FROM customers ON CONFLICT DO NOTHING"))  # fmt: skip
    rows, got = [], []
    for name, count in (
        ("card count, held ids (1 statement)", lambda: counted(engine, ids_sql(ids), consent="email_opt_in")),
        ("card count, gate SQL (1 statement)", lambda: counted(
            engine, CompiledSQL("SELECT customer_id FROM customers WHERE customer_id <= :n", {"n": len(ids)}),
            consent="email_opt_in")),
        ("Python screening of the same (blocked_ids)", lambda: blocked_ids(engine, ids, consent="email_opt_in")[1]),
    ):  # fmt: skip
        t = time.perf_counter()
        s = count()
        rows.append((name, time.perf_counter() - t, s.describe()))
        got.append((s.kept, +s.left_out))
    assert got[0] == got[1] == got[2], got
    return rows


class _Receiver:
    def __init__(self, secret: bytes):
        self.members = 0
        self.requests = 0
        self.bad = 0
        me = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                good = hmac.compare_digest(
                    self.headers.get("X-Audience-Signature", ""),
                    "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest(),
                )
                body = json.loads(raw)
                me.requests += 1
                me.bad += not good
                me.members += len(body["added"]) + len(body["removed"])
                self.send_response(200 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def activation_bench(n: int = 100_000) -> str:
    secret = "bench-secret"
    os.environ[SECRET_ENV] = secret
    rss0 = psutil.Process().memory_info().rss
    with temp_stores("activation-bench-") as settings, PeakMemory(0.05) as peak:
        engine = get_engine(settings)
        ensure_schema(engine)
        t = time.perf_counter()
        _fill(engine, n + n // 100)  # the last 1 % join the audience for the delta
        fill_s = time.perf_counter() - t
        suppression.add(engine, [f"First.Last{i}@example.org" for i in range(1, n + 1, 100) if i % 3])
        aud = Audiences.from_settings(settings)
        a = aud.store.save("bench all", Recipe(query=AudienceQuery(crm=CRMFilter())), owner="bench")
        ids = np.arange(1, n + 1, dtype=np.int64)
        with engine.begin() as conn:
            aud.store.record(conn, a.id, run_id=1, trigger="bench", members=ids, added=n, removed=0)
        rows: list[tuple[str, float, str]] = []
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in ("meta", "google"):
                t = time.perf_counter()
                s = export_members(engine, ids, fmt, Path(tmp) / f"bench.{fmt}.csv")
                rows.append((f"export {fmt} file", time.perf_counter() - t, s.describe()))
        rows += count_rows(engine, ids)
        receiver = _Receiver(secret.encode())
        dest = Destination(name="bench-hook", type="webhook", line=1, url=receiver.url, secret_env=SECRET_ENV)
        t = time.perf_counter()
        d = delivery.send(aud, settings, a, dest)
        rows.append(("webhook, first delivery (full)", time.perf_counter() - t, d.line().split(": ", 1)[1]))
        changed = np.concatenate([ids[n // 100 :], np.arange(n + 1, n + 1 + n // 100, dtype=np.int64)])
        with engine.begin() as conn:
            aud.store.record(conn, a.id, run_id=2, trigger="bench", members=changed, added=n // 100, removed=n // 100)
        t = time.perf_counter()
        d2 = delivery.send(aud, settings, a, dest)
        rows.append(("webhook, delta after 1 % changed", time.perf_counter() - t, d2.line().split(": ", 1)[1]))
        receiver.server.shutdown()
    out = [
        f"### Activation: {n:,} members (`python -m bench activation --members {n}`)",
        "",
        f"Setup (COPY of {n:,} customers, not timed below): {fill_s:.1f} s. Receiver: {receiver.requests} requests, "
        f"{receiver.members:,} members, {receiver.bad} bad signatures.",
        "",
        "| step | seconds | outcome |",
        "|---|---:|---|",
        *[f"| {name} | {sec:.2f} | {what} |" for name, sec, what in rows],
        "",
        f"Peak RSS of the process: {peak.python_peak / 2**20:,.0f} MiB ({(peak.python_peak - rss0) / 2**20:+,.0f} MiB "
        f"over the {rss0 / 2**20:,.0f} MiB at start; the receiver runs in the same process).",
    ]
    return "\n".join(out)
