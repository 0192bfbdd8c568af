"""The discovery engine: hybrid discovery (SQL gate → semantic ranking restricted to the
gate in Qdrant → SQL enrichment), semantic-only search, profiles and analytics.

Takes ready clients (engine, Qdrant client, embedder); knows nothing of the LLM or Slack.
Every statement it runs goes through a read-only transaction with a timeout, and is
recorded in the returned recipe.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from qdrant_client import QdrantClient
from sqlalchemy.engine import Engine

from cdp.db import read_only
from cdp.embedder import Embedder
from cdp.reader import reader_engine
from cdp.schema import PERSONAL_COLUMNS
from cdp.settings import Settings
from discovery import compile as c
from discovery.attribute_view import attribute_values
from discovery.catalogue import Catalogue
from discovery.gate_top import gate_top_sql
from discovery.query import AnalyticsQuery, AudienceQuery, Behaviour, CRMFilter, RefineMode
from discovery.ranking import VectorRanking, by_score
from discovery.reasons import why
from discovery.refine import Cut, cut, explain
from discovery.result import Customer, Funnel

log = logging.getLogger(__name__)

# A gate larger than Settings.gate_fetch_max is ranked from at most this many closest profiles
# before it is fetched whole.
CANDIDATES_MAX = 100_000


@dataclass
class Gate:
    size: int  # customers passing the gate
    ids: list[int] | None  # all of them (an intent), the first `limit` in SQL order (none), or None: too many
    everyone: bool = False  # nothing restricts the audience
    sample: list[int] = field(default_factory=list)  # a gate too large to fetch: up to gate_fetch_max of its ids


@dataclass
class Segment:
    funnel: Funnel
    customers: list[Customer]
    sql: list[str] = field(default_factory=list)
    semantic_query: str | None = None
    notes: list[str] = field(default_factory=list)
    embedding_tokens: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)
    refinement: str = ""  # how the intent cut the gate, one line (discovery.refine); "" without an intent
    members: list[int] | None = None  # the whole refined set when it was held in full (Result.members)


@dataclass
class Table:
    columns: list[str]
    rows: list[list]
    sql: list[str]


def _plain(v):
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if hasattr(v, "is_finite"):  # Decimal
        return float(v)
    return v


class DiscoveryEngine:
    def __init__(
        self, settings: Settings, engine: Engine, qdrant: QdrantClient, embedder: Embedder, catalogue: Catalogue
    ):
        self.settings = settings
        self.engine = engine
        self.qdrant = qdrant
        self.embedder = embedder
        self.catalogue = catalogue
        self.vectors = VectorRanking(settings, qdrant, catalogue, self.collection)

    @property
    def collection(self) -> str:
        """The live snapshot's collection (recorded by the swap in PostgreSQL), else the alias."""
        return self.catalogue.collection or self.settings.qdrant_collection

    # -- SQL ---------------------------------------------------------------------------------
    def _run(self, compiled: c.CompiledSQL, recipe: list[str], model_written: bool = False) -> list[sa.Row]:
        """Run one compiled statement read-only; one holding a model-written fragment (sql_where)
        runs on the read-only role's pool, which sees no personal column."""
        shown = compiled.display()
        recipe.append(shown)
        log.info("sql: %s", shown[:2000])
        engine = reader_engine(self.settings) if model_written else self.engine
        with read_only(
            engine,
            timeout_ms=self.settings.sql_statement_timeout_ms,
            work_mem_mb=self.settings.sql_work_mem_mb,
            planner=compiled.settings,
        ) as conn:
            return list(conn.execute(sa.text(compiled.sql), compiled.params))

    # -- hybrid ------------------------------------------------------------------------------
    def hybrid(
        self,
        q: AudienceQuery,
        *,
        now: datetime | None = None,
        sql_where: str | None = None,
        progress=None,
    ) -> Segment:
        """1. behavioural gate in SQL → ids; 2. semantic ranking restricted to exactly
        those ids; 3. enrichment from PostgreSQL."""
        now = now or datetime.now()
        say = progress or (lambda stage: None)
        timings: dict[str, float] = {}
        sql: list[str] = []
        funnel = Funnel(population=self.catalogue.customers)

        say("gate")
        t0 = time.perf_counter()
        gate = self.gate(q, now, sql_where, sql)
        funnel.after_gate = gate.size
        timings["gate"] = (time.perf_counter() - t0) * 1000
        log.info("gate: %d of %d customers", funnel.after_gate, funnel.population)
        if not funnel.after_gate:
            funnel.after_semantic = 0
            return Segment(funnel, [], sql, q.intent, self.empty_gate_notes(q, now), 0, timings)

        scores: dict[int, float] = {}
        tokens = 0
        refinement = ""
        if q.intent:
            say("semantic")
            t1 = time.perf_counter()
            qv = self.embedder.embed_one(q.intent)
            tokens = self.embedder.count_tokens([q.intent])
            ranked, scores, refined, held = self.refine(q, now, sql_where, qv, gate, sql)
            funnel.after_semantic, refinement = refined.kept, refined.explanation
            members = ranked if held else None
            timings["semantic"] = (time.perf_counter() - t1) * 1000
            top = ranked[: q.limit]
        else:
            funnel.after_semantic = gate.size
            top = (gate.ids or [])[: q.limit]
            members = None

        say("enrich")
        t2 = time.perf_counter()
        customers = self.enrich(top, q, now, scores, sql)
        timings["enrich"] = (time.perf_counter() - t2) * 1000
        funnel.returned = len(customers)
        return Segment(funnel, customers, sql, q.intent, [], tokens, timings, refinement, members)

    # -- semantic refinement ---------------------------------------------------------------------
    def refine(
        self, q: AudienceQuery, now: datetime, sql_where: str | None, qv: np.ndarray, gate: Gate, recipe: list[str]
    ) -> tuple[list[int], dict[int, float], Cut, bool]:
        """The gate's customers that match the intent, best first, their scores, the cut, and whether
        that list is the whole refined set (every member scored and cut) rather than the best of it.

        The cut is the natural break of the population's scores (discovery.refine), so it needs the
        score distribution of everyone, never the whole gate's scores: a gate held in full (or every
        customer, with the in-memory matrix) is cut exactly; a gate too large to fetch is ranked from
        the profiles closest to the intent (rank_large_gate) and its refined size estimated from the
        gate's sample (the share of the sample at or above the break, times the gate's size)."""
        population = self.population_scores(qv) if q.refine != "off" else {}
        pop = np.fromiter(population.values(), dtype=np.float64, count=len(population))
        if gate.ids is not None:
            return (*_cut(self.rank(gate.ids, qv, top=q.limit)[1], pop, q), True)
        if gate.everyone and len(population) >= self.catalogue.customers:
            return (*_cut(population, pop, q), True)
        if gate.everyone:  # without the matrix: the closest profiles over everyone, the sample sizes the cut
            scores = self.top(qv, max(q.limit * 2, q.limit + 10))
            ranked, sample = by_score(scores), population
        else:
            ranked, scores = self.rank_large_gate(q, now, sql_where, qv, gate.size, recipe)
            sample = self.rank(gate.sample, qv, top=len(gate.sample))[1] if gate.sample else {}
        _, _, sampled = _cut(sample, pop, q)
        kept = round(sampled.kept / max(sampled.of, 1) * gate.size) if sample else gate.size
        if sampled.threshold is not None:
            ranked = [i for i in ranked if scores[i] >= sampled.threshold]
        line = explain(kept, gate.size, q.intent or "", sampled.threshold, q.refine, about=True)
        return ranked, scores, Cut(sampled.threshold, q.refine, kept, gate.size, line), False

    def refine_members(self, ids: list[int], intent: str, mode: RefineMode = "auto") -> tuple[list[int], str]:
        """`ids` (a saved audience's members, say) cut by `intent` as a segment's gate is: the members whose
        profiles match it, best first, and the one-line explanation."""
        qv = self.embedder.embed_one(intent)
        population = self.population_scores(qv) if mode != "off" else {}
        pop = np.fromiter(population.values(), dtype=np.float64, count=len(population))
        kept, how = cut(self.rank(ids, qv, top=len(ids))[1], pop, intent, mode)
        return kept, how.explanation

    def population_scores(self, qv: np.ndarray) -> dict[int, float]:
        return self.vectors.population_scores(qv)

    def gate(
        self, q: AudienceQuery, now: datetime, sql_where: str | None = None, recipe: list[str] | None = None
    ) -> Gate:
        """The behavioural and CRM gate over customer_facts, in one statement.

        With an intent: its size and, when it holds at most GATE_FETCH_MAX customers, all its
        ids (larger gates are ranked by rank_large_gate: 800 k ids cost seconds to move). Without
        one: the first `limit` ids in the query's SQL order and the size. Nothing restricting
        the audience: every customer, no statement for an intent."""
        recipe = recipe if recipe is not None else []
        everyone = c.audience_where(q, now, sql_where)[0] == "TRUE"
        if q.intent and everyone:
            return Gate(self.catalogue.customers, None, everyone=True)
        if not q.intent and everyone:
            ids = [r[0] for r in self._run(c.gate_sql(q, now, sql_where, cap=q.limit), recipe, sql_where is not None)]
            return Gate(self.catalogue.customers, ids, everyone=True)
        if not q.intent:
            top = gate_top_sql(q, now, sql_where, q.limit, split=self.catalogue.split_id)
            rows = self._run(top, recipe, sql_where is not None)
            return Gate(rows[0].size if rows else 0, [r.customer_id for r in rows])
        cap = self.settings.gate_fetch_max
        size, ids = self._run(c.gate_sample_sql(q, now, sql_where, cap), recipe, sql_where is not None)[0]
        return Gate(size, list(ids or []) if size <= cap else None, sample=list(ids or []) if size > cap else [])

    def candidates_for(self, size: int, limit: int) -> int:
        """How many of the closest profiles to check against a large gate: enough that about
        three times `limit` of them pass when the gate is spread like the population."""
        share = max(size, 1) / max(self.catalogue.customers, 1)
        return int(min(max(3 * limit / share, 10 * limit, 1_000), CANDIDATES_MAX))

    def check(
        self, q: AudienceQuery, now: datetime, sql_where: str | None, candidates: list[int], recipe: list[str]
    ) -> set[int]:
        """Which of `candidates` pass the gate (primary-key lookups, whatever the gate's size)."""
        probe = q.model_copy(update={"crm": q.crm.model_copy(update={"customer_ids": candidates})})
        return {r[0] for r in self._run(c.gate_sql(probe, now, sql_where), recipe, sql_where is not None)}

    def rank_large_gate(
        self, q: AudienceQuery, now: datetime, sql_where: str | None, qv: np.ndarray, size: int, recipe: list[str]
    ) -> tuple[list[int], dict[int, float]]:
        """A gate too large to fetch: take the profiles closest to the intent over everyone, keep
        those that pass the gate, widen until `limit` pass; if even CANDIDATES_MAX do not yield
        `limit`, fetch the whole gate and rank it exactly."""
        k = self.candidates_for(size, q.limit)
        while True:
            scores = self.top(qv, k)
            order = by_score(scores)
            passing = self.check(q, now, sql_where, order, recipe)
            ranked = [i for i in order if i in passing]
            if len(ranked) >= q.limit or len(scores) < k:
                return ranked, {i: scores[i] for i in ranked}
            if k >= CANDIDATES_MAX:
                break
            k = min(k * 8, CANDIDATES_MAX)
        ids = [r[0] for r in self._run(c.gate_sql(q, now, sql_where), recipe, sql_where is not None)]
        return self.rank(ids, qv, top=q.limit)

    def top(self, qv: np.ndarray, k: int) -> dict[int, float]:
        return self.vectors.top(qv, k)

    def rank(self, ids: list[int], qv: np.ndarray, top: int) -> tuple[list[int], dict[int, float]]:
        return self.vectors.rank(ids, qv, top)

    def warm_up(self) -> None:
        self.vectors.matrix()

    def _vector_matrix(self):
        return self.vectors.matrix()

    def enrich(
        self, ids: list[int], q: AudienceQuery, now: datetime, scores: dict[int, float], sql: list[str]
    ) -> list[Customer]:
        if not ids:
            return []
        rows = {r.customer_id: r for r in self._run(c.enrich_sql(ids, self.catalogue.shown_attributes), sql)}
        counts = self.behaviour_counts(ids, q.behaviours, now, sql)
        out = []
        for cid in ids:
            r = rows.get(cid)
            if r is None:  # a point whose customer is gone (ingestion in progress)
                continue
            out.append(
                Customer(
                    customer_id=r.customer_id,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    email=r.email,
                    country=r.country,
                    age=r.age,
                    total_spent=None if r.total_spent is None else float(r.total_spent),
                    favorite_color=r.favorite_color,
                    calculated_interests=list(r.interests or []),
                    likes_luxury=bool(r.likes_luxury),
                    score=round(scores[cid], 4) if cid in scores else None,
                    why=why(r, q, scores.get(cid), [cnt.get(cid, 0) for cnt in counts]),
                    preferred_colors=list(r.preferred_colors or []),
                    attributes=attribute_values(r),
                )
            )
        return out

    def behaviour_counts(
        self, ids: list[int], behaviours: list[Behaviour], now: datetime, sql: list[str]
    ) -> list[dict[int, int]]:
        out: list[dict[int, int]] = []
        for i, b in enumerate(behaviours):
            if b.negate:
                out.append({})
                continue
            out.append({r[0]: r[1] for r in self._run(c.behaviour_count_sql(b, i, now, ids), sql)})
        return out

    def empty_gate_notes(self, q: AudienceQuery, now: datetime) -> list[str]:
        notes = []
        latest = self.catalogue.data_max
        for b in q.behaviours:
            if b.negate or b.window is None:
                continue
            since, _ = b.window.bounds(now)
            if latest is not None and since is not None and latest < since:
                age = (now - latest).days
                notes.append(
                    f"no {b.describe()} — the data has no events after {latest:%Y-%m-%d} "
                    f"(the latest data is {age} days old); try a longer window or re-ingest fresh exports"
                )
        if not notes:
            notes.append(f"no customer matches {q.describe()}")
        return notes

    # -- semantic only -----------------------------------------------------------------------
    def semantic(self, intent: str, crm: CRMFilter, limit: int) -> Segment:
        """Vector-only discovery through LlamaIndex's QdrantVectorStore as a retriever."""
        from discovery.retriever import retrieve

        t0 = time.perf_counter()
        hits, tokens = retrieve(self.qdrant, self.collection, self.embedder, intent, crm, limit)
        timings = {"semantic": (time.perf_counter() - t0) * 1000}
        sql: list[str] = []
        ids = [h[0] for h in hits]
        scores = dict(hits)
        q = AudienceQuery(crm=crm, intent=intent, limit=limit)
        customers = self.enrich(ids, q, datetime.now(), scores, sql)
        funnel = Funnel(self.catalogue.customers, self.catalogue.customers, len(hits), len(customers))
        return Segment(
            funnel, customers, sql, intent, [] if hits else [f"no profile matches “{intent}”"], tokens, timings
        )

    # -- profiles and analytics ----------------------------------------------------------------
    def profiles(self, ids: list[int]) -> Table:
        sql: list[str] = []
        rows = self._run(c.enrich_sql(ids[: self.settings.sql_row_limit]), sql)
        cols = [
            k for k in c.ENRICH_COLUMNS if k not in PERSONAL_COLUMNS["customers"]
        ]  # for the model: no e-mail, no name
        return Table(cols, [[_plain(getattr(r, k)) for k in cols] for r in rows], sql)

    def analytics(self, a: AnalyticsQuery, now: datetime | None = None) -> Table:
        sql: list[str] = []
        compiled = c.analytics_sql(a, now or datetime.now())
        recipe: list[str] = []
        with read_only(
            self.engine, timeout_ms=self.settings.sql_statement_timeout_ms, work_mem_mb=self.settings.sql_work_mem_mb
        ) as conn:
            result = conn.execute(sa.text(compiled.sql), compiled.params)
            cols = list(result.keys())
            rows = [[_plain(v) for v in r] for r in result.fetchmany(self.settings.sql_row_limit)]
        recipe.append(compiled.display())
        log.info("sql: %s", recipe[-1][:2000])
        sql.extend(recipe)
        return Table(cols, rows, sql)


def _cut(scores: dict[int, float], population: np.ndarray, q: AudienceQuery) -> tuple[list[int], dict[int, float], Cut]:
    assert q.intent is not None
    kept, how = cut(scores, population, q.intent, q.refine)
    return kept, scores, how
