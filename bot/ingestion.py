"""Ingestion runs started from the bot (the nightly schedule, `/audience ingest`), reported in Slack.

`Ingestion.run()` runs ingest.pipeline.run on the calling thread (a scheduler worker) and keeps the
status channel informed: a start message once the run holds the lock, updated at each stage and
replaced by the outcome, the rejected rows as a CSV in its thread, "already running since …" when
another run holds the lock. After a successful run `on_success(run_id)` refreshes the saved audiences. Slack failures never fail a run; a run's failure never stops the bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.engine import Engine

from bot.files import rejects_csv
from bot.slack_io import error_name, upload
from bot.views import ingestion as views
from cdp.settings import Settings
from ingest import pipeline, runs
from ingest.errors import IngestBusy

log = logging.getLogger(__name__)

MAX_REJECTS_ATTACHED = 50_000


@dataclass(frozen=True)
class IngestRequest:
    accepted: bool
    message: str  # shown to the admin (ephemeral); our own text, may hold a <#channel> link


class Ingestion:
    """One ingestion at a time per database (the pipeline's advisory lock), reported in Slack."""

    def __init__(self, settings: Settings, client: WebClient, engine: Engine, *, on_new_data=None, on_success=None):
        self.settings = settings
        self.on_new_data = on_new_data  # () -> None after a run made new data live (the bot warms up)
        self.on_success = on_success  # (run_id) -> None after the outcome is posted (saved audiences refresh)
        self.client = client
        self.engine = engine
        self.next_run = lambda: None  # () -> datetime | None, the scheduler's next nightly run (set by it)
        self.running = 0  # runs in progress in this process

    # -- asking ----------------------------------------------------------------------------------
    def check_request(self) -> IngestRequest | None:
        """Why a run asked for now would not start (files not set, a run in progress), or None."""
        missing = self.missing_settings()
        if missing:
            return IngestRequest(False, missing)
        busy = pipeline.busy_message(self.engine)
        if busy:
            return IngestRequest(False, busy + " Its outcome will be posted" + self._where() + ".")
        return None

    def missing_settings(self) -> str | None:
        unset = [
            name for name, v in (("CRM_CSV", self.settings.crm_csv), ("EVENTS_CSV", self.settings.events_csv)) if not v
        ]
        if not unset:
            return None
        return (
            f"{' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set. Set them to the paths of the "
            "nightly CRM and clickstream exports in the bot's environment and restart it."
        )

    def accepted_message(self) -> str:
        return "Ingestion started. Progress and the outcome will be posted" + self._where() + "."

    def _where(self) -> str:
        channel = self.settings.status_channel
        return f" in <#{channel}>" if channel else " here"

    # -- running ---------------------------------------------------------------------------------
    def run(self, *, trigger: str = "schedule", reply_channel: str | None = None) -> dict | None:
        """Run the pipeline and report it; returns the run record (None when it could not start).
        Never raises: failures are recorded by the pipeline and reported here."""
        channel = self.settings.status_channel or reply_channel
        previous = _quiet(runs.last_success, self.engine)
        missing = self.missing_settings()
        if missing:
            log.error("ingestion (%s) not started: %s", trigger, missing)
            self._post(channel, views.not_started(missing, previous=previous))
            return None
        crm, events = str(self.settings.crm_csv), str(self.settings.events_csv)
        state: dict[str, Any] = {"run_id": None, "ts": None}

        def on_start(run_id: int) -> None:
            state["run_id"] = run_id
            state["ts"] = self._post(channel, views.run_started(run_id, trigger, crm, events))

        def after_stage(stage: str) -> None:
            if state["ts"]:
                self._update(channel, state["ts"], views.run_started(state["run_id"], trigger, crm, events, done=stage))

        self.running += 1
        try:
            pipeline.run(
                self.settings, self.settings.crm_csv, self.settings.events_csv,
                trigger=trigger, on_start=on_start, after_stage=after_stage,
            )  # fmt: skip
        except IngestBusy as exc:
            log.warning("ingestion (%s) not started: %s", trigger, exc)
            self._post(channel, views.not_started(str(exc), previous=previous))
            return None
        except Exception as exc:  # recorded as failed by the pipeline; the previous data is still live
            if state["run_id"] is None:
                log.exception("ingestion (%s) could not start", trigger)
                self._post(channel, views.not_started(f"{type(exc).__name__}: {exc}", previous=previous))
                return None
        finally:
            self.running -= 1
        record = runs.get_run(self.engine, state["run_id"])
        if record["status"] == "succeeded" and self.on_new_data is not None:
            try:  # the first question after the nightly run should not pay for the new snapshot's caches
                self.on_new_data()
            except Exception:
                log.exception("warming up after ingestion run %s failed", record["id"])
        self._report(channel, state["ts"], record, previous)
        if record["status"] == "succeeded" and self.on_success is not None:
            try:  # the saved audiences: refreshed on the new snapshot, each posting in its own thread
                self.on_success(record["id"])
            except Exception:
                log.exception("after ingestion run %s: refreshing the saved audiences failed", record["id"])
        return record

    def report_missed(self, scheduled_for: datetime) -> None:
        previous = _quiet(runs.last_success, self.engine)
        log.warning("the nightly ingestion due %s was missed (more than the grace time late)", scheduled_for)
        message = views.run_missed(
            scheduled_for, self.settings.ingest_misfire_grace_s, previous=previous, next_run=self.next_run()
        )
        self._post(self.settings.status_channel, message)

    def _report(self, channel: str | None, ts: str | None, record: dict, previous: dict | None) -> None:
        total = (record.get("crm_rejected") or 0) + (record.get("events_rejected") or 0)
        rows = runs.rejects(self.engine, record["id"], MAX_REJECTS_ATTACHED) if total else []
        total = max(total, len(rows))  # a failed validation may have recorded rejects without the counts
        log.info(
            "ingestion run %s %s: crm %s loaded / %s rejected, events %s loaded / %s rejected",
            record["id"], record["status"], record.get("crm_loaded"), record.get("crm_rejected"),
            record.get("events_loaded"), record.get("events_rejected"),
        )  # fmt: skip
        attached = 0
        if rows and channel and ts:
            name, content = rejects_csv(record["id"], rows)
            if upload(self.client, channel, ts, name, content, f"ingestion-run-{record['id']}", note_on_failure=False):
                attached = len(rows)
        message = views.run_outcome(
            record, previous=previous, rejects_attached=attached, rejects_total=total, next_run=self.next_run()
        )
        if not ts or not self._update(channel, ts, message):
            self._post(channel, message)

    # -- Slack, best effort ------------------------------------------------------------------------
    def _post(self, channel: str | None, message: dict, *, thread_ts: str | None = None) -> str | None:
        if not channel:
            log.info("no STATUS_CHANNEL set: %s", message["text"])
            return None
        for attempt in (1, 2):
            try:
                resp = self.client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
                )
                return resp["ts"]
            except SlackApiError as exc:
                error = exc.response.get("error")
                if attempt == 1 and error == "not_in_channel" and self._join(channel):
                    continue
                log.error(
                    "could not post the ingestion status in %s: %s%s", channel, error,
                    " — invite the bot to STATUS_CHANNEL (/invite @Audience)" if error == "not_in_channel" else "",
                )  # fmt: skip
            except SlackClientError as exc:
                log.error("could not post the ingestion status in %s: %s", channel, exc)
            return None
        return None

    def _update(self, channel: str | None, ts: str, message: dict) -> bool:
        try:
            self.client.chat_update(channel=channel, ts=ts, **message)
            return True
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not update the ingestion status message: %s", error_name(exc))
            return False

    def _join(self, channel: str) -> bool:
        try:
            self.client.conversations_join(channel=channel)
            return True
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not join %s: %s", channel, error_name(exc))
            return False


def _quiet(fn, *args):
    try:
        return fn(*args)
    except Exception:
        log.exception("could not read the ingestion runs")
        return None
