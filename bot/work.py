"""One question, from the listener's hand-off to the card: per-user limit, the first visible
message (the question quoted, live progress), discovery in the worker pool, the card, the files.

Runs in two places: `submit` in the listener thread right after the ack (fast: a counter, one
chat.postMessage), `answer` in the bounded worker pool (discovery; everything after).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from audiences.evaluate import members_sql
from audiences.screen import Screening, counted, counted_estimate, ids_sql
from bot import files
from bot.context import BotContext
from bot.slack_io import Target, deliver, error_name, post, respond, tell, upload
from bot.store import Card
from bot.views import errors
from bot.views.progress import progress_message
from bot.views.result_card import Diff, is_breakdown, result_card
from discovery.limits import DEFAULT_LIMIT
from discovery.result import Reason, Result
from discovery.service import Conversation, new_request_id

log = logging.getLogger(__name__)

Origin = Literal["command", "mention", "dm", "thread"]
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
PROGRESS_MIN_INTERVAL_S = 0.4


@dataclass
class Ask:
    """What answering needs: who asked what, where, and how to answer."""

    question: str
    user: str
    channel: str
    origin: Origin
    thread_ts: str | None = None  # the thread to answer in; a command starts a new one
    response_url: str | None = None  # slash commands: the fallback when the bot is not in the channel
    request_id: str = field(default_factory=new_request_id)
    seed_ids: list[int] | None = None  # "Find more like these" on a card: its customers are the seeds


# -------------------------------------------------------------------------------- hand-off


def submit(bot: BotContext, client: WebClient, ask: Ask) -> bool:
    """Listener side: check the user's limit, post the first message, hand over to a worker."""
    if not bot.inflight.acquire(ask.user):
        tell(client, ask.user, ask.channel, errors.busy(bot.inflight.limit), thread_ts=ask.thread_ts,
             response_url=ask.response_url)  # fmt: skip
        return False
    try:
        target = open_target(bot, client, ask)
    except Exception as exc:
        bot.inflight.release(ask.user)
        log.error(
            "request %s: could not post the first message in %s: %s", ask.request_id, ask.channel, error_name(exc)
        )
        tell(client, ask.user, ask.channel, errors.unexpected(ask.request_id), thread_ts=ask.thread_ts,
             response_url=ask.response_url)  # fmt: skip
        return False
    try:
        future = bot.pool.submit(answer, bot, client, ask, target)
    except RuntimeError:  # the pool is shut down: the bot is stopping
        bot.inflight.release(ask.user)
        deliver(client, target, errors.shutting_down())
        return False
    future.add_done_callback(lambda _f: bot.inflight.release(ask.user))
    log.info("request %s: %s from %s in %s queued", ask.request_id, ask.origin, ask.user, ask.channel)
    return True


def open_target(bot: BotContext, client: WebClient, ask: Ask) -> Target:
    """Post the progress message: a new top-level message for a command (its thread holds the files
    and the follow-ups), a reply in the thread otherwise. A command in a channel the bot is not in
    is answered through its response_url."""
    first = progress_message(ask.question, user=ask.user if ask.origin == "command" else None)
    try:
        ts = post(client, ask.channel, first, thread_ts=ask.thread_ts)
    except SlackApiError as exc:
        if ask.response_url and exc.response.get("error") in NOT_A_MEMBER:
            log.info("request %s: not in %s; answering through the response_url", ask.request_id, ask.channel)
            note = progress_message(ask.question)
            note["blocks"].append(errors.not_in_channel()["blocks"][0])
            respond(ask.response_url, note)
            return Target(ask.channel, None, None, response_url=ask.response_url)
        raise
    thread_ts = ask.thread_ts or ts
    try:  # follow-ups sent while the first answer is computed find the thread (save_thread upserts anyway)
        bot.store.start_thread(ask.channel, thread_ts, ask.user)
    except Exception:
        log.exception("request %s: could not record the thread", ask.request_id)
    return Target(ask.channel, thread_ts, ts)


class Progress:
    """discovery's progress callback: updates the progress message (best effort, throttled)."""

    def __init__(self, client: WebClient, target: Target, ask: Ask):
        self.client, self.target, self.ask = client, target, ask
        self.last_stage: str | None = None
        self.last_update = float("-inf")  # the first update is sent at once

    def __call__(self, stage: str) -> None:
        if self.target.via_response_url or stage == self.last_stage:
            return
        now = time.monotonic()
        if now - self.last_update < PROGRESS_MIN_INTERVAL_S:
            return
        self.last_stage, self.last_update = stage, now
        message = progress_message(
            self.ask.question, stage, user=self.ask.user if self.ask.origin == "command" else None
        )
        try:
            self.client.chat_update(channel=self.target.channel, ts=self.target.message_ts, **message)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.info("request %s: progress update failed: %s", self.ask.request_id, error_name(exc))


# -------------------------------------------------------------------------------- the work


def is_explanation(result: Result) -> bool:
    """The answer explains one customer ("why is customer 17 in?") rather than defining a segment."""
    return result.explain_customer is not None


def answer(bot: BotContext, client: WebClient, ask: Ask, target: Target) -> None:
    """Worker side: discovery, thread memory, the card, the files. Never raises."""
    rid = ask.request_id
    try:
        lock = bot.thread_lock(target.channel, target.thread_ts) if target.thread_ts else contextlib.nullcontext()
        with lock:
            _answer(bot, client, ask, target)
    except Exception:
        log.exception("request %s failed", rid)
        try:
            deliver(client, target, errors.unexpected(rid))
        except Exception as exc:  # Slack itself is failing: the log has it
            log.error("request %s: could not post the error message: %s", rid, error_name(exc))


def _answer(bot: BotContext, client: WebClient, ask: Ask, target: Target) -> None:
    rid = ask.request_id
    state = bot.store.thread(target.channel, target.thread_ts) if target.thread_ts else None
    conversation = Conversation.from_dict(state.conversation if state else None)
    if ask.seed_ids:
        conversation.segment_ids = list(ask.seed_ids)
    result = bot.discovery.answer(ask.question, conversation, progress=Progress(client, target, ask), request_id=rid)

    if result.reason is Reason.NO_DATA:
        deliver(client, target, errors.no_data(result.answer))
        return

    explanation = is_explanation(result)
    segment_ids = state.segment_ids if state else None
    diff = None
    if result.kind == "segment" and not explanation:
        ids = [c.customer_id for c in result.customers]
        if segment_ids is not None:
            diff = Diff.between(segment_ids, ids)
        segment_ids = ids
    if target.thread_ts:
        try:
            bot.store.save_thread(target.channel, target.thread_ts, conversation.to_dict(), segment_ids, ask.user)
        except Exception:
            log.exception("request %s: the thread's memory could not be saved", rid)

    doc = result.to_json()
    card_id = uuid.uuid4().hex[:16]
    bot.store.save_card(
        Card(card_id, target.channel, target.thread_ts, target.message_ts, ask.user, ask.question, doc), request_id=rid
    )
    hint = errors.INVITE_HINT if target.via_response_url else None
    activation = None if explanation else activation_of(bot, result, rid)
    message = result_card(
        result, card_id=card_id, diff=diff, explanation=explanation, request_id=rid, hint=hint, activation=activation
    )
    deliver(client, target, message)
    if target.via_response_url or result.kind == "clarify" or explanation:
        return
    uploads = [files.json_file(files.activatable(doc, bot.discovery.engine))]
    if is_breakdown(result):
        uploads.append(files.chart_file(doc))
    for name, content in uploads:
        upload(client, target.channel, target.thread_ts, name, content, rid)


ACTIVATION_COUNT_MS = 2500


def activation_of(bot: BotContext, result: Result, rid: str) -> Screening | None:
    """Who of the WHOLE segment may leave the system, counted as the thread's exports hold it
    (bot.listeners.activation.thread_members): a lookalike, an explicit top N or a segment the card
    shows in full = its customers; an intent's refined set discovery held = those ids; a gate without
    an intent = the whole gate, in one statement; an intent over a gate too large to hold = the gate's
    shares applied to the refined size ("about"). None for another answer, or when the count fails
    (the card goes out without it)."""
    if result.kind != "segment" or not result.customers:
        return None
    engine, q, f = bot.discovery.engine, result.query, result.funnel
    # the card waits for this count: past a short budget it goes out without the line (a whole
    # million-customer segment takes ~5 s to screen; its exports still count every member)
    timeout = min(bot.settings.sql_statement_timeout_ms, ACTIVATION_COUNT_MS)
    try:
        if q is None or q.like is not None or q.limit != DEFAULT_LIMIT or f.after_semantic <= len(result.customers):
            return counted(engine, ids_sql(c.customer_id for c in result.customers), timeout_ms=timeout)
        if result.members is not None:
            return counted(engine, ids_sql(result.members), timeout_ms=timeout)
        gate = counted(engine, members_sql(q, datetime.now()), timeout_ms=timeout)
        return gate if not q.intent else counted_estimate(gate, f.after_semantic)
    except Exception:
        log.exception("request %s: the activation count failed", rid)
        return None
