"""Slack bot burst benchmark: the real bot (Bolt, SocketModeHandler, slack_sdk WebClient) against the fake
Slack of the tests, real PostgreSQL (embedded) / Qdrant (local) / embedder, the offline planner.

    PYTHONPATH=. .venv/bin/python -c "from bench.bot_burst import burst; print(burst())"

Three bursts of `n` slash commands (25 users x 2 questions for n=50: within the default per-user limit),
each in its own channel. Measured per burst: ack latency p50/p99 (envelope sent -> ack received), first
visible message p99 (envelope sent -> the first chat.postMessage in that command's channel), time until
every command has its card and its JSON file, and the process RSS after the burst.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter

from bench.stats import percentile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

QUESTIONS = (
    "customers who bought socks",
    "customers from Germany who spent more than 500",
    "Suggest a list of customers interested in jacket and shoes",
    "Recommend an audience for a luxury high-end fashion campaign in Poland",
    "customers by country",
    "How many customers are in the database?",
    "customers interested in hiking and outdoor",
    "customers who viewed handbags in the last 3 months",
)


def _one_burst(bot, fake, n: int, tag: str, users: list[str]) -> dict:
    from tests.bot.harness import is_progress

    channels = [f"C{tag}{i:03d}" for i in range(n)]
    envs = []
    t0 = time.monotonic()
    for i, channel in enumerate(channels):
        envs.append(
            fake.send_slash_command(
                "/audience", QUESTIONS[i % len(QUESTIONS)], user_id=users[i % len(users)], channel_id=channel
            )
        )
    acks = [fake.wait_ack(e, timeout=30) for e in envs]
    sent = {e: fake.envelope(e).sent_at for e in envs}
    first_visible, answered = [], 0
    deadline = time.monotonic() + 300
    for env, channel in zip(envs, channels, strict=True):
        first = fake.wait_message(lambda m: m.kind == "chat.postMessage", channel=channel, timeout=60)
        first_visible.append(first.time - sent[env])
        fake.wait_message(
            lambda m, ts=first.ts: m.kind == "chat.update" and m.ts == ts and not is_progress(m),
            channel=channel,
            timeout=max(1.0, deadline - time.monotonic()),
        )
        while not [f for f in fake.files() if f.channel == channel and f.name.endswith(".json")]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no JSON file in {channel}")
            time.sleep(0.01)
        answered += 1
    errors = [m for m in fake.messages() if "went wrong" in (m.text or "")]
    return {
        "ack": [a.latency for a in acks],
        "first": first_visible,
        "answered": answered,
        "errors": len(errors),
        "all_answered_s": time.monotonic() - t0,
    }


def _type_counts() -> Counter:
    """Live objects per type, for where growth between bursts comes from (the fake Slack, in this
    process, keeps every call, message, envelope and file it saw; the bot should keep nothing)."""
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


def _growth(first: Counter, last: Counter, top: int = 8) -> str:
    diff = Counter({k: last[k] - first.get(k, 0) for k in last if last[k] > first.get(k, 0)})
    return ", ".join(f"{k} +{n:,}" for k, n in diff.most_common(top)) or "none"


def burst(n: int = 50, *, customers: int = 1000, events_per_customer: float = 10, bursts: int = 3) -> str:
    """Run `bursts` bursts of `n` commands; return a Markdown summary."""
    import psutil

    import ingest
    from bench.ingest_bench import sample
    from bench.stores import temp_stores
    from bot.app import bot_context, warm_up
    from tests.bot.harness import running_bot
    from tests.fakes.slack import FakeSlackServer

    proc = psutil.Process()
    crm, events, _ = sample(customers, events_per_customer, seed=11)
    with temp_stores("bot-burst-", openrouter_api_key=None, ingest_cron="off") as settings:
        t = time.perf_counter()
        ingest.run(settings, crm, events)
        ingest_s = time.perf_counter() - t
        users = [f"U{i:03d}" for i in range(max(1, n // 2))]
        rows = []
        with FakeSlackServer() as fake:
            for u in users:
                fake.add_user(u)
            with running_bot(fake, settings) as bot:
                workers = bot_context(bot.app).settings.bot_workers
                warm_up(bot.app)  # as python -m bot does before it connects
                fake.send_slash_command("/audience", "customers who bought socks", channel_id="CWARM")  # warm-up
                fake.wait_message(lambda m: m.kind == "chat.update", channel="CWARM", timeout=60, count=2)
                for b in range(bursts):
                    r = _one_burst(bot, fake, n, f"B{b}", users)
                    fake.assert_all_messages_valid()
                    fake.forget_records()  # what remains is the bot's, not the fake's recordings
                    gc.collect()
                    r["rss_mb"] = proc.memory_info().rss / 2**20
                    r["objects"] = len(gc.get_objects())  # Python objects alive: a leak grows this
                    r["types"] = _type_counts()
                    rows.append(r)
            fake.assert_all_messages_valid()

    ms = 1000
    lines = [
        f"### Slack bot burst: {bursts} x {n} slash commands ({len(users)} users x {n // len(users)}), offline planner",
        "",
        f"{customers:,} customers, {customers * events_per_customer:,.0f} events (ingested in {ingest_s:.1f} s); "
        f"{workers} workers; fake Slack over real HTTP + Socket Mode; {os.cpu_count()} CPUs.",
        "",
        "| burst | ack p50 | ack p99 | first message p99 | all answered | answered | errors | RSS after | objects |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows, 1):
        lines.append(
            f"| {i} | {percentile(r['ack'], 0.5) * ms:.0f} ms | {percentile(r['ack'], 0.99) * ms:.0f} ms | "
            f"{percentile(r['first'], 0.99) * ms:.0f} ms | {r['all_answered_s']:.1f} s | {r['answered']}/{n} | {r['errors']} | "
            f"{r['rss_mb']:.0f} MB | {r['objects']:,} |"
        )
    if len(rows) > 1:
        lines += [
            "",
            f"Objects that grew from burst 1 to burst {len(rows)} (top types): "
            + _growth(rows[0]["types"], rows[-1]["types"]),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(burst())
