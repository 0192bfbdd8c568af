"""The embed stage overlaps its writes with encoding and loads the model during the SQL stages: what an
operator sees must not change. After a build every point and every recorded hash matches the customer's
text; a store write failing half-way fails the run, leaves the previous snapshot live, and the next run
converges; a rerun on unchanged files never loads the model."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from cdp.embedder import Embedder
from cdp.vectors import alias_target, close_qdrant, get_qdrant, next_collection
from ingest import run
from ingest.errors import InjectedFailure
from tests.trust import TALLY

ROOT = Path(__file__).resolve().parents[2]
SMALL_BATCHES = {"embedding_batch_size": 8}  # batches of 16 texts: several batches for 80 customers


def _older(src_crm: Path, out: Path) -> Path:
    """Every third customer 99 years old: a new profile text for each of them."""
    lines = src_crm.read_text().splitlines()
    rows = [lines[0]]
    for line in lines[1:]:
        parts = line.split(",")
        if int(parts[0]) % 3 == 0:
            parts[5] = "99"
        rows.append(",".join(parts))
    out.write_text("\n".join(rows) + "\n")
    return out


def _snapshot_agrees(settings, engine) -> int:
    """Every customer of the live snapshot: its point's text is its profile text, its vector the model's
    vector of that text (embedded again here, by torch), and its recorded hash that text's. Returns the
    number of customers."""
    client = get_qdrant(settings)
    live = alias_target(client, settings.qdrant_collection)
    with engine.connect() as conn:
        texts = dict(conn.execute(sa.text("SELECT customer_id, profile_text FROM customer_profiles")).all())
        hashes = dict(
            conn.execute(
                sa.text("SELECT customer_id, text_hash FROM embedding_state WHERE collection = :c"), {"c": live}
            ).all()
        )
    points = {int(p.id): p for p in client.retrieve(live, list(texts), with_vectors=True, with_payload=True)}
    assert set(points) == set(texts) == set(hashes)
    assert client.count(live).count == len(texts)  # no point left over
    ids = sorted(texts)
    expected = Embedder(settings.embedding_model, backend="torch", device="cpu").embed([texts[i] for i in ids])
    stored = np.array([points[i].vector for i in ids], dtype=np.float32)
    cosine = (stored * expected).sum(axis=1)
    assert cosine.min() >= 0.999 and cosine.mean() >= 0.9999, (cosine.min(), cosine.mean())
    for i in ids:
        assert points[i].payload["text"] == texts[i]
        assert hashes[i] == hashlib.md5(f"{settings.embedding_model}\n{texts[i]}".encode()).hexdigest()
    return len(ids)


@pytest.mark.slow
def test_every_point_and_hash_match_the_text_after_a_build_in_many_batches(settings, small_sample, engine, tmp_path):
    settings = settings.model_copy(update=SMALL_BATCHES)
    first = run(settings, small_sample.crm, small_sample.events)
    assert first["embeddings_computed"] == 80
    assert _snapshot_agrees(settings, engine) == 80

    record = run(settings, _older(small_sample.crm, tmp_path / "crm.csv"), small_sample.events)

    assert record["status"] == "succeeded" and 0 < record["embeddings_computed"] < 80
    assert _snapshot_agrees(settings, engine) == 80


@pytest.mark.slow
def test_a_store_write_failing_mid_build_keeps_the_previous_snapshot_and_the_next_run_converges(
    settings, small_sample, engine, tmp_path
):
    settings = settings.model_copy(update=SMALL_BATCHES)
    run(settings, small_sample.crm, small_sample.events)
    client = get_qdrant(settings)
    live = alias_target(client, settings.qdrant_collection)
    slot = next_collection(live, settings.qdrant_collection, settings.embedding_model)
    with engine.connect() as conn:
        old_text = conn.execute(sa.text("SELECT profile_text FROM customer_profiles WHERE customer_id = 3")).scalar()
    crm = _older(small_sample.crm, tmp_path / "crm.csv")
    batches = []

    def break_the_store(stage: str) -> None:
        """After the first batch is written, the slot being filled disappears: the next write fails."""
        if stage == "embed batch":
            batches.append(stage)
            if len(batches) == 1:
                client.delete_collection(slot)

    with pytest.raises(ValueError, match="not found"):
        run(settings, crm, small_sample.events, after_stage=break_the_store)
    TALLY.fault()

    assert len(batches) == 1  # no batch reported written after the failed one
    assert alias_target(client, settings.qdrant_collection) == live
    point = client.retrieve(settings.qdrant_collection, [3], with_payload=True)[0]
    assert point.payload["text"] == old_text  # the previous snapshot still answers
    with engine.connect() as conn:
        status, error = conn.execute(sa.text("SELECT status, error FROM ingestion_runs ORDER BY id DESC LIMIT 1")).one()
        assert conn.execute(sa.text("SELECT profile_text FROM customer_profiles WHERE customer_id = 3")).scalar() == (
            old_text
        )
    assert status == "failed" and "not found" in error
    TALLY.survived()

    record = run(settings, crm, small_sample.events)  # the slot is made again; nothing is taken on trust

    assert record["status"] == "succeeded"
    assert alias_target(client, settings.qdrant_collection) == slot
    assert "65 or older" in client.retrieve(settings.qdrant_collection, [3], with_payload=True)[0].payload["text"]
    assert _snapshot_agrees(settings, engine) == 80


def test_a_rerun_on_unchanged_files_never_loads_the_model(settings, small_sample):
    run(settings, small_sample.crm, small_sample.events)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "DATA_DIR": str(settings.data_dir),
        "INGEST_CRON": "off",
        "OPENROUTER_API_KEY": "",
    }
    cli = [sys.executable, "-m", "ingest", "run", "--crm", str(small_sample.crm), "--events", str(small_sample.events)]
    close_qdrant()  # the local store admits one process at a time

    unchanged = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300)
    forced = subprocess.run([*cli, "--force"], env=env, capture_output=True, text=True, timeout=300)

    assert unchanged.returncode == 0 and "unchanged" in unchanged.stdout, unchanged.stderr[-2000:]
    assert "embedding model" not in unchanged.stderr
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert "embedding model" in forced.stderr  # the same command loads it when there is work


def _store_file(settings, collection: str) -> tuple[str, int, bool]:
    """(journal mode, points) of a local-mode collection's file read on its own, and whether a log lies beside it."""
    path = settings.qdrant_dir / "collection" / collection / "storage.sqlite"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        points = conn.execute("SELECT count(*) FROM points").fetchone()[0]
    finally:
        conn.close()
    return mode, points, Path(f"{path}-wal").exists()


def test_the_local_store_s_file_alone_holds_every_point_after_a_build_and_after_a_failed_one(
    settings, small_sample, engine, tmp_path
):
    """Points are logged ahead while a snapshot fills (no journal file per point), but the file left behind is
    one self-contained SQLite file in the store's usual mode, whether the build succeeded or failed."""
    settings = settings.model_copy(update=SMALL_BATCHES)
    run(settings, small_sample.crm, small_sample.events)
    client = get_qdrant(settings)
    live = alias_target(client, settings.qdrant_collection)
    assert _store_file(settings, live) == ("delete", 80, False)

    slot = next_collection(live, settings.qdrant_collection, settings.embedding_model)
    batches = []

    def fail_after_two_batches(stage: str) -> None:
        if stage == "embed batch":
            batches.append(stage)
            if len(batches) == 2:
                raise InjectedFailure("the disk is full")

    with pytest.raises(InjectedFailure):
        run(
            settings,
            _older(small_sample.crm, tmp_path / "crm.csv"),
            small_sample.events,
            after_stage=fail_after_two_batches,
        )
    mode, points, log_beside = _store_file(settings, slot)
    assert mode == "delete" and not log_beside
    assert 0 < points == client.count(slot).count < 80  # what was written before the failure, in the file itself
    assert alias_target(client, settings.qdrant_collection) == live
