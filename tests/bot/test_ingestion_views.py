"""The status-channel messages of an ingestion run: pure builders, valid Block Kit, what a data owner checks."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from bot.files import rejects_csv
from bot.views import ingestion as views
from bot.views.text import hide_emails
from tests.fakes.slack import validate_message

PREVIOUS = {
    "id": 6, "status": "succeeded", "trigger": "schedule", "crm_sha256": "aaa", "events_sha256": "bbb",
    "crm_loaded": 5000, "events_loaded": 50000, "finished_at": "2026-11-22T02:03:10+00:00",
    "data_min_ts": "2025-11-01T00:00:00", "data_max_ts": "2026-11-21T23:59:00",
}  # fmt: skip
RUN = {
    "id": 7, "status": "succeeded", "trigger": "slack:U_ADMIN", "crm_file": "/exports/crm_customers.csv",
    "events_file": "/exports/clickstream_events.csv", "crm_sha256": "aaa", "events_sha256": "ccc",
    "crm_bytes": 512_000, "events_bytes": 3_500_000, "crm_loaded": 5000, "crm_rejected": 0,
    "events_loaded": 51000, "events_rejected": 12,
    "reject_reasons": {"events": {"price is not a number": 9, "unknown customer_id": 2, "bad timestamp": 1}},
    "profiles_added": 3, "profiles_changed": 41, "profiles_removed": 1, "embeddings_computed": 44,
    "embeddings_skipped": 4958, "stage_seconds": {"hash": 0.2, "load": 3.4, "validate": 0.8, "embed": 6.1},
    "started_at": "2026-11-23T09:00:00+00:00", "finished_at": "2026-11-23T09:00:12.5+00:00",
    "data_min_ts": "2025-11-01T00:00:00", "data_max_ts": "2026-11-22T23:59:00",
}  # fmt: skip
NEXT = datetime(2026, 11, 24, 2, tzinfo=UTC)


def text_of(message: dict) -> str:
    validate_message(message)
    return json.dumps(message, ensure_ascii=False)


def test_success_shows_files_changes_embeddings_stages_and_the_new_snapshot():
    text = text_of(views.run_outcome(RUN, previous=PREVIOUS, rejects_attached=12, rejects_total=12, next_run=NEXT))
    assert "Ingestion run #7 succeeded" in text
    assert "`crm_customers.csv`" in text and "/exports" not in text  # file names, not server paths
    assert "unchanged since run #6" in text and "new or changed" in text  # crm same hash, events not
    assert "51,000 loaded · 12 rejected" in text and "price is not a number (9)" in text
    assert "3 added · 41 changed · 1 removed" in text and "44 computed · 4,958 skipped" in text
    assert "load" in text and "3.4" in text and "12.5" in text  # per stage and the total
    assert "snapshot of run #7" in text and "2026-11-22 23:59" in text
    assert "The 12 rejected rows are attached" in text and "<@U_ADMIN>" in text and "2026-11-24 02:00" in text


def test_failure_says_why_and_that_the_previous_data_is_live():
    failed = {**RUN, "status": "failed", "error": "The crm file lacks the column email <!channel> a@b.com"}
    text = text_of(views.run_outcome(failed, previous=PREVIOUS, next_run=NEXT))
    assert "Ingestion run #7 failed" in text and "lacks the column email" in text
    assert "The previous data is still live: snapshot of run #6" in text and "/audience ingest" in text
    assert "<!channel>" not in text and "a@b.com" not in text
    first = views.run_outcome({**failed, "crm_loaded": 0, "events_loaded": 0, "events_rejected": 0}, previous=None)
    assert "No data was live before this run" in text_of(first)


def test_progress_missed_and_not_started():
    started = views.run_started(7, "schedule", "/x/crm.csv", "/x/events.csv", done="validate")
    text = text_of(started)
    assert "run #7 started by the nightly schedule" in text and "`crm.csv` and `events.csv`" in text
    assert "✅ load → ✅ validate → ⏳ profiles → ◻️ embeddings" in text
    missed = views.run_missed(datetime(2026, 11, 23, 2, tzinfo=UTC), 21600, previous=PREVIOUS, next_run=NEXT)
    assert "was skipped" in text_of(missed) and "6 h" in text_of(missed) and "snapshot of run #6" in text_of(missed)
    busy = views.not_started("An ingestion is already running since 2026-11-23 02:00:01 UTC", previous=None)
    assert "already running since" in text_of(busy) and "No data is live yet" in text_of(busy)


def test_rejects_csv_keeps_line_numbers_and_hides_emails():
    name, content = rejects_csv(7, [
        {"file": "crm", "line_no": 12, "reason": "age is not a number", "raw_line": "9,Eve,B,eve@x.io,DE,abc"},
        {"file": "events", "line_no": 3, "reason": "bad", "raw_line": "=HYPERLINK(1)"},
    ])  # fmt: skip
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert name == "ingestion-run-7-rejected-rows.csv"
    assert rows == [
        ["file", "line", "reason", "raw_line"],
        ["crm", "12", "age is not a number", "9,Eve,B,[email hidden],DE,abc"],
        ["events", "3", "bad", "'=HYPERLINK(1)"],
    ]
    assert hide_emails("write to a.b+c@d-e.co.uk") == "write to [email hidden]"
