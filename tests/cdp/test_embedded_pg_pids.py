"""A killed process's pid does not keep the embedded server alive: the pids are checked for life
when a process registers and when it leaves, so the last live one stops the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cdp.embedded_pg import PIDS_FILE
from tests.trust import TALLY

ROOT = Path(__file__).resolve().parents[2]
CODE = """
import sys, time
from pathlib import Path
from cdp.embedded_pg import embedded_url
embedded_url(Path(sys.argv[1]))
print("ready", flush=True)
if sys.argv[2] == "hang":
    time.sleep(120)
"""


def _spawn(pg_dir: Path, mode: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", CODE, str(pg_dir), mode], env=env, stdout=subprocess.PIPE, text=True)


def _postmaster_running(pg_dir: Path) -> bool:
    pid_file = pg_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="a server of your own is not stopped")
def test_the_last_live_process_stops_the_server_a_killed_one_left(tmp_path):
    pg_dir = tmp_path / "cluster"
    killed = _spawn(pg_dir, "hang")
    assert killed.stdout.readline().strip() == "ready"
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    killed.stdout.close()
    TALLY.fault()
    assert killed.pid in json.loads((pg_dir / PIDS_FILE).read_text())
    assert _postmaster_running(pg_dir)

    later = _spawn(pg_dir, "exit")  # joins the orphaned server, then exits normally
    try:
        assert later.stdout.readline().strip() == "ready"
        assert later.wait(timeout=60) == 0
    finally:
        later.stdout.close()
        if later.poll() is None:
            later.kill()
    try:
        assert not _postmaster_running(pg_dir), "the orphaned server was not stopped"
        assert json.loads((pg_dir / PIDS_FILE).read_text()) == []
        TALLY.survived()
    finally:
        if _postmaster_running(pg_dir):
            os.kill(int((pg_dir / "postmaster.pid").read_text().split()[0]), signal.SIGTERM)
