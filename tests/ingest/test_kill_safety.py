"""A crash never changes what answers: `python -m ingest run` killed (SIGKILL) at each stage leaves
PostgreSQL and Qdrant on the previous snapshot (the offline planner's answers are identical), and the
next run converges, reusing the vectors already computed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from cdp.db import dispose_engines
from cdp.settings import Settings
from cdp.vectors import alias_target, close_qdrant, get_qdrant
from discovery.service import answer
from ingest import run
from ingest.errors import InjectedFailure
from ingest.pipeline import PAUSE_ENV
from tests.trust import TALLY

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = (
    "customers who like luxury",
    "people who love the outdoors",
    "top 5 customers by total spent",
    "bargain hunters in the last 90 days",
)
KILL_STAGES = ("load", "validate", "profiles", "embed batch", "embed")


def _changed_files(src_crm: Path, src_events: Path, out: Path) -> tuple[Path, Path]:
    """Every third customer 99 years old (new profile text), every fifth gone, one e-mail changed."""
    crm_lines = src_crm.read_text().splitlines()
    crm = [crm_lines[0]]
    for line in crm_lines[1:]:
        parts = line.split(",")
        cid = int(parts[0])
        if cid % 5 == 0:
            continue
        if cid % 3 == 0:
            parts[5] = "99"
        if cid == 4:
            parts[3] = "changed4@example.com"
        crm.append(",".join(parts))
    ev_lines = src_events.read_text().splitlines()
    events = [ev_lines[0]] + [x for x in ev_lines[1:] if int(x.split(",")[1]) % 5 != 0]
    (out / "crm.csv").write_text("\n".join(crm) + "\n")
    (out / "events.csv").write_text("\n".join(events) + "\n")
    return out / "crm.csv", out / "events.csv"


def _answers(settings: Settings) -> list:
    exact = settings.model_copy(update={"vector_matrix_max_points": 0})  # ask Qdrant itself, no cached matrix
    out = []
    for q in QUESTIONS:
        r = answer(exact, q)
        out.append((r.answer, [(c.customer_id, c.email, round(c.score or 0, 4)) for c in r.customers]))
    client = get_qdrant(settings)
    out.append((alias_target(client, settings.qdrant_collection), client.count(settings.qdrant_collection).count))
    close_qdrant()
    dispose_engines()
    return out


def _env(settings: Settings, stage: str) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "DATA_DIR": str(settings.data_dir),
        "EMBEDDING_BATCH_SIZE": "8",  # several embedding batches for 80 customers
        "INGEST_CRON": "off",
        "OPENROUTER_API_KEY": "",
        PAUSE_ENV: stage,
    }


def _kill_at(settings: Settings, stage: str, crm: Path, events: Path, cwd: Path) -> None:
    cmd = [sys.executable, "-m", "ingest", "run", "--crm", str(crm), "--events", str(events)]
    proc = subprocess.Popen(cmd, env=_env(settings, stage), cwd=cwd, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line == f"paused at {stage}", f"the run did not reach {stage!r} (exit {proc.poll()})"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    TALLY.fault()


def test_kill_at_each_stage_leaves_answers_unchanged_then_converges(settings, small_sample, tmp_path):
    run(settings, small_sample.crm, small_sample.events)
    before = _answers(settings)
    crm, events = _changed_files(small_sample.crm, small_sample.events, tmp_path)

    for stage in KILL_STAGES:
        _kill_at(settings, stage, crm, events, tmp_path)
        assert _answers(settings) == before, f"answers changed after a kill at {stage!r}"
        TALLY.survived()

    record = run(settings, crm, events)  # converges, reusing what the killed runs embedded
    assert record["status"] == "succeeded"
    assert record["embeddings_computed"] < 27  # ~27 new texts; some were embedded before the kills
    after = _answers(settings)
    assert after != before
    client = get_qdrant(settings)
    assert client.count(settings.qdrant_collection).count == 64  # 80 - 16 removed
    engine = sa.create_engine(settings.database_url.get_secret_value())
    with engine.connect() as conn:
        live_ids = {r[0] for r in conn.execute(sa.text("SELECT customer_id FROM customers"))}
    engine.dispose()
    points, _ = client.scroll(settings.qdrant_collection, limit=1000, with_payload=True)
    assert {int(p.id) for p in points} == live_ids  # no orphan points
    assert next(p for p in points if int(p.id) == 4).payload["metadata"]["email"] == "changed4@example.com"
    collections = {c.name for c in client.get_collections().collections}
    assert collections == {alias_target(client, settings.qdrant_collection)}  # the other slot dropped
    again = run(settings, crm, events, force=True)
    assert (again["embeddings_computed"], again["embeddings_skipped"]) == (0, 64)


def test_a_stop_between_alias_switch_and_commit_is_undone(settings, small_sample, tmp_path):
    """The alias is switched last inside the swap's transaction; if the commit does not happen,
    the alias goes back (at once on a failure, at the next run's start after a kill). Readers take the
    live collection from PostgreSQL's committed snapshot, so even the alias left ahead by a kill changes
    no answer in between."""
    run(settings, small_sample.crm, small_sample.events)
    before = _answers(settings)
    crm, events = _changed_files(small_sample.crm, small_sample.events, tmp_path)

    def fail(stage: str) -> None:
        if stage == "publish":
            raise InjectedFailure("injected after the alias switch")

    with pytest.raises(InjectedFailure):
        run(settings, crm, events, after_stage=fail)
    TALLY.fault()
    assert _answers(settings) == before
    TALLY.survived()

    _kill_at(settings, "publish", crm, events, tmp_path)  # PostgreSQL rolled back, the alias ahead
    after_kill = _answers(settings)
    assert after_kill[:-1] == before[:-1]  # every answer as before; only the alias (the last item) is ahead
    TALLY.survived()
    _kill_at(settings, "load", crm, events, tmp_path)  # the next run's start puts it back
    assert _answers(settings) == before
    TALLY.survived()
    assert run(settings, crm, events)["status"] == "succeeded"
    assert _answers(settings) != before
