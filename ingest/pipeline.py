"""The ingestion run: validate → load → profiles → embed → swap → clean up.

`run()` is the one entry point (CLI, the bot's nightly job). It holds a PostgreSQL
advisory lock for its whole duration, records every run in ingestion_runs, and on any
failure leaves the live tables as they were.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp import suppression
from cdp.db import get_engine
from cdp.embedder import load_in_background
from cdp.schema import ensure_schema, live_tables_exist
from cdp.settings import Settings
from cdp.vectors import alias_target, get_qdrant
from ingest import facts, load, mapped_run, profiles, runs, vectors_sync
from ingest.errors import IngestBusy, IngestError
from ingest.files import CRM, EVENTS, check_header, file_digest
from ingest.progress import Progress
from ingest.shrink import check_shrink
from ingest.swap import swap

log = logging.getLogger(__name__)

LOCK_KEY = 0x41554449  # "AUDI": one ingestion at a time per database

StageHook = Callable[[str], None]

# Test-only: a stage name here makes the run print "paused at <stage>" and wait there, so a
# test can kill the process at that point (tests/ingest/test_kill_safety.py).
PAUSE_ENV = "INGEST_TEST_PAUSE_AT"


def _pause_for_tests(stage: str) -> None:
    if os.environ.get(PAUSE_ENV) == stage:
        print(f"paused at {stage}", flush=True)
        time.sleep(600)


@contextmanager
def ingestion_lock(engine: Engine):
    """Hold the advisory lock on a dedicated connection, or raise IngestBusy."""
    conn = engine.connect()
    try:
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        conn.commit()
        if not got:
            raise IngestBusy(_busy_text(conn))
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            conn.commit()
    finally:
        conn.close()


def _busy_text(conn: sa.Connection) -> str:
    since = conn.execute(
        sa.text("SELECT started_at FROM ingestion_runs WHERE status = 'running' ORDER BY id DESC LIMIT 1")
    ).scalar()
    conn.commit()
    when = f" since {since:%Y-%m-%d %H:%M:%S %Z}" if since else ""
    return f"An ingestion is already running{when}; this one was not started. Try again when it ends."


def busy_message(engine: Engine) -> str | None:
    """What IngestBusy would say if a run started now, or None when no run holds the lock
    (the schema must exist: entry points ensure it at start)."""
    with engine.connect() as conn:
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        if got:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            conn.commit()
            return None
        conn.commit()
        return _busy_text(conn)


Steps = tuple[tuple[str, Callable[[], None]], ...]
TABLES_WAIT = "tables (wait)"  # the swap waiting for the gate's tables (stage_seconds)


def _index_steps(engine: Engine, settings: Settings) -> Steps:
    """The events' indexes, then customer_facts_new (it reads the events through them)."""
    return (("index", lambda: load.index_events(engine)), ("facts", lambda: facts.build_facts(engine, settings)))


def _times_steps(engine: Engine) -> Steps:
    """The gate's pair, type, color, any-type color and event times."""
    return (
        ("pair times", lambda: facts.build_pair_times(engine)),
        ("type times", lambda: facts.build_type_times(engine)),
        ("color times", lambda: facts.build_color_times(engine)),
        ("any-type color times", lambda: facts.build_any_type_color_times(engine)),
        ("event times", lambda: facts.build_event_times(engine)),
    )


class StageTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t0, 3)


def _chain(timer: StageTimer, steps: Steps) -> None:
    for name, step in steps:
        with timer.stage(name):
            step()


@contextmanager
def profiles_and_gate_tables(engine: Engine, settings: Settings, progress: Progress, timer: StageTimer):
    """Builds the profiles and their texts, then yields (the embedder's turn: it needs nothing else) a
    check that raises what a failed table raised, and at exit waits for the gate's tables, built on two
    other threads: the events' indexes, then customer_facts_new (it reads the events through them),
    from the start, beside the profiles; the pair, type, color, any-type color and event times from the
    end of the texts, beside the embedding. A failure anywhere waits for both threads, then raises. At
    1 M customers the embedder starts at 148-182 s (three runs; the machine's speed) instead of 286 s; on
    two cores the encoder and PostgreSQL then share them, beside a GPU they don't."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ingest-gate") as pool:
        tables = [pool.submit(_chain, timer, _index_steps(engine, settings))]
        with timer.stage("profiles"):
            profiles.build_core(engine, settings)
        with timer.stage("texts"):
            profiles.build_texts(engine, progress)
        tables.append(pool.submit(_chain, timer, _times_steps(engine)))

        def check() -> None:  # a table that failed to build stops the embedding at its next batch
            for built in tables:
                if built.done() and built.exception() is not None:
                    built.result()

        yield check
        with timer.stage(TABLES_WAIT):
            for built in tables:
                built.result()  # raises what building it raised


def run(
    settings: Settings,
    crm: Path,
    events: Path,
    *,
    trigger: str = "cli",
    force: bool = False,
    embed: bool = True,
    progress: Progress | None = None,
    after_stage: StageHook | None = None,
    on_start: Callable[[int], None] | None = None,
    allow_shrink: bool = False,
    mapping: Path | None = None,
) -> dict:
    """Ingest `crm` and `events`; return the run record.

    Raises IngestError (run recorded as failed, live data unchanged) or IngestBusy.
    `embed=False` stops before the vector stage and does not swap (benchmarks of the
    SQL stages). `after_stage` is called with each finished stage's name; `on_start` with the
    run's id once the lock is held and the run is recorded (a failing hook fails the run).
    `allow_shrink` lets a run remove more than MAX_SHRINK of the live customers. `mapping`
    (default INGEST_MAPPING) reads the files through a mapping file (ingest/mapping.py).
    """
    mapping = mapping if mapping is not None else settings.ingest_mapping
    progress = progress or Progress()
    engine = get_engine(settings)
    ensure_schema(engine)
    suppression.sync_file_quietly(engine, settings.suppression_csv)
    with ingestion_lock(engine):
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE ingestion_runs SET status = 'failed', finished_at = now(), "
                    "error = 'interrupted (the process stopped during the run)' WHERE status = 'running'"
                )
            )
        run_id = runs.start_run(engine, trigger=trigger, crm_file=str(crm), events_file=str(events))
        log.info("ingestion run %d started (%s): crm=%s events=%s", run_id, trigger, crm, events)
        timer = StageTimer()
        try:
            if on_start is not None:
                on_start(run_id)
            opts = _Options(force, embed, allow_shrink, progress, after_stage, mapping)
            record = _run(settings, engine, run_id, Path(crm), Path(events), opts, timer)
        except Exception as exc:
            message = str(exc) if isinstance(exc, IngestError) else load.error_summary(exc)
            if embed:
                _restore_alias(engine, settings)
            runs.update_run(engine, run_id, status="failed", error=message, stage_seconds=timer.seconds)
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE ingestion_runs SET finished_at = now() WHERE id = :id"), {"id": run_id})
                load.drop_work_tables(conn)
            log.error("ingestion run %d failed; the previous data is still live: %s", run_id, message)
            raise
        log.info("ingestion run %d %s in %.1fs", run_id, record["status"], sum(timer.seconds.values()))
        return record


def _restore_alias(engine: Engine, settings: Settings) -> None:
    """After a failure: the alias back on the live snapshot's collection (a failed commit)."""
    previous = runs.last_success(engine)
    try:
        if previous:
            vectors_sync.restore_alias(get_qdrant(settings), settings.qdrant_collection, previous["collection"])
    except Exception as exc:  # the vector store itself failed: the next run restores it
        log.warning("could not check the vector alias after the failure: %s", exc)


@dataclass(frozen=True)
class _Options:
    force: bool
    embed: bool
    allow_shrink: bool
    progress: Progress
    after_stage: StageHook | None
    mapping: Path | None = None


def _run(settings, engine, run_id, crm, events, opts: _Options, timer) -> dict:
    force, embed, progress = opts.force, opts.embed, opts.progress

    def done(stage: str) -> None:
        _pause_for_tests(stage)
        if opts.after_stage is not None:
            opts.after_stage(stage)

    with timer.stage("hash"):
        located = mapped_run.load_and_check(opts.mapping, crm, events)
        if located is None or located.mapping.events is None:
            check_header(events, EVENTS)
        if located is None:
            check_header(crm, CRM)
        crm_digest, events_digest = file_digest(crm), file_digest(events)
        crm_sha, events_sha = mapped_run.keyed(crm_digest.sha256, located), events_digest.sha256
    runs.update_run(
        engine, run_id, crm_sha256=crm_sha, events_sha256=events_sha,
        crm_bytes=crm_digest.size, events_bytes=events_digest.size,
    )  # fmt: skip

    client = get_qdrant(settings) if embed else None
    previous = runs.last_success(engine)
    if client is not None and previous:
        vectors_sync.restore_alias(client, settings.qdrant_collection, previous["collection"])
    if (
        not force
        and embed
        and previous
        and previous["crm_sha256"] == crm_sha
        and previous["events_sha256"] == events_sha
        and live_tables_exist(engine)
        and previous["embedding_model"] == settings.embedding_model
        and alias_target(client, settings.qdrant_collection) == previous["collection"]
    ):
        with engine.connect() as conn:
            total = conn.execute(sa.text("SELECT count(*) FROM customer_profiles")).scalar()
        fields = dict(
            status="unchanged", stage_seconds=timer.seconds, collection=previous["collection"],
            embedding_model=settings.embedding_model, embeddings_skipped=total,
            crm_loaded=previous["crm_loaded"], events_loaded=previous["events_loaded"],
            data_min_ts=previous["data_min_ts"], data_max_ts=previous["data_max_ts"],
        )  # fmt: skip
        runs.update_run(engine, run_id, **fields)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE ingestion_runs SET finished_at = now() WHERE id = :id"), {"id": run_id})
        log.info("input files unchanged since run %s: nothing to do", previous["id"])
        return runs.get_run(engine, run_id)

    # The model loads on another thread while the SQL stages run (never on an unchanged rerun).
    loading = load_in_background(settings) if embed else None
    with timer.stage("load"):
        maps = mapped_run.per_file(located)
        loaded = {
            "crm": load.load_file(
                engine, crm, CRM, run_id, crm_digest.lines, progress, crm_digest.unusual, maps["crm"]
            ),
            "events": load.load_file(
                engine, events, EVENTS, run_id, events_digest.lines, progress, events_digest.unusual, maps["events"]
            ),
        }
    done("load")
    with timer.stage("validate"):
        outcomes = load.validate(engine, run_id, loaded, settings.max_reject_ratio, settings.date_order)
    runs.update_run(
        engine, run_id,
        crm_loaded=outcomes["crm"].loaded, crm_rejected=outcomes["crm"].rejected,
        events_loaded=outcomes["events"].loaded, events_rejected=outcomes["events"].rejected,
        reject_reasons={k: dict(o.reasons) for k, o in outcomes.items()} | mapped_run.stored_empty(loaded),
    )  # fmt: skip
    if not opts.allow_shrink and live_tables_exist(engine):
        with engine.connect() as conn:
            check_shrink(conn, settings.max_shrink, str(crm))
    done("validate")
    with profiles_and_gate_tables(engine, settings, progress, timer) as check_tables:
        done("profiles")
        with engine.connect() as conn:
            diff = profiles.profile_diff(conn)
            lo, hi = conn.execute(sa.text("SELECT min(first_ts), max(last_ts) FROM event_vocabulary_new")).one()
        runs.update_run(
            engine, run_id, profiles_added=diff["added"], profiles_changed=diff["changed"],
            profiles_removed=diff["removed"], data_min_ts=lo, data_max_ts=hi, stage_seconds=timer.seconds,
        )  # fmt: skip
        if embed:
            assert loading is not None  # started above: this run embeds
            with timer.stage("model (wait)"):
                embedder = loading.result()  # raises what loading raised (EmbedderUnavailable)
            with timer.stage("embed"):
                emb = vectors_sync.sync_new_profiles(
                    engine, client, embedder, base=settings.qdrant_collection, model=settings.embedding_model,
                    progress=progress, batch_texts=2 * settings.embedding_batch_size,
                    on_batch=lambda: (check_tables(), done("embed batch")),
                )  # fmt: skip
            runs.update_run(
                engine, run_id, embeddings_computed=emb.computed, embeddings_skipped=emb.skipped,
                texts_embedded=emb.texts_embedded, payloads_updated=emb.payloads_updated,
                collection=emb.collection, embedding_model=settings.embedding_model,
            )  # fmt: skip
            done("embed")
    if not embed:
        with engine.begin() as conn:
            load.drop_work_tables(conn)
            runs.update_run(conn, run_id, status="dry-run", stage_seconds=timer.seconds)
            conn.execute(sa.text("UPDATE ingestion_runs SET finished_at = now() WHERE id = :id"), {"id": run_id})
        return runs.get_run(engine, run_id)

    with timer.stage("swap"), engine.begin() as conn:
        swap(conn)
        load.drop_work_tables(conn)
        runs.update_run(conn, run_id, status="succeeded", stage_seconds=timer.seconds)
        conn.execute(sa.text("UPDATE ingestion_runs SET finished_at = now() WHERE id = :id"), {"id": run_id})
        # Last before the commit: both stores move to the new snapshot together. A stop between
        # the two leaves the alias ahead; the next run (or a failure here) points it back.
        previous_collection = vectors_sync.publish(client, base=settings.qdrant_collection, collection=emb.collection)
        done("publish")
    done("swap")
    with timer.stage("cleanup"):
        vectors_sync.drop_previous(engine, client, previous_collection, emb.collection)
    runs.update_run(engine, run_id, stage_seconds=timer.seconds)
    return runs.get_run(engine, run_id)
