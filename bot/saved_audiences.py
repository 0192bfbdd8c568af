"""The bot's side of saved audiences (the audiences package does the work; this posts it in Slack).

- the segment a thread or a card holds, as a recipe (`segment_of_card`, `recipe_of_card`);
- `SavedAudiences.after_ingestion(run_id)`: after a successful run every audience is refreshed on
  the new snapshot and ONE notice per audience worth posting goes to where it was saved;
- `catch_up()`: on start, the audiences behind the live snapshot (`python -m ingest run` while the
  bot was stopped) are refreshed and posted the same way, in the background;
- the members' details for the downloadable files (the only place e-mails go).
Slack failures never fail a refresh; one audience's failure is its own notice.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime

from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from audiences import delivery
from audiences import destinations as dests
from audiences.cli import show_json
from audiences.model import Recipe, SavedAudience, recipe_from_result
from audiences.refresh import Audiences, Outcome, pending, refresh_all
from bot.files import activatable, csv_file, sizes_png, slug
from bot.slack_io import error_name, post
from bot.store import BotStore, Card
from bot.views.audiences import refresh_message
from bot.views.text import message
from cdp.settings import Settings
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery
from discovery.result import Customer, Result
from discovery.result import Recipe as AnswerRecipe
from discovery.service import Discovery

log = logging.getLogger(__name__)

DOWNLOAD_MAX = 100_000  # members written to a download
TOP_SHOWN = 5


def segment_of_card(card: Card) -> Result | None:
    """The card's answer as a discovery Result when it is a segment (not a count, a table, a question
    back or the explanation of one customer), else None."""
    doc = card.document or {}
    r = doc.get("recipe") or {}
    if doc.get("kind") != "segment" or not isinstance(r.get("query"), dict):
        return None
    try:
        query = AudienceQuery.model_validate(r["query"])
    except ValidationError:
        return None
    if query.crm.customer_ids:
        return None
    recipe = AnswerRecipe(
        query=r["query"], sql=list(r.get("sql") or []), semantic_query=r.get("semantic_query"), model=r.get("model"),
        embedding_model=r.get("embedding_model"), data_snapshot=dict(r.get("data_snapshot") or {}),
    )  # fmt: skip
    return Result(kind="segment", question=card.question, answer=doc.get("answer") or "",
                  mode=doc.get("mode") or "offline", recipe=recipe, query=query)  # fmt: skip


def recipe_of_card(card: Card | None) -> Recipe:
    """The recipe to save; NotASegment (saying what to do) when there is no segment."""
    result = segment_of_card(card) if card is not None else None
    return recipe_from_result(result or Result(kind="clarify", question="", answer="", mode="offline"))


def last_segment_card(store: BotStore, channel: str, thread_ts: str) -> Card | None:
    """The newest card of the thread that holds a segment."""
    for card in store.thread_cards(channel, thread_ts):
        if segment_of_card(card) is not None:
            return card
    return None


class SavedAudiences:
    """Saved audiences for one bot process: refresh notices, catch-up, members' details."""

    def __init__(self, settings: Settings, discovery: Discovery, client: WebClient):
        self.settings, self.discovery, self.client = settings, discovery, client
        self.aud = Audiences.from_settings(settings)
        self._catch_up: threading.Thread | None = None

    @property
    def store(self):
        return self.aud.store

    # -- refresh notices ---------------------------------------------------------------------------
    def after_ingestion(self, run_id: int) -> list[Outcome]:
        """Refresh every audience on the successful run `run_id` and post the notices."""
        outcomes = refresh_all(self.settings, run_id, aud=self.aud)
        self.post_outcomes(outcomes)
        return outcomes

    def catch_up(self) -> list[Outcome]:
        """Refresh the audiences behind the live snapshot (an ingestion ran while the bot was stopped)."""
        try:
            behind = pending(self.settings, aud=self.aud)
            if not behind:
                return []
            log.info("catching up: %d saved audiences behind the live snapshot", len(behind))
            outcomes = refresh_all(self.settings, aud=self.aud, audiences=behind, trigger="catch-up")
        except Exception:
            log.exception("the saved audiences' catch-up failed")
            return []
        self.post_outcomes(outcomes)
        return outcomes

    def catch_up_in_background(self) -> threading.Thread:
        self._catch_up = threading.Thread(target=self.catch_up, name="audiences-catch-up", daemon=True)
        self._catch_up.start()
        return self._catch_up

    def wait(self, timeout: float | None = None) -> None:
        if self._catch_up is not None:
            self._catch_up.join(timeout)

    def post_outcomes(self, outcomes: list[Outcome]) -> None:
        """One notice per audience worth posting, then the deltas to its on_refresh destinations."""
        for o in outcomes:
            if o.worth_posting:
                self.notify(o.audience, refresh_message(o))
        try:
            deliver_refreshed(self.settings, self.client, outcomes)
        except Exception:  # a destination's failure is its own line; this guards the notices already posted
            log.exception("on-refresh deliveries failed")

    def notify(self, a: SavedAudience, message: dict) -> str | None:
        """Post in the audience's thread (best effort: logged when Slack refuses)."""
        if not a.channel:
            log.info("audience %d has no notice destination: %s", a.id, message["text"])
            return None
        try:
            return post(self.client, a.channel, message, thread_ts=a.thread_ts)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not post the refresh of audience %d in %s: %s", a.id, a.channel, error_name(exc))
            return None

    def dm_channel(self, user: str) -> str:
        return self.client.conversations_open(users=user)["channel"]["id"]

    # -- what `show` and the downloads need ------------------------------------------------------------
    def members(self, a: SavedAudience) -> list[int]:
        return self.store.members(a.id)[1].tolist()

    def population(self) -> int:
        return load_catalogue(self.discovery.engine).customers

    def top(self, a: SavedAudience, ids: list[int]) -> list[tuple[int, str]]:
        """The first members with why (ids and why only)."""
        if a.recipe is None or not ids:
            return []
        why = self.aud.evaluator.why_joined(a.recipe, ids[:TOP_SHOWN], datetime.now(), {})
        return [(i, why.get(i, "")) for i in ids[:TOP_SHOWN]]

    def show_files(self, a: SavedAudience) -> list[tuple[str, bytes]]:
        """The audience's JSON document (ids, no e-mails) and its sizes over time as a PNG chart."""
        history = self.store.history(a.id)
        doc = show_json(a, history, self.members(a))
        base = f"audience-{slug(a.name)}-{datetime.now():%Y%m%d-%H%M}"
        files = [(base + ".json", json.dumps(doc, indent=2, ensure_ascii=False, default=str).encode("utf-8"))]
        done = [r for r in reversed(history) if r.status == "succeeded" and r.size is not None]
        if done:
            labels = [f"{r.refreshed_at:%m-%d %H:%M}" for r in done]
            files.append((base + "-sizes.png", sizes_png(labels, [r.size for r in done], f"{a.name}: members")))
        return files

    def member_files(self, a: SavedAudience) -> list[tuple[str, bytes]]:
        """JSON and CSV of the current members with their details (e-mails included: DM files only)."""
        ids = self.members(a)[:DOWNLOAD_MAX]
        customers = self._customers(a, ids)
        base = f"audience-{slug(a.name)}-members-{datetime.now():%Y%m%d-%H%M}"
        doc = {"kind": "segment", "question": a.name, "customers": [c.contract() for c in customers]}
        doc = activatable(doc, self.aud.store.engine)  # the suppressed (and without consent) never leave
        rows = json.dumps(doc["customers"], indent=2, ensure_ascii=False, default=str).encode("utf-8")
        _, csv_bytes = csv_file(doc)
        return [(base + ".json", rows), (base + ".csv", csv_bytes)]

    def _customers(self, a: SavedAudience, ids: list[int]) -> list[Customer]:
        if not ids:
            return []
        d = self.discovery
        engine = DiscoveryEngine(d.settings, d.engine, d.qdrant, d.embedder, load_catalogue(d.engine))
        query = a.recipe.query if a.recipe else AudienceQuery()
        return engine.enrich(ids, query, datetime.now(), {}, [])


def delivery_message(d: delivery.Delivery) -> dict:
    icon = ":white_check_mark:" if d.status == "succeeded" else ":x:"
    return message(f"{icon} {d.line()}")


def deliver_refreshed(settings: Settings, client: WebClient, outcomes: list[Outcome]) -> list[delivery.Delivery]:
    """After refresh_all: deltas to the on_refresh destinations, one line per delivery in each audience's
    thread. A destinations file that does not parse is logged (once per call) and skipped."""
    found, problem = dests.load_or_error(settings)
    if problem:
        log.error("on-refresh deliveries skipped: %s", problem)
        return []
    done = delivery.deliver_after_refresh(settings, outcomes, found)
    threads: dict[str, SavedAudience] = {o.audience.name: o.audience for o in outcomes}
    for d in done:
        a = threads.get(d.audience)
        if a is not None and a.channel and a.thread_ts:
            post(client, a.channel, delivery_message(d), thread_ts=a.thread_ts)
    return done
