"""The app factory: `create_app(settings, discovery, *, client=None, executor=None) -> App`.

The returned Bolt app carries a `BotContext` (bot/context.py: settings, discovery, the bot's tables,
access rules, the bounded worker pool); listeners get it as `context["audience"]`. The listeners
(bot/listeners) run behind listener middleware (dedupe, access) and one error handler
(bot/listeners/guards.py). `shutdown(app)` stops the pools (call it after `SocketModeHandler.close()`).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from audiences.destinations import load_or_error
from audiences.seeds import seed_resolver
from bot import home
from bot.access import Access, InFlight
from bot.context import CONTEXT_KEY, BotContext
from bot.files import chart_png
from bot.ingestion import Ingestion
from bot.listeners import actions, activation, audience_commands, audiences, commands, events
from bot.listeners.guards import on_error
from bot.saved_audiences import SavedAudiences
from bot.scheduler import IngestScheduler
from bot.store import BotStore
from cdp.settings import Settings
from discovery.service import Discovery

LISTENER_THREADS_MIN = 16
RATE_LIMIT_RETRIES = 3
CATCH_UP_WAIT_S = 120

log = logging.getLogger(__name__)


_contexts: weakref.WeakKeyDictionary[App, BotContext] = weakref.WeakKeyDictionary()


def make_client(settings: Settings) -> WebClient:
    """The Web API client: SLACK_BOT_TOKEN, SLACK_API_URL (create_app adds the retry handlers)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=30)


def add_retry_handlers(client: WebClient) -> None:
    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    if not any(isinstance(h, ConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))


def create_app(
    settings: Settings,
    discovery: Discovery,
    *,
    client: WebClient | None = None,
    executor: Executor | None = None,
    start_scheduler: bool = True,
) -> App:
    """Build the Bolt app. `client`: a ready WebClient (default: from settings; 429 retries are added
    either way). `executor`: the worker pool answering questions (default: settings.bot_workers
    threads, owned and shut down by `shutdown(app)`; a given executor stays the caller's).
    The ingestion scheduler (INGEST_CRON; `/audience ingest`) and the saved audiences' catch-up (in the
    background) start here unless `start_scheduler` is False; an invalid INGEST_CRON / INGEST_TIMEZONE raises ScheduleError before anything starts."""
    client = client or make_client(settings)
    saved = SavedAudiences(settings, discovery, client)
    if discovery.seed_resolver is None:  # "customers like the Luxury PL audience": saved audiences as seeds
        discovery.seed_resolver = seed_resolver(saved.store)
    ingestion = Ingestion(
        settings, client, discovery.engine, on_new_data=discovery.warm_up, on_success=saved.after_ingestion
    )
    scheduler = IngestScheduler(settings, discovery.engine, ingestion)
    add_retry_handlers(client)  # retries on 429 (Retry-After) and connection errors
    store = BotStore(discovery.engine, dedupe_ttl_s=settings.event_dedupe_ttl_s)
    store.ensure_tables()
    listener_executor = ThreadPoolExecutor(
        max_workers=max(LISTENER_THREADS_MIN, 2 * settings.bot_workers), thread_name_prefix="bolt-listener"
    )
    pool = executor or ThreadPoolExecutor(max_workers=settings.bot_workers, thread_name_prefix="audience-worker")
    try:
        app = App(client=client, listener_executor=listener_executor, name="audience-bot")
    except Exception:
        listener_executor.shutdown(wait=False)
        if executor is None:
            pool.shutdown(wait=False)
        raise
    bot = BotContext(
        settings=settings,
        discovery=discovery,
        store=store,
        access=Access(settings),
        inflight=InFlight(settings.max_questions_per_user),
        pool=pool,
        owns_pool=executor is None,
        listener_executor=listener_executor,
        scheduler=scheduler,
        audiences=saved,
    )
    _contexts[app] = bot

    @app.middleware
    def attach_context(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 - Bolt's name
        context[CONTEXT_KEY] = bot
        next()

    app.error(on_error)
    if problem := load_or_error(settings)[1]:  # the bot starts anyway; `/audience status` shows it too
        log.warning("%s", " ".join(problem.split()))
    activation.register(app)  # first: its export/send phrases would otherwise read as audience commands
    audiences.register(app)  # before commands and events: their last listeners take any text as a question
    audience_commands.register(app)
    home.register(app)
    commands.register(app)
    events.register(app)
    actions.register(app)
    if start_scheduler:
        scheduler.start()
        saved.catch_up_in_background()  # audiences behind the live snapshot (an ingestion while stopped)
    return app


def warm_up(app: App) -> None:
    """Before taking commands: discovery's one-time costs and matplotlib (its import alone holds the
    GIL for ~1.5 s; paid inside the first breakdown question it stalled the acks of a burst)."""
    bot_context(app).discovery.warm_up()
    chart_png(["country", "customers"], [["warm-up", 1]], "warm-up")


def bot_context(app: App) -> BotContext:
    return _contexts[app]


def shutdown(app: App, *, wait: bool = True) -> None:
    """Stop taking work and (with `wait`) let the questions in progress finish."""
    bot = _contexts.get(app)
    if bot is None:
        return
    bot.scheduler.shutdown(wait=wait)
    if wait:
        bot.audiences.wait(CATCH_UP_WAIT_S)
    bot.listener_executor.shutdown(wait=wait)
    if bot.owns_pool and isinstance(bot.pool, ThreadPoolExecutor):
        bot.pool.shutdown(wait=wait)
