"""`python -m bot` start-up: missing tokens stop it with a message, not a stack trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot import MissingSlackConfig
from bot.__main__ import check_slack_settings
from cdp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_check_slack_settings():
    with pytest.raises(MissingSlackConfig) as err:
        check_slack_settings(Settings(_env_file=None))
    text = str(err.value)
    assert "SLACK_BOT_TOKEN" in text and "SLACK_APP_TOKEN" in text and "api.slack.com/apps" in text
    with pytest.raises(MissingSlackConfig, match="SLACK_APP_TOKEN is not set"):
        check_slack_settings(Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-1")))
    with pytest.raises(MissingSlackConfig, match="xapp-"):
        check_slack_settings(
            Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-1"), slack_app_token=SecretStr("xoxb-2"))
        )
    ok = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-1"), slack_app_token=SecretStr("xapp-2"))
    assert check_slack_settings(ok) == ("xoxb-1", "xapp-2")


def test_python_m_bot_without_tokens(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in proc.stderr and "SLACK_APP_TOKEN is not set" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_python_m_bot_with_a_bad_schedule_says_what_to_write(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "INGEST_"))}
    env.update(PYTHONPATH=str(ROOT), SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1", INGEST_CRON="0 2 * *")
    env.update(DATA_DIR=str(tmp_path / "data"), SLACK_API_URL="http://127.0.0.1:9/api/")
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "Cannot start the bot: INGEST_CRON '0 2 * *' has 4 fields" in proc.stderr
    assert "Traceback" not in proc.stderr and "xoxb-1" not in proc.stderr
