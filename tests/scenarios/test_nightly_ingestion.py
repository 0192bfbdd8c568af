"""The nightly re-ingestion inside the bot: the scheduler fires, runs the real pipeline (PostgreSQL,
Qdrant, embedder) and reports in the status channel of the fake Slack."""

from __future__ import annotations

import csv
import io
import json
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import ingest
from bot.app import bot_context
from bot.scheduler import JOB_ID, JOB_TABLE
from cdp.db import get_engine
from cdp.vectors import get_qdrant
from ingest import runs
from tests.bot.harness import card_text, running_bot

STATUS = "C_STATUS"
ADMIN = "U_ADMIN"
# an id that is not a number quarantines the row (issue 13: only required fields do); an unreadable
# age is stored empty and the customer kept
BAD_ROW = "99900x1,Eve,Bad,eve.bad@example.com,DE,notanumber,10.0,red,2024-01-01 10:00:00"
KEPT_ROW = "999002,Kay,Kept,kay.kept@example.com,DE,notanumber,10.0,red,2024-01-01 10:00:00"


@pytest.fixture
def files(tmp_path, small_sample) -> tuple[Path, Path]:
    """Copies of the 80-customer sample that a test may change (the nightly exports)."""
    crm, events = tmp_path / "exports" / "crm.csv", tmp_path / "exports" / "events.csv"
    crm.parent.mkdir()
    shutil.copy(small_sample.crm, crm)
    shutil.copy(small_sample.events, events)
    return crm, events


def nightly(settings, files, *, cron: str = "off", **update):
    crm, events = files
    return settings.model_copy(
        update={
            "crm_csv": crm, "events_csv": events, "status_channel": STATUS, "admin_users": ADMIN,
            "ingest_cron": cron, "ingest_timezone": "UTC", **update,
        }
    )  # fmt: skip


def cron_at(when: datetime) -> str:
    """A six-field INGEST_CRON (seconds first) that fires once a day at `when` (UTC)."""
    return f"{when.second} {when.minute} {when.hour} * * *"


def soon(seconds: float) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)


def outcome(slack, *, timeout: float = 90.0, contains: str = "Ingestion run #"):
    """The start message's final update (the outcome), or a post that is an outcome."""
    return slack.wait_message(
        lambda m: (
            (m.kind in ("chat.update", "chat.postMessage"))
            and m.blocks
            and m.blocks[0]["type"] == "header"
            and contains in card_text(m)
        ),
        channel=STATUS,
        timeout=timeout,
    )


def live_counts(settings) -> tuple[int, int, int | None]:
    engine = get_engine(settings)
    with engine.connect() as conn:
        customers = conn.execute(sa.text("SELECT count(*) FROM customers")).scalar()
    last = runs.last_success(engine)
    return customers, get_qdrant(settings).count(settings.qdrant_collection).count, last and last["id"]


def no_emails_posted(slack) -> None:
    for m in slack.messages():
        assert "@example.com" not in json.dumps({"text": m.text, "blocks": m.blocks}), m


def test_scheduled_run_posts_start_progress_outcome_and_the_rejects(slack, settings, files):
    crm, _ = files
    with crm.open("a", encoding="utf-8") as f:
        f.write(BAD_ROW + "\n")
    bad_line = len(crm.read_text(encoding="utf-8").splitlines())
    with crm.open("a", encoding="utf-8") as f:
        f.write(KEPT_ROW + "\n")
    fire = soon(2)
    with running_bot(slack, nightly(settings, files, cron=cron_at(fire))) as bot:
        assert bot_context(bot.app).scheduler.next_run_time() == fire
        start = slack.wait_message(lambda m: m.kind == "chat.postMessage", channel=STATUS, timeout=30)
        assert datetime.now(UTC) - fire < timedelta(seconds=10)
        assert "Ingestion run #1 started by the nightly schedule" in card_text(start)
        assert "`crm.csv` and `events.csv`" in card_text(start)
        slack.wait_message(lambda m: m.kind == "chat.update" and m.ts == start.ts and "✅ load" in card_text(m))
        done = outcome(slack)
        assert done.ts == start.ts and done.kind == "chat.update"
        text = card_text(done)
        assert "Ingestion run #1 succeeded" in text
        assert "81 loaded · 1 rejected" in text and "top reasons:" in text
        assert "stored empty: age" in text  # the customer with an unreadable age is kept
        assert "81 added · 0 changed · 0 removed" in text
        assert "81 computed" in text
        assert "load" in text and "embed" in text and "total" in text  # seconds per stage
        assert "snapshot of run #1" in text
        assert "The 1 rejected rows are attached" in text
        [rejects] = bot.files_in(STATUS, start.ts, suffix=".csv")
        rows = list(csv.DictReader(io.StringIO(rejects.content.decode())))
        assert [(r["file"], int(r["line"])) for r in rows] == [("crm", bad_line)]
        assert "99900x1" in rows[0]["raw_line"] and "[email hidden]" in rows[0]["raw_line"]
        assert "eve.bad" not in rejects.content.decode() and "kay.kept" not in rejects.content.decode()
    assert live_counts(settings) == (81, 81, 1)
    assert runs.get_run(get_engine(settings), 1)["trigger"] == "schedule"
    no_emails_posted(slack)
    slack.assert_all_messages_valid()


def test_a_missing_column_posts_the_failure_and_the_live_data_stays(slack, settings, files):
    crm, _ = files
    s = nightly(settings, files)
    ingest.run(s, *files)  # run #1: the live data
    before = live_counts(s)
    lines = crm.read_text(encoding="utf-8").splitlines()
    crm.write_text("\n".join(",".join(line.split(",")[:3] + line.split(",")[4:]) for line in lines) + "\n")  # no email
    slack.add_user(ADMIN, name="admin")
    with running_bot(slack, s):
        ack = slack.wait_ack(slack.send_slash_command("/audience", text="ingest", user_id=ADMIN, channel_id="C1"))
        assert ack.latency < 3
        started = slack.wait_message(lambda m: m.kind == "response_url" and "Ingestion started" in (m.text or ""))
        assert started.response_type == "ephemeral" and f"<#{STATUS}>" in started.text
        done = outcome(slack)
        text = card_text(done)
        assert "Ingestion run #2 failed" in text and "email" in text
        assert "The previous data is still live: snapshot of run #1" in text
    assert live_counts(s) == before == (80, 80, 1)
    assert runs.get_run(get_engine(s), 2)["trigger"] == f"slack:{ADMIN}"
    slack.assert_all_messages_valid()


def test_a_run_while_another_holds_the_lock_is_refused_with_a_message(slack, settings, files):
    s = nightly(settings, files)
    in_load, release = threading.Event(), threading.Event()

    def hold(stage: str) -> None:
        if stage == "load":
            in_load.set()
            release.wait(60)

    other = threading.Thread(target=ingest.run, args=(s, *files), kwargs={"trigger": "cli", "after_stage": hold})
    other.start()
    try:
        assert in_load.wait(60)
        slack.add_user(ADMIN, name="admin")
        fire = soon(3)
        with running_bot(slack, s.model_copy(update={"ingest_cron": cron_at(fire)})):
            slack.send_slash_command("/audience", text="ingest", user_id=ADMIN, channel_id="C1")
            refused = slack.wait_message(lambda m: m.kind == "response_url" and "already running" in (m.text or ""))
            assert "already running since" in refused.text and refused.response_type == "ephemeral"
            nightly_refused = slack.wait_message(
                lambda m: m.kind == "chat.postMessage" and "Ingestion not started" in (m.text or ""),
                channel=STATUS,
                timeout=30,
            )
            assert "already running since" in nightly_refused.text
        assert not [m for m in slack.messages(STATUS) if "started by" in card_text(m)]
    finally:
        release.set()
        other.join(120)
    with get_engine(s).connect() as conn:
        statuses = conn.execute(sa.text("SELECT status FROM ingestion_runs ORDER BY id")).scalars().all()
    assert statuses == ["succeeded"]  # the held run finished; the refused ones never started
    slack.assert_all_messages_valid()


def test_ingest_from_a_non_admin_is_refused_and_nothing_runs(slack, settings, files):
    slack.add_user("U_USER", name="user")
    with running_bot(slack, nightly(settings, files)):
        ack = slack.wait_ack(slack.send_slash_command("/audience", text="ingest", user_id="U_USER", channel_id="C1"))
        assert "is for the bot's admins" in json.dumps(ack.payload)
        time.sleep(1)
    assert slack.messages(STATUS) == []
    with get_engine(settings).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ingestion_runs")).scalar() == 0


def test_unchanged_files_are_reported_with_zero_embeddings(slack, settings, files):
    s = nightly(settings, files)
    ingest.run(s, *files)
    slack.add_user(ADMIN, name="admin")
    with running_bot(slack, s):
        slack.send_slash_command("/audience", text="ingest", user_id=ADMIN, channel_id=STATUS)
        text = card_text(outcome(slack))
        assert "Ingestion run #2 found nothing new" in text
        assert "Both files are unchanged since run #1" in text and "0 computed" in text
        assert text.count("unchanged since run #1") == 3  # the summary and each file


def test_a_missing_file_is_reported(slack, settings, files, tmp_path):
    s = nightly(settings, files, crm_csv=tmp_path / "nowhere" / "crm.csv")
    slack.add_user(ADMIN, name="admin")
    with running_bot(slack, s):
        slack.send_slash_command("/audience", text="ingest", user_id=ADMIN, channel_id=STATUS)
        text = card_text(outcome(slack))
        assert "Ingestion run #1 failed" in text and "does not exist" in text and "nowhere/crm.csv" in text
        assert "No data was live before this run" in text
    slack.assert_all_messages_valid()


def test_a_fire_time_passed_while_paused_still_runs_within_the_grace_time(slack, settings, files):
    fire = soon(3)
    with running_bot(slack, nightly(settings, files, cron=cron_at(fire))) as bot:
        scheduler = bot_context(bot.app).scheduler.scheduler
        scheduler.pause()  # the process is stopped: nothing wakes at the fire time
        assert datetime.now(UTC) < fire, "the bot took too long to start for this test's timing"
        time.sleep(max(0.0, (fire - datetime.now(UTC)).total_seconds()) + 3)  # > APScheduler's default 1 s grace
        scheduler.resume()
        assert "Ingestion run #1 succeeded" in card_text(outcome(slack))
    slack.assert_all_messages_valid()


def test_past_the_grace_time_the_skipped_run_is_reported(slack, settings, files):
    fire = soon(3)
    with running_bot(slack, nightly(settings, files, cron=cron_at(fire), ingest_misfire_grace_s=1)) as bot:
        scheduler = bot_context(bot.app).scheduler
        scheduler.scheduler.pause()
        assert datetime.now(UTC) < fire, "the bot took too long to start for this test's timing"
        time.sleep(max(0.0, (fire - datetime.now(UTC)).total_seconds()) + 3)
        scheduler.scheduler.resume()
        skipped = slack.wait_message(lambda m: "was skipped" in (m.text or ""), channel=STATUS, timeout=15)
        assert "/audience ingest" in card_text(skipped) and scheduler.next_run_time() == fire + timedelta(days=1)
    with get_engine(settings).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ingestion_runs")).scalar() == 0
    slack.assert_all_messages_valid()


def test_restarts_keep_one_job_and_a_run_missed_while_stopped_catches_up(slack, settings, files):
    fire = soon(4)
    s = nightly(settings, files, cron=cron_at(fire))
    engine = get_engine(s)
    with running_bot(slack, s):
        pass  # the bot stops before the fire time (a deploy at 02:00)
    with running_bot(slack, s):
        pass
    assert datetime.now(UTC) < fire, "the bot took too long to start for this test's timing"
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT id FROM {JOB_TABLE}")).scalars().all() == [JOB_ID]
    time.sleep(max(0.0, (fire - datetime.now(UTC)).total_seconds()) + 2)
    assert slack.messages(STATUS) == []
    with running_bot(slack, s) as bot:  # back after the fire time, within the grace time
        done = outcome(slack)
        assert "Ingestion run #1 succeeded" in card_text(done) and "nightly schedule" in card_text(done)
        jobs = bot_context(bot.app).scheduler.scheduler.get_jobs(jobstore="default")
        assert [j.id for j in jobs] == [JOB_ID] and jobs[0].next_run_time == fire + timedelta(days=1)
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {JOB_TABLE}")).scalar() == 1
    slack.assert_all_messages_valid()


def test_status_shows_the_last_runs_and_the_next_nightly_run(slack, settings, files):
    s = nightly(settings, files, cron="30 1 * * 1-5", ingest_timezone="Europe/Berlin")
    ingest.run(s, *files)
    ingest.run(s, *files)  # unchanged
    with running_bot(slack, s) as bot:
        expected = bot_context(bot.app).scheduler.next_run_time()
        assert expected.strftime("%a %H:%M") in {f"{d} 01:30" for d in ("Mon", "Tue", "Wed", "Thu", "Fri")}
        slack.send_slash_command("/audience", text="status", channel_id="C1")
        status = slack.wait_message(lambda m: m.kind == "response_url" and "Status" in (m.text or ""), timeout=15)
        text = card_text(status)
        assert "#2 unchanged" in text and "#1 succeeded" in text
        assert expected.strftime("%Y-%m-%d %H:%M") in text and "30 1 * * 1-5 Europe/Berlin" in text
    slack.assert_all_messages_valid()
