"""The nightly ingestion inside the bot process: APScheduler 3 with a CronTrigger from INGEST_CRON.

- The nightly job lives in PostgreSQL (table bot_scheduler_jobs) under a fixed id, so a restart
  finds it instead of adding a second one, and a run whose time passed while the bot was stopped
  (a deploy at 02:00) or paused still runs when the bot is back within INGEST_MISFIRE_GRACE_S.
  Past the grace time the run is skipped and the status channel is told.
- coalesce: several missed fire times make one run; max_instances=1: a run never overlaps itself.
- `/audience ingest` runs go to the same worker threads from an in-memory store (a replica
  never picks up another's manual run). Two runs never ingest at once anywhere: the pipeline's
  advisory lock refuses the second, which posts "already running since …".
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from bot.ingestion import Ingestion, IngestRequest
from bot.schedule import schedule_trigger, time_zone
from cdp.settings import Settings

log = logging.getLogger(__name__)

JOB_ID = "nightly-ingestion"
JOB_TABLE = "bot_scheduler_jobs"
WORKERS = 2  # the nightly run and a manual one may overlap in time (the loser reports "already running")

_schedulers: dict[str, IngestScheduler] = {}  # this process's scheduler per database


def nightly_ingestion(database: str) -> None:
    """The stored job's function (referenced by name in bot_scheduler_jobs; keep it here)."""
    scheduler = _schedulers.get(database)
    if scheduler is None:
        log.error("the nightly ingestion fired but no scheduler is running for this database")
        return
    scheduler.ingestion.run(trigger="schedule")


class IngestScheduler:
    def __init__(self, settings: Settings, engine: Engine, ingestion: Ingestion):
        self.settings = settings
        self.ingestion = ingestion
        self.trigger = schedule_trigger(settings.ingest_cron, settings.ingest_timezone)  # ScheduleError if invalid
        self.database = engine.url.render_as_string(hide_password=True)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE), "manual": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(WORKERS)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=time_zone(settings.ingest_timezone),
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        ingestion.next_run = self.next_run_time

    def start(self) -> None:
        """Start the scheduler and put the nightly job in place (or take it out when INGEST_CRON=off)."""
        self.scheduler.start(paused=True)
        _schedulers[self.database] = self
        existing = self.scheduler.get_job(JOB_ID, jobstore="default")
        if self.trigger is None:
            if existing is not None:
                self.scheduler.remove_job(JOB_ID, jobstore="default")
            log.info("nightly ingestion is off (INGEST_CRON=%s)", self.settings.ingest_cron)
        else:
            keep = {}
            if existing is not None and _same_schedule(existing.trigger, self.trigger) and existing.next_run_time:
                keep["next_run_time"] = existing.next_run_time  # a fire time missed while stopped still counts
            self.scheduler.add_job(
                nightly_ingestion,
                self.trigger,
                args=[self.database],
                id=JOB_ID,
                name="nightly ingestion",
                jobstore="default",
                replace_existing=True,
                misfire_grace_time=self.settings.ingest_misfire_grace_s,  # coalesce, max_instances: job_defaults
                **keep,
            )
            log.info(
                "nightly ingestion scheduled (%s %s): next run %s",
                self.settings.ingest_cron, self.settings.ingest_timezone, self.next_run_time(),
            )  # fmt: skip
            if not self.settings.status_channel:
                log.warning("STATUS_CHANNEL is not set: ingestion outcomes are only logged")
        self.scheduler.resume()

    def shutdown(self, *, wait: bool = True) -> None:
        if wait and self.ingestion.running:
            log.info("waiting for the ingestion in progress to finish (the live data is safe if it is killed)")
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if _schedulers.get(self.database) is self:
            del _schedulers[self.database]

    def next_run_time(self) -> datetime | None:
        if self.trigger is None or not self.scheduler.running:
            return None
        job = self.scheduler.get_job(JOB_ID, jobstore="default")
        return job.next_run_time if job else None

    def request(self, *, requested_by: str, channel_id: str | None = None) -> IngestRequest:
        """`/audience ingest`: start a run now on the scheduler's workers; answers at once."""
        refusal = self.ingestion.check_request()
        if refusal is not None:
            return refusal
        self.scheduler.add_job(
            self.ingestion.run,
            "date",
            id=f"manual-{uuid.uuid4().hex[:12]}",
            name=f"ingestion requested by {requested_by}",
            jobstore="manual",
            kwargs={"trigger": f"slack:{requested_by}", "reply_channel": channel_id},
            misfire_grace_time=None,
        )
        log.info("ingestion requested from Slack by %s", requested_by)
        return IngestRequest(True, self.ingestion.accepted_message())

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.job_id != JOB_ID:
            return
        if event.code == EVENT_JOB_MISSED:
            self.ingestion.report_missed(event.scheduled_run_time)
        else:
            log.warning("the nightly ingestion fired while the previous one was still running; skipped")


def _same_schedule(a, b) -> bool:
    return str(a) == str(b) and str(getattr(a, "timezone", "")) == str(getattr(b, "timezone", ""))
