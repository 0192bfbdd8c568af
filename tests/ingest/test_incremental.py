"""Incremental embedding, crash safety, model switch, locking."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sqlalchemy as sa

from cdp.embedder import embedder_for
from cdp.errors import VectorStoreBusy
from cdp.vectors import alias_target, close_qdrant, get_qdrant
from ingest import IngestBusy, run
from ingest.errors import InjectedFailure
from ingest.pipeline import LOCK_KEY


def _rewrite(src, dst, fn):
    lines = src.read_text().splitlines()
    out = [lines[0]] + [x for x in (fn(line) for line in lines[1:]) if x is not None]
    dst.write_text("\n".join(out) + "\n")
    return dst


def _set_field(line: str, cid: int, col: int, value: str) -> str:
    parts = line.split(",")
    if parts[0] == str(cid):
        parts[col] = value
    return ",".join(parts)


def test_rerun_on_unchanged_files_embeds_nothing(settings, small_sample):
    first = run(settings, small_sample.crm, small_sample.events)
    assert first["embeddings_computed"] == 80

    unchanged = run(settings, small_sample.crm, small_sample.events)
    assert unchanged["status"] == "unchanged" and unchanged["embeddings_computed"] == 0

    forced = run(settings, small_sample.crm, small_sample.events, force=True)
    assert forced["status"] == "succeeded"
    assert (forced["embeddings_computed"], forced["embeddings_skipped"]) == (0, 80)
    assert (forced["profiles_added"], forced["profiles_changed"], forced["profiles_removed"]) == (0, 0, 0)


def test_changing_one_customer_reembeds_exactly_one(settings, small_sample, tmp_path):
    run(settings, small_sample.crm, small_sample.events)
    client = get_qdrant(settings)
    before = client.retrieve(settings.qdrant_collection, [3], with_vectors=True)[0]
    # customer 3 becomes much older: the age band in the profile text changes
    crm = _rewrite(small_sample.crm, tmp_path / "crm.csv", lambda line: _set_field(line, 3, 5, "99"))

    record = run(settings, crm, small_sample.events)

    assert (record["embeddings_computed"], record["embeddings_skipped"]) == (1, 79)
    assert record["profiles_changed"] == 1
    after = client.retrieve(settings.qdrant_collection, [3], with_vectors=True, with_payload=True)[0]
    assert "65 or older" in after.payload["text"]
    assert not np.allclose(before.vector, after.vector)
    expected = embedder_for(settings).embed_one(after.payload["text"])
    assert np.allclose(after.vector, expected, atol=1e-5)


def test_payload_only_change_updates_payload_without_embedding(settings, small_sample, tmp_path):
    run(settings, small_sample.crm, small_sample.events)
    crm = _rewrite(small_sample.crm, tmp_path / "crm.csv", lambda line: _set_field(line, 4, 3, "new4@example.com"))

    record = run(settings, crm, small_sample.events)

    assert record["embeddings_computed"] == 0 and record["payloads_updated"] == 1
    point = get_qdrant(settings).retrieve(settings.qdrant_collection, [4], with_payload=True)[0]
    assert point.payload["metadata"]["email"] == "new4@example.com"


def test_removing_a_customer_deletes_its_point(settings, small_sample, tmp_path, engine):
    run(settings, small_sample.crm, small_sample.events)
    crm = _rewrite(small_sample.crm, tmp_path / "crm.csv", lambda line: None if line.startswith("7,") else line)
    events = _rewrite(
        small_sample.events, tmp_path / "ev.csv", lambda line: None if line.split(",")[1] == "7" else line
    )

    record = run(settings, crm, events)

    assert record["profiles_removed"] == 1
    client = get_qdrant(settings)
    assert client.retrieve(settings.qdrant_collection, [7]) == []
    assert client.count(settings.qdrant_collection).count == 79
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM embedding_state WHERE customer_id = 7")).scalar() == 0


@pytest.mark.parametrize("stage", ["load", "validate", "profiles", "embed"])
def test_failure_between_stages_keeps_previous_data_and_next_run_converges(
    settings, small_sample, tmp_path, engine, stage
):
    run(settings, small_sample.crm, small_sample.events)
    with engine.connect() as conn:
        old_profile = conn.execute(sa.text("SELECT profile_text FROM customer_profiles WHERE customer_id = 3")).scalar()
    crm = _rewrite(small_sample.crm, tmp_path / "crm.csv", lambda line: _set_field(line, 3, 5, "99"))
    crm = _rewrite(crm, tmp_path / "crm2.csv", lambda line: None if line.startswith("9,") else line)

    def fail(done_stage: str) -> None:
        if done_stage == stage:
            raise InjectedFailure(f"injected after {stage}")

    with pytest.raises(InjectedFailure):
        run(settings, crm, small_sample.events, after_stage=fail)

    with engine.connect() as conn:  # the previous data still answers
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 80
        assert (
            conn.execute(sa.text("SELECT profile_text FROM customer_profiles WHERE customer_id = 3")).scalar()
            == old_profile
        )
        status = conn.execute(sa.text("SELECT status, error FROM ingestion_runs ORDER BY id DESC LIMIT 1")).one()
        leftovers = conn.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_new' OR tablename LIKE 'stg\\_%'")
        ).scalar()
    assert status.status == "failed" and stage in status.error
    assert leftovers == 0

    record = run(settings, crm, small_sample.events)  # the next run converges
    assert record["status"] == "succeeded"
    client = get_qdrant(settings)
    assert client.count(settings.qdrant_collection).count == 79
    point = client.retrieve(settings.qdrant_collection, [3], with_vectors=True, with_payload=True)[0]
    assert "65 or older" in point.payload["text"]
    assert np.allclose(point.vector, embedder_for(settings).embed_one(point.payload["text"]), atol=1e-5)
    again = run(settings, crm, small_sample.events, force=True)
    assert again["embeddings_computed"] == 0


def test_embedding_model_change_builds_a_new_collection_and_switches_the_alias(settings, small_sample):
    run(settings, small_sample.crm, small_sample.events)
    client = get_qdrant(settings)
    old = alias_target(client, settings.qdrant_collection)

    # the same weights under their hub name: a different model id, so a different collection
    switched = settings.model_copy(update={"embedding_model": "sentence-transformers/all-MiniLM-L6-v2"})
    record = run(switched, small_sample.crm, small_sample.events)

    new = alias_target(client, settings.qdrant_collection)
    assert new != old and new == record["collection"]
    assert record["embeddings_computed"] == 80
    assert client.count(settings.qdrant_collection).count == 80
    assert not client.collection_exists(old)


def test_a_second_ingestion_is_refused_while_one_runs(settings, small_sample, engine):
    with engine.connect() as holder:
        holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        with pytest.raises(IngestBusy, match="already running"):
            run(settings, small_sample.crm, small_sample.events)
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})


def test_local_vector_store_held_by_another_process_gives_a_clear_message(settings):
    close_qdrant()
    settings.qdrant_dir.mkdir(parents=True, exist_ok=True)
    code = f"from qdrant_client import QdrantClient; import time; c = QdrantClient(path={str(settings.qdrant_dir)!r}); print('ready', flush=True); time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(VectorStoreBusy, match="in use by another process") as info:
            get_qdrant(settings)
        assert "QDRANT_URL" in str(info.value)
    finally:
        holder.kill()
        holder.wait()
