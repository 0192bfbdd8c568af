"""`python -m bot` as a process: configured by the environment, answers over Socket Mode, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cdp.vectors import close_qdrant
from tests.bot.harness import card_text

ROOT = Path(__file__).resolve().parents[2]


def bot_env(slack, loaded, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "OPENROUTER_", "DATABASE_", "ALLOWED_", "INGEST_", "STATUS_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=loaded.database_url.get_secret_value(),
        DATA_DIR=str(loaded.data_dir),
    )
    env.update(extra)
    return env


def test_rejected_bot_token_stops_with_a_message(slack, loaded, tmp_path):
    slack.bot_token = "xoxb-the-real-one"
    close_qdrant()
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=bot_env(slack, loaded, SLACK_BOT_TOKEN="xoxb-wrong"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Slack rejected SLACK_BOT_TOKEN" in proc.stderr and "invalid_auth" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "xoxb-wrong" not in proc.stderr + proc.stdout


def test_python_m_bot_answers_and_stops_cleanly(slack, loaded, tmp_path):
    close_qdrant()  # Qdrant local mode is one process at a time: hand the folder to the bot process
    env = bot_env(slack, loaded)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        slack.wait_connected(60)
        ack = slack.wait_ack(slack.send_slash_command("/audience", text="customers who bought socks", channel_id="C1"))
        assert ack.latency < 3
        first = slack.wait_message(lambda m: m.kind == "chat.postMessage", channel="C1", timeout=10)
        card = slack.wait_message(
            lambda m: m.kind == "chat.update" and "Funnel" in card_text(m), channel="C1", timeout=30
        )
        assert card.ts == first.ts
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "xoxb-test" not in out and "xapp-test" not in out
    assert "Audience bot connected" in out
    assert "nightly ingestion scheduled (0 2 * * * UTC): next run" in out and "02:00:00" in out
    slack.assert_all_messages_valid()
