"""discovery.answer(question, conversation) -> Result: the one entry point the bot and
the CLI call. Chooses the agent (LLM configured) or the offline planner (no key, --offline,
or the LLM failed / timed out) and says which answered and why."""

from __future__ import annotations

import gc
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qdrant_client import QdrantClient
from sqlalchemy.engine import Engine

from cdp.db import get_engine
from cdp.embedder import Embedder, embedder_for
from cdp.schema import ensure_schema
from cdp.settings import Settings
from cdp.vectors import get_qdrant
from discovery import llm_health
from discovery import offline as planner
from discovery.catalogue import Catalogue, load_catalogue
from discovery.engine import DiscoveryEngine, Segment, Table
from discovery.lookalike import SeedResolver, SeedsUnknown, lookalike, resolve_seeds
from discovery.query import AudienceQuery, CRMFilter
from discovery.result import Funnel, Reason, Recipe, Result, Usage

if TYPE_CHECKING:
    from discovery.agent import AgentOutcome

log = logging.getLogger(__name__)


NO_DATA = (  # the answer when there is no data; test Result.reason is Reason.NO_DATA, not this text
    "There is no customer data yet. Load your CRM and clickstream exports with "
    "`python -m ingest run --crm FILE --events FILE` (or `make demo` for sample data); "
    "Slack admins can run `/audience ingest`."
)
OUTDATED = (  # the answer when the live data was built by an earlier version (Result.reason is Reason.NO_DATA)
    "The customer data was loaded by an earlier version of the bot and lacks tables this version reads. "
    "The next ingestion rebuilds it: wait for tonight's run, or run `python -m ingest run --crm FILE --events FILE`; "
    "Slack admins can run `/audience ingest`."
)


def new_request_id() -> str:
    """The id that follows one request through the logs and the messages."""
    return uuid.uuid4().hex[:12]


@dataclass
class Conversation:
    """What a thread remembers: past turns, the last plan (whose query a follow-up refines) and the customer
    ids of the last segment (the seeds of "more like these"; ids only, never e-mails)."""

    turns: list[tuple[str, str]] = field(default_factory=list)
    last_plan: planner.Plan | None = None
    segment_ids: list[int] = field(default_factory=list)

    @property
    def last_query(self) -> AudienceQuery | None:
        return self.last_plan.query if self.last_plan else None

    def remember(self, question: str, result: Result, plan: planner.Plan | None) -> None:
        self.turns.append((question, result.answer))
        if plan is not None and plan.kind in ("segment", "analytics", "clarify"):
            self.last_plan = plan
        if result.kind == "segment" and result.explain_customer is None and result.customers:
            self.segment_ids = [c.customer_id for c in result.customers]

    def to_dict(self) -> dict:
        data: dict = {
            "turns": [list(t) for t in self.turns[-20:]],
            "last_plan": self.last_plan.to_dict() if self.last_plan else None,
        }
        if self.segment_ids:
            data["segment_ids"] = list(self.segment_ids)
        return data

    @classmethod
    def from_dict(cls, d: dict | None) -> Conversation:
        if not d:
            return cls()
        plan = planner.Plan.from_dict(d["last_plan"]) if d.get("last_plan") else None
        return cls([tuple(t) for t in d.get("turns", [])], plan, [int(i) for i in d.get("segment_ids") or []])


class Discovery:
    """Ready clients for answering questions; build once per process (entry points)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        qdrant: QdrantClient,
        embedder: Embedder,
        seed_resolver: SeedResolver | None = None,
    ):
        self.settings, self.engine, self.qdrant, self.embedder = settings, engine, qdrant, embedder
        self.seed_resolver = seed_resolver  # saved audience name -> member ids (see SeedResolver)

    @classmethod
    def from_settings(cls, settings: Settings, seed_resolver: SeedResolver | None = None) -> Discovery:
        engine = get_engine(settings)
        ensure_schema(engine)
        return cls(
            settings,
            engine,
            get_qdrant(settings),
            embedder_for(settings),
            seed_resolver,
        )

    def warm_up(self) -> None:
        """Pay the one-time costs before the first question, not during it: the model and its first
        forward pass, the catalogue, the planner's country data, the SQL guard's parser, the vector
        matrix (Qdrant local mode). Then everything loaded so far — the model, Qdrant local mode's
        points, the caches: ~700k long-lived objects — is moved out of the cyclic garbage collector's
        sight (gc.freeze); every full collection walked them, a ~0.4 s pause inside a question.
        For long-running processes (the bot); call again after new data is live."""
        from discovery.sql_guard import check_select  # not at the top: sqlglot costs the offline CLI ~0.3 s

        self.embedder.embed_one("warm up")
        catalogue = load_catalogue(self.engine)
        planner.plan("customers from Germany who spent more than 100 in the last 30 days", catalogue)
        check_select("SELECT count(*) FROM customers", row_limit=1)
        if not catalogue.empty:
            DiscoveryEngine(self.settings, self.engine, self.qdrant, self.embedder, catalogue).warm_up()
        gc.collect()
        gc.freeze()

    @property
    def llm_configured(self) -> bool:
        return bool(self.settings.openrouter_api_key and self.settings.openrouter_api_key.get_secret_value())

    def answer(
        self,
        question: str,
        conversation: Conversation | None = None,
        *,
        offline: bool = False,
        progress=None,
        now: datetime | None = None,
        request_id: str | None = None,
    ) -> Result:
        rid = request_id or new_request_id()
        conversation = conversation if conversation is not None else Conversation()
        now = now or datetime.now()
        t0 = time.perf_counter()
        catalogue = load_catalogue(self.engine)
        if catalogue.empty:
            result = Result(
                kind="clarify", question=question, answer=OUTDATED if catalogue.outdated else NO_DATA, mode="offline",
                mode_reason=Reason.NO_DATA.value,
                reason=Reason.NO_DATA,
            )  # fmt: skip
            return self._finish(result, catalogue, t0, rid)
        de = DiscoveryEngine(self.settings, self.engine, self.qdrant, self.embedder, catalogue)
        plan = None
        if offline or not self.llm_configured:
            reason = "--offline was asked for" if offline else "no OPENROUTER_API_KEY is set"
            result, plan = self._offline(de, question, conversation, now, progress, reason)
        elif (paused := llm_health.unavailable(self.settings)) is not None:  # no failed call paid per question
            reason = f"LLM unavailable ({paused}): answered by the offline planner"
            result, plan = self._offline(de, question, conversation, now, progress, reason)
            result.notes.append(
                f"LLM calls paused for {llm_health.seconds_left(self.settings):.0f} s more (LLM_COOLDOWN_S)"
            )
        else:
            try:
                result = self._agent(de, question, conversation, now, progress)
                llm_health.record_success(self.settings)
            except Exception as exc:  # the LLM is down, slow, or talks garbage: answer anyway
                kind = llm_health.record_failure(self.settings, exc)
                log.warning(
                    "request %s: the agent failed (%s: %s); the offline planner answers", rid, type(exc).__name__, exc
                )
                why = f": {llm_health.kind_reason(kind, self.settings.llm_model)}" if kind else ""
                reason = f"the LLM failed ({type(exc).__name__}{why}); the offline planner answered"
                result, plan = self._offline(de, question, conversation, now, progress, reason)
        conversation.remember(question, result, plan)
        return self._finish(result, catalogue, t0, rid)

    def _finish(self, result: Result, cat: Catalogue, t0: float, rid: str) -> Result:
        result.timings_ms["total"] = (time.perf_counter() - t0) * 1000
        result.recipe.embedding_model = self.settings.embedding_model
        result.recipe.data_snapshot = {
            "run_id": cat.run_id,
            "finished_at": cat.finished_at.isoformat() if cat.finished_at else None,
            "data_max": cat.data_max.isoformat() if cat.data_max else None,
        }
        result.data_max = cat.data_max
        u = result.usage
        log.info(
            "request %s: %s/%s in %.0f ms; llm_calls=%d prompt=%d completion=%d embedding=%d cost=%s",
            rid, result.mode, result.kind, result.timings_ms["total"], u.llm_calls, u.llm_prompt_tokens,
            u.llm_completion_tokens, u.embedding_tokens, f"${u.cost_usd:.6f}" if u.cost_known else "unknown",
        )  # fmt: skip
        return result

    # -- offline -------------------------------------------------------------------------------
    def _offline(self, de: DiscoveryEngine, question: str, conv: Conversation, now: datetime, progress, reason: str):
        p = planner.plan(question, de.catalogue, conv.last_plan, today=now.date())
        log.info("offline plan: %s %s", p.kind, p.message)
        base: dict[str, Any] = dict(question=question, mode="offline", mode_reason=reason, wants_json=p.wants_json)
        if p.kind == "segment" and p.query is not None and p.query.like is not None:
            result = self._lookalike(de, p, conv, now, progress, base)
            if result.kind == "clarify":  # seeds not found: the thread keeps its previous plan
                return result, None
        elif p.kind == "segment" and p.query is not None:
            seg = de.hybrid(p.query, now=now, progress=progress)
            result = segment_result(seg, p.query, answer=describe_segment(seg, p.query), **base)
        elif p.kind == "analytics" and p.analytics is not None:
            table = de.analytics(p.analytics, now)
            result = analytics_result(
                table,
                answer=describe_table(table),
                query=p.analytics.model_dump(mode="json", exclude_defaults=True),
                **base,
            )
        elif p.kind == "explain" and p.explain_customer is not None:
            result = self._explain(de, p.explain_customer, conv, now, base)
        else:
            result = Result(kind="clarify", answer=p.message, **base)
        return result, p

    def _lookalike(self, de: DiscoveryEngine, p: planner.Plan, conv: Conversation, now: datetime, progress, base: dict):
        """A lookalike plan: its seeds resolved (the plan keeps the thread's seed ids for follow-ups), then ranked."""
        assert p.query is not None
        try:
            q, seeds = resolve_seeds(p.query, conv.segment_ids, self.seed_resolver)
        except SeedsUnknown as exc:
            return Result(kind="clarify", answer=str(exc), **base)
        p.query = q
        seg = lookalike(de, q, seeds, now=now, progress=progress)
        return segment_result(seg, q, answer=describe_segment(seg, q), **base)

    def _explain(self, de: DiscoveryEngine, cid: int, conv: Conversation, now: datetime, base: dict) -> Result:
        q = conv.last_query
        if q is None:
            return Result(
                kind="clarify", answer="Ask for a segment first; then I can explain why a customer is in it.", **base
            )
        probe = q.model_copy(update={"crm": q.crm.model_copy(update={"customer_ids": [cid]}), "limit": 1})
        if probe.like is None:
            seg = de.hybrid(probe, now=now)
        else:  # a lookalike: ranked against the same seeds (a seed itself is never in)
            try:
                probe, seeds = resolve_seeds(probe, conv.segment_ids, self.seed_resolver)
            except SeedsUnknown as exc:
                return Result(kind="clarify", answer=str(exc), **base)
            seg = lookalike(de, probe, seeds, now=now)
        if seg.customers:
            c = seg.customers[0]
            text = f"Customer {cid} is in the segment: {c.why}."
        else:
            text = f"Customer {cid} does not match the last segment ({q.describe()})."
        result = segment_result(seg, probe, answer=text, **base)
        result.explain_customer = cid
        return result

    # -- agent ---------------------------------------------------------------------------------
    def _agent(self, de: DiscoveryEngine, question: str, conv: Conversation, now: datetime, progress) -> Result:
        from discovery.agent import run_agent  # not at the top: LlamaIndex's agent costs ~5 s to import

        t0 = time.perf_counter()
        out = run_agent(
            de, question, conv.turns, self.settings, now=now, progress=progress,
            last_segment=conv.segment_ids, seed_resolver=self.seed_resolver,
        )  # fmt: skip
        base = dict(
            question=question,
            mode="agent",
            mode_reason=f"LLM {self.settings.llm_model}",
            wants_json="json" in question.lower(),
        )
        result = agent_result(out, base)
        result.usage.add(out.usage)
        result.recipe.model = self.settings.llm_model
        result.timings_ms["agent"] = (time.perf_counter() - t0) * 1000
        result.notes.extend(f"blocked SQL: {r}" for r in out.rejected)
        return result


def agent_result(out: AgentOutcome, base: dict) -> Result:
    """The Result of an agent run. A segment / analytics tool that succeeded ended the run and `out.text` is
    its raw output (for the model, not for people): the answer is worded from what it found. Customers and
    rows always come from the tools."""
    if out.ended_by == "table" and out.table is not None:
        return analytics_result(out.table, answer=describe_table(out.table), query=out.last_call, **base)
    if out.segment is not None and out.query is not None:
        described = describe_segment(out.segment, out.query)
        # otherwise the last segment was empty and the model answered after the error: say why first
        answer = described if out.ended_by else f"{described} {out.text}".strip()
        result = segment_result(out.segment, out.query, answer=answer, **base)
        result.recipe.sql = list(out.sql)
        return result
    if out.table is not None:  # customer details: the model explained them
        return analytics_result(out.table, answer=out.text or describe_table(out.table), query=out.last_call, **base)
    return Result(kind="clarify", answer=out.text or "Could you say more about the audience you need?", **base)


def segment_result(seg: Segment, q: AudienceQuery, *, answer: str, **base) -> Result:
    result = Result(
        kind="segment", answer=answer, funnel=seg.funnel, customers=seg.customers, notes=list(seg.notes), **base
    )
    result.recipe = Recipe(
        query=q.model_dump(mode="json", exclude_defaults=True), sql=list(seg.sql), semantic_query=seg.semantic_query
    )
    result.usage = Usage(embedding_tokens=seg.embedding_tokens)
    result.timings_ms.update(seg.timings_ms)
    result.query = q
    result.refinement = seg.refinement
    result.members = seg.members
    return result


def analytics_result(table: Table, *, answer: str, query: dict | None, **base) -> Result:
    result = Result(kind="analytics", answer=answer, columns=table.columns, rows=table.rows, **base)
    result.recipe = Recipe(query=query, sql=list(table.sql))
    result.funnel = Funnel(returned=len(table.rows))
    return result


def describe_segment(seg: Segment, q: AudienceQuery) -> str:
    f = seg.funnel
    if not seg.customers:
        return "No customers found: " + "; ".join(seg.notes) + "."
    if q.like is not None:
        gate = q.model_copy(update={"like": None, "intent": None})
        where = "" if gate.describe() == "all customers" else f" among the {f.after_gate:,} who match {gate.describe()}"
        return (
            f"The {f.returned} customers most {q.like.describe()}{where}, of {f.after_semantic:,} candidates "
            "(the seeds themselves left out)."
        )
    text = f"{f.after_gate:,} of {f.population:,} customers match {q.describe()}"
    if q.intent:
        text += f"; ranked by similarity to “{q.intent}”"
        if f.after_semantic != f.after_gate:  # the intent cut the gate (discovery.refine)
            text += f", {f.after_semantic:,} of them match it"
    return text + f". Showing the top {f.returned}."


def describe_table(t: Table) -> str:
    if not t.rows:
        return "No rows match."
    if len(t.rows) == 1 and len(t.columns) == 1:
        value = t.rows[0][0]
        return (
            f"{t.columns[0].replace('_', ' ')}: {value:,}"
            if isinstance(value, (int, float))
            else f"{t.columns[0]}: {value}"
        )
    head = ", ".join(f"{r[0]} {r[-1]:,}" if isinstance(r[-1], (int, float)) else f"{r[0]} {r[-1]}" for r in t.rows[:5])
    more = f" (and {len(t.rows) - 5} more)" if len(t.rows) > 5 else ""
    return f"{t.columns[-1].replace('_', ' ')} by {t.columns[0].replace('_', ' ')}: {head}{more}."


def answer(settings: Settings, question: str, conversation: Conversation | None = None, **kw) -> Result:
    """Convenience: build the clients and answer one question."""
    return Discovery.from_settings(settings).answer(question, conversation, **kw)


__all__ = ["Conversation", "Discovery", "answer", "CRMFilter"]
