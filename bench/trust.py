"""The trust table: attacks tried / refused, faults injected / survived, bad inputs tried / handled.

Runs the tests that count them (tests/trust.py says how a test counts) with TRUST_TALLY_FILE set and
adds up the tally, so the table in bench/RESULTS.md is what the tests reproduce.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tests that inject several items in one case (they call TALLY themselves; not marked)
COUNTING_INSIDE = [
    "tests/ingest/test_kill_safety.py",
    "tests/ingest/test_bad_inputs.py",
    "tests/ingest/test_status_busy.py",
    "tests/cdp/test_embedded_pg_pids.py",
    "tests/cdp/test_reader_role.py::test_the_models_role_cannot_read_personal_data_write_or_switch_role",
]
LABELS = {
    "attack": ("attacks", "refused"),
    "fault": ("faults injected", "survived"),
    "bad_input": ("bad inputs", "handled"),
}


def tally(path: Path) -> dict[str, collections.Counter]:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in path.read_text(encoding="utf-8").splitlines():
        kind, outcome = line.split()
        counts[kind][outcome] += 1
    return counts


def render(counts: dict[str, collections.Counter], exit_codes: list[int]) -> str:
    rows = ["| what | tried | held |", "| --- | ---: | ---: |"]
    for kind, (what, held) in LABELS.items():
        c = counts.get(kind, collections.Counter())
        rows.append(f"| {what} | {c['tried']} | {c['held']} {held} |")
    ok = "all tests passed" if not any(exit_codes) else f"pytest exit codes {exit_codes}: see the failures above"
    return "\n".join(["### Trust", "", "Command: `python -m bench trust` (" + ok + ")", "", *rows])


def trust() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-trust-") as tmp:
        path = Path(tmp) / "tally"
        path.touch()
        env = {**os.environ, "TRUST_TALLY_FILE": str(path), "PYTHONPATH": str(ROOT)}
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp}/pt"]
        codes = [
            subprocess.call([*base, "-m", "trust", "tests"], cwd=ROOT, env=env),
            subprocess.call([*base, *COUNTING_INSIDE], cwd=ROOT, env=env),
        ]
        return render(tally(path), codes)
