"""The gate's tables are built beside the profiles and the embedding: the embedder starts once the
profile texts exist, the swap waits for the tables, and a table that fails to build fails the run
with the previous data still live."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cdp.vectors import alias_target, get_qdrant
from ingest import run

GATE_TABLES = (
    "customer_facts", "customer_pair_times", "customer_type_times", "customer_color_times",
    "customer_any_type_color_times", "customer_event_times",
)  # fmt: skip


def test_the_swap_waits_for_every_gate_table_and_stage_times_are_kept(settings, small_sample, engine):
    record = run(settings, small_sample.crm, small_sample.events)
    assert record["status"] == "succeeded"
    seconds = record["stage_seconds"]
    for stage in (
        "profiles",
        "texts",
        "embed",
        "index",
        "facts",
        "pair times",
        "color times",
        "any-type color times",
        "tables (wait)",
    ):
        assert stage in seconds, stage
    with engine.connect() as conn:
        for table in GATE_TABLES:  # live and complete: one facts row per customer, times rows for the events
            assert conn.execute(sa.text(f"SELECT count(*) > 0 FROM {table}")).scalar(), table
        assert conn.execute(sa.text("SELECT count(*) FROM customer_facts")).scalar() == 80
        same = conn.execute(
            sa.text("SELECT (SELECT count(*) FROM events) = (SELECT sum(cardinality(ts)) FROM customer_event_times)")
        ).scalar()
        assert same


def test_a_gate_table_failing_beside_the_embedding_fails_the_run_and_keeps_the_live_data(
    settings, small_sample, engine, tmp_path
):
    run(settings, small_sample.crm, small_sample.events)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*), sum(cardinality(ts)) FROM customer_color_times")).one()
    client = get_qdrant(settings)
    live_collection = alias_target(client, settings.qdrant_collection)
    changed = tmp_path / "events.csv"
    lines = small_sample.events.read_text().splitlines()
    changed.write_text("\n".join(lines[:-5]) + "\n")  # five events fewer: a run with work to do

    def break_the_color_numbers(stage: str) -> None:
        # The profile texts are done and the embedder is about to start: the times tables are being
        # built on another thread. The rename waits for the pair times' transaction, so the color
        # times (built after the pair and type times) find no tc_bit.
        if stage == "profiles":
            with engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE event_vocabulary_new RENAME COLUMN tc_bit TO tc_bit_gone"))

    with pytest.raises(sa.exc.ProgrammingError):
        run(settings, small_sample.crm, changed, after_stage=break_the_color_numbers)

    with engine.connect() as conn:
        last = conn.execute(
            sa.text("SELECT status, error, stage_seconds FROM ingestion_runs ORDER BY id DESC LIMIT 1")
        ).one()
        assert conn.execute(sa.text("SELECT count(*), sum(cardinality(ts)) FROM customer_color_times")).one() == before
        leftovers = conn.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_new' OR tablename LIKE 'stg\\_%'")
        ).scalar()
    assert last.status == "failed" and "UndefinedColumn" in last.error
    assert "embed" in last.stage_seconds  # the embedder ran beside the failing table
    assert leftovers == 0
    assert alias_target(client, settings.qdrant_collection) == live_collection

    record = run(settings, small_sample.crm, changed)  # the next run converges
    assert record["status"] == "succeeded"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT sum(cardinality(ts)) FROM customer_event_times")).scalar() == len(lines) - 6


def test_a_gate_table_that_failed_stops_the_embedding_at_its_next_batch(database_url, tmp_path, small_sample):
    """The embedder does not encode the rest of the profiles for a run that has already failed."""
    import time

    from cdp.settings import Settings
    from tests.conftest import settings_fields

    settings = Settings(
        **settings_fields(database_url=database_url, data_dir=tmp_path / "data", embedding_batch_size=4)
    )
    engine = sa.create_engine(settings.database_url.get_secret_value())
    batches: list[str] = []

    def hook(stage: str) -> None:
        if stage == "profiles":  # the color times will fail; wait until they have (milliseconds after the type times)
            with engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE event_vocabulary_new RENAME COLUMN tc_bit TO tc_bit_gone"))
            for _ in range(300):
                with engine.connect() as conn:
                    if conn.execute(sa.text("SELECT to_regclass('customer_type_times_new') IS NOT NULL")).scalar():
                        break
                time.sleep(0.1)
            time.sleep(1.0)
        elif stage == "embed batch":
            batches.append(stage)

    try:
        with pytest.raises(sa.exc.ProgrammingError):
            run(settings, small_sample.crm, small_sample.events, after_stage=hook)
        assert batches == []  # 80 profiles in batches of 8 texts: the first batch's check stopped the run
        with engine.connect() as conn:
            last = conn.execute(sa.text("SELECT status, error FROM ingestion_runs ORDER BY id DESC LIMIT 1")).one()
        assert last.status == "failed" and "UndefinedColumn" in last.error
    finally:
        engine.dispose()
