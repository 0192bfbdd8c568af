"""`BotContext`: what every listener gets as `context["audience"]` (settings, discovery, the bot's tables,
access rules, the per-user limit, the worker pools, the ingestion scheduler, saved audiences)."""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_bolt import BoltContext

from bot.access import Access, InFlight
from bot.saved_audiences import SavedAudiences
from bot.scheduler import IngestScheduler
from bot.store import BotStore
from cdp.settings import Settings
from discovery.service import Discovery

CONTEXT_KEY = "audience"


@dataclass
class BotContext:
    settings: Settings
    discovery: Discovery
    store: BotStore
    access: Access
    inflight: InFlight
    pool: Executor
    owns_pool: bool
    listener_executor: ThreadPoolExecutor
    scheduler: IngestScheduler
    audiences: SavedAudiences
    _thread_locks: weakref.WeakValueDictionary = field(default_factory=weakref.WeakValueDictionary)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    def thread_lock(self, channel: str, thread_ts: str | None) -> threading.Lock:
        """One lock per conversation thread: follow-ups in a thread are answered one at a time."""
        key = (channel, thread_ts or "")
        with self._locks_guard:
            lock = self._thread_locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._thread_locks[key] = lock
            return lock


def bot_of(context: BoltContext) -> BotContext:
    """The bot's context inside a listener, middleware or matcher."""
    return context[CONTEXT_KEY]
