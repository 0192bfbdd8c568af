"""python -m discovery audiences …: save, list, show, refresh, delete and unknown names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from audiences.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_save_show_refresh_delete_from_the_terminal(world, capsys):
    question = f"customers in Germany who purchased {world.product}"
    assert main(["save", "CLI shoppers", "--question", question, "--top", "3", "--json"], world.settings) == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["status"] == "succeeded" and saved["size_after"] == 3 and saved["size_before"] is None

    assert main(["show", "cli SHOPPERS", "--json"], world.settings) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["name"] == "CLI shoppers" and doc["recipe"]["top_n"] == 3 and len(doc["members"]) == 3
    assert doc["owner"].startswith("terminal:") and [r["trigger"] for r in doc["refreshes"]] == ["save"]

    assert main(["refresh", "CLI shoppers"], world.settings) == 0
    assert "CLI shoppers: 3 → 3 customers" in capsys.readouterr().out

    assert main(["show", "CLI shopper"], world.settings) == 1
    assert "Did you mean “CLI shoppers”" in capsys.readouterr().err
    assert main(["save", "cli shoppers", "--question", question], world.settings) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["delete", "CLI shoppers"], world.settings) == 0
    assert "Deleted “CLI shoppers”" in capsys.readouterr().out


def test_python_m_discovery_audiences_dispatches_to_the_audiences_cli(world):
    env = {
        **os.environ,
        "DATABASE_URL": world.settings.database_url.get_secret_value(),
        "DATA_DIR": str(world.settings.data_dir),
        "OPENROUTER_API_KEY": "",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "discovery", "audiences", "list", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    listed = {x["name"]: x for x in json.loads(proc.stdout)}
    de = listed["DE buyers"]
    assert de["size"] == world.outcomes["DE buyers"].size_after and de["owner"] == "U1"
    assert listed["Broken one"]["last_refresh"]["status"] == "failed"
