"""Who may ask: optional allowlists (ALLOWED_USERS, ALLOWED_CHANNELS), admins (ADMIN_USERS, who
count as allowed users), and no guest accounts (users.info is_restricted / is_ultra_restricted).

users.info answers are cached for a few minutes; if Slack can't say who the user is, the
question is refused (fail closed) with a message saying so. The check runs as listener middleware,
before the ack Slack wants within 3 s: users.info gets LOOKUP_TIMEOUT_S and no retries.
"""

from __future__ import annotations

import logging
import threading
import time
from enum import StrEnum

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from cdp.settings import Settings

log = logging.getLogger(__name__)

USER_CACHE_S = 300.0
LOOKUP_TIMEOUT_S = 2.0


class Refusal(StrEnum):
    USER = "user"  # not in ALLOWED_USERS
    CHANNEL = "channel"  # not in ALLOWED_CHANNELS
    GUEST = "guest"  # a guest account
    BOT = "bot"  # another bot (never answered)
    UNVERIFIED = "unverified"  # users.info failed


class Access:
    def __init__(self, settings: Settings):
        self.allowed_users = settings.allowed_user_ids
        self.allowed_channels = settings.allowed_channel_ids
        self.admins = settings.admin_user_ids
        self._cache: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins

    def check(self, client: WebClient, user_id: str, channel_id: str | None) -> Refusal | None:
        """None when `user_id` may ask in `channel_id`, else why not."""
        if self.allowed_users and user_id not in self.allowed_users and user_id not in self.admins:
            return Refusal.USER
        if self.allowed_channels and channel_id not in self.allowed_channels:
            return Refusal.CHANNEL
        user = self._user(client, user_id)
        if user is None:
            return Refusal.UNVERIFIED
        if user.get("is_bot"):
            return Refusal.BOT
        if user.get("is_restricted") or user.get("is_ultra_restricted") or user.get("deleted"):
            return Refusal.GUEST
        return None

    def _user(self, client: WebClient, user_id: str) -> dict | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
            if hit is not None and hit[0] > now:
                return hit[1]
        try:
            user = lookup_client(client).users_info(user=user_id)["user"]
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("users.info failed for %s: %s", user_id, getattr(exc, "response", None) or type(exc).__name__)
            return None
        info = {k: bool(user.get(k)) for k in ("is_bot", "is_restricted", "is_ultra_restricted", "deleted")}
        with self._lock:
            self._cache[user_id] = (now + USER_CACHE_S, info)
        return info


def lookup_client(client: WebClient) -> WebClient:
    """`client` with a short timeout and no retries (a 429's Retry-After would outlast the ack)."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=LOOKUP_TIMEOUT_S, retry_handlers=[])


class InFlight:
    """Each user's questions in progress, at most `limit` at once."""

    def __init__(self, limit: int):
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, user_id: str) -> bool:
        with self._lock:
            n = self._counts.get(user_id, 0)
            if n >= self.limit:
                return False
            self._counts[user_id] = n + 1
            return True

    def release(self, user_id: str) -> None:
        with self._lock:
            n = self._counts.get(user_id, 0) - 1
            if n > 0:
                self._counts[user_id] = n
            else:
                self._counts.pop(user_id, None)

    def count(self, user_id: str) -> int:
        with self._lock:
            return self._counts.get(user_id, 0)
