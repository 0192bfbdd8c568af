"""`/audience ingest`: the admins' trigger for an ingestion run.

The hook point for the scheduler work: it replaces `request_ingestion` (or passes its own
function to `create_app(..., ingest_trigger=...)`) to start a run on the scheduler and report
in STATUS_CHANNEL. Until then an admin's request is acknowledged and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cdp.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestRequest:
    accepted: bool
    message: str  # shown to the admin (ephemeral)


def request_ingestion(settings: Settings, *, requested_by: str, channel_id: str | None = None) -> IngestRequest:
    """Ask for an ingestion run now. Must return quickly (it runs while Slack waits); the run itself
    belongs on the scheduler's thread."""
    log.info("ingestion requested from Slack by %s in %s", requested_by, channel_id)
    where = f" Progress will be reported in <#{settings.status_channel}>." if settings.status_channel else ""
    return IngestRequest(True, "Ingestion requested." + where)
