"""Signed webhook requests with retries (the transport of a webhook destination).

Each request is a JSON body signed with the destination's secret:
    X-Audience-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>
    X-Audience-Timestamp: <unix seconds when the request was sent>
    Idempotency-Key:      <the batch id, also in the body>
Retried with exponential backoff (backoff_s, 2×backoff_s, 4×…) on connection errors, timeouts, 5xx
and 429 (a Retry-After in seconds or as an HTTP date is honoured, capped at MAX_WAIT_S), at most
max_retries times; any other answer fails at once. Nothing here logs a body, a URL's path or a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from audiences.errors import AudienceError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Audience-Signature"
TIMESTAMP_HEADER = "X-Audience-Timestamp"
MAX_WAIT_S = 300.0


class DeliveryFailed(AudienceError):
    """A request that finally failed; says what the receiver did and what to do."""


@dataclass(frozen=True)
class Policy:
    max_retries: int
    backoff_s: float
    timeout_s: float


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    secret: bytes,
    batch_id: str,
    policy: Policy,
    *,
    where: str,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST one signed batch; the number of attempts it took. Raises DeliveryFailed."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body), "Idempotency-Key": batch_id}
    problem = ""
    for attempt in range(policy.max_retries + 1):
        wait = policy.backoff_s * (2**attempt)
        try:
            r = client.post(
                url, content=body, headers={**headers, TIMESTAMP_HEADER: str(int(time.time()))},
                timeout=policy.timeout_s,
            )  # fmt: skip
        except httpx.TransportError as exc:
            problem = f"could not reach {where} ({type(exc).__name__})"
        else:
            if 200 <= r.status_code < 300:
                return attempt + 1
            if r.status_code != 429 and r.status_code < 500:
                raise DeliveryFailed(
                    f"{where} refused the batch with HTTP {r.status_code}. Check the receiver's URL and that it "
                    "accepts this body and signature, then send again."
                )
            problem = f"{where} answered HTTP {r.status_code}"
            if r.status_code == 429:
                asked = retry_after(r.headers.get("Retry-After"))
                wait = min(asked, MAX_WAIT_S) if asked is not None else wait
        if attempt < policy.max_retries:
            log.warning("webhook batch %s: %s; retry %d of %d in %.1fs", batch_id, problem, attempt + 1,
                        policy.max_retries, wait)  # fmt: skip
            sleep(wait)
    raise DeliveryFailed(
        f"{problem} after {policy.max_retries + 1} attempt{'s' if policy.max_retries else ''}. Nothing was marked "
        "delivered: the next send resends the same changes with the same batch ids."
    )
