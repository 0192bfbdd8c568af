"""The ingest CLI as a user runs it, and the sample generator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd

from ingest.sample import generate

ROOT = Path(__file__).resolve().parents[2]


def _cli(args: list[str], settings, **kw) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=kw.get("cwd", ROOT),
        timeout=300,
    )


def test_cli_run_json_status_and_errors(settings, small_sample, tmp_path):
    done = _cli(["run", "--crm", str(small_sample.crm), "--events", str(small_sample.events), "--json"], settings)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "succeeded" and record["crm_loaded"] == 80

    status = _cli(["status", "--json"], settings)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["live"] and info["counts"]["customers"] == 80 and info["counts"]["vectors"] == 80

    missing = _cli(["run", "--crm", str(tmp_path / "none.csv"), "--events", str(small_sample.events)], settings)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1].startswith("error: The crm file")
    assert "Traceback" not in missing.stderr


def test_sample_is_deterministic_and_ends_at_the_given_time(tmp_path):
    end = datetime(2026, 6, 30, 23, 0, 0)
    a = generate(tmp_path / "a", 300, 5, seed=3, end=end)
    b = generate(tmp_path / "b", 300, 5, seed=3, end=end)
    c = generate(tmp_path / "c", 300, 5, seed=4, end=end)
    assert a.crm.read_bytes() == b.crm.read_bytes() and a.events.read_bytes() == b.events.read_bytes()
    assert a.events.read_bytes() != c.events.read_bytes()
    events = pd.read_csv(a.events, parse_dates=["event_timestamp"])
    crm = pd.read_csv(a.crm)
    assert len(crm) == 300 and crm.customer_id.is_unique
    assert len(events) == a.events_count and events.event_id.is_unique
    assert events.event_timestamp.max() <= pd.Timestamp(end)
    assert events.event_timestamp.max() >= pd.Timestamp(end) - pd.Timedelta(days=2)
    assert set(events.customer_id) <= set(crm.customer_id)
