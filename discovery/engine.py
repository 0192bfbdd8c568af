"""The discovery engine: hybrid discovery (SQL gate → semantic ranking restricted to the
gate in Qdrant → SQL enrichment), semantic-only search, profiles and analytics.

Takes ready clients (engine, Qdrant client, embedder); knows nothing of the LLM or Slack.
Every statement it runs goes through a read-only transaction with a timeout, and is
recorded in the returned recipe.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from qdrant_client import QdrantClient, models
from sqlalchemy.engine import Engine

from cdp.db import read_only
from cdp.embedder import Embedder
from cdp.reader import reader_engine
from cdp.schema import PERSONAL_COLUMNS
from cdp.settings import Settings
from cdp.vectors import alias_target
from discovery import compile as c
from discovery.attribute_view import attribute_reasons, attribute_values
from discovery.catalogue import Catalogue
from discovery.query import AnalyticsQuery, AudienceQuery, Behaviour, CRMFilter
from discovery.result import Customer, Funnel
from discovery.vector_matrix import matrix_for

log = logging.getLogger(__name__)

# Qdrant local mode ranks a gate from the in-memory vector matrix (discovery.vector_matrix).
# Otherwise gates up to this size are ranked exactly from vectors fetched by id; larger ones ask
# Qdrant for the top matches restricted to the gate's point ids (HasIdCondition).
EXACT_RANK_MAX = 50_000
_FETCH_CHUNK = 2_000
# A gate larger than Settings.gate_fetch_max is ranked from at most this many closest profiles
# before it is fetched whole.
CANDIDATES_MAX = 100_000


@dataclass
class Gate:
    size: int  # customers passing the gate
    ids: list[int] | None  # all of them (an intent), the first `limit` in SQL order (none), or None: too many
    everyone: bool = False  # nothing restricts the audience


@dataclass
class Segment:
    funnel: Funnel
    customers: list[Customer]
    sql: list[str] = field(default_factory=list)
    semantic_query: str | None = None
    notes: list[str] = field(default_factory=list)
    embedding_tokens: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)


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

    # -- SQL ---------------------------------------------------------------------------------
    def _run(self, compiled: c.CompiledSQL, recipe: list[str], model_written: bool = False) -> list[sa.Row]:
        """Run one compiled statement read-only; one holding a model-written fragment (sql_where)
        runs on the read-only role's pool, which sees no personal column."""
        shown = compiled.display()
        recipe.append(shown)
        log.info("sql: %s", shown[:2000])
        engine = reader_engine(self.settings) if model_written else self.engine
        with read_only(
            engine, timeout_ms=self.settings.sql_statement_timeout_ms, work_mem_mb=self.settings.sql_work_mem_mb
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
        if q.intent:
            say("semantic")
            t1 = time.perf_counter()
            qv = self.embedder.embed_one(q.intent)
            tokens = self.embedder.count_tokens([q.intent])
            if gate.everyone:  # the closest profiles over everyone: no gate to restrict to
                scores = self.top(qv, max(q.limit * 2, q.limit + 10))
                ranked = by_score(scores)
                funnel.after_semantic = funnel.after_gate
            elif gate.ids is not None:
                ranked, scores = self.rank(gate.ids, qv, top=q.limit)
                funnel.after_semantic = len(scores)
            else:
                ranked, scores = self.rank_large_gate(q, now, sql_where, qv, gate.size, sql)
                funnel.after_semantic = len(ranked)
            timings["semantic"] = (time.perf_counter() - t1) * 1000
            top = ranked[: q.limit]
        else:
            funnel.after_semantic = gate.size
            top = (gate.ids or [])[: q.limit]

        say("enrich")
        t2 = time.perf_counter()
        customers = self.enrich(top, q, now, scores, sql)
        timings["enrich"] = (time.perf_counter() - t2) * 1000
        funnel.returned = len(customers)
        return Segment(funnel, customers, sql, q.intent, [], tokens, timings)

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
            rows = self._run(c.gate_top_sql(q, now, sql_where, q.limit), recipe, sql_where is not None)
            return Gate(rows[0].size if rows else 0, [r.customer_id for r in rows])
        cap = self.settings.gate_fetch_max
        size, ids = self._run(c.gate_sample_sql(q, now, sql_where, cap), recipe, sql_where is not None)[0]
        return Gate(size, list(ids or []) if size <= cap else None)

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
        """The k profiles closest to `qv` over every customer."""
        if (matrix := self._vector_matrix()) is not None:
            return matrix.top(qv, k)
        res = self.qdrant.query_points(self.settings.qdrant_collection, query=qv.tolist(), limit=k)
        return {int(p.id): float(p.score) for p in res.points}

    def rank(self, ids: list[int], qv: np.ndarray, top: int) -> tuple[list[int], dict[int, float]]:
        """Rank exactly the gate's customers by cosine similarity to the intent's vector `qv`."""
        alias = self.settings.qdrant_collection
        scores: dict[int, float] = {}
        if (matrix := self._vector_matrix()) is not None:
            scores = matrix.scores(ids, qv)
        elif len(ids) <= EXACT_RANK_MAX:
            for i in range(0, len(ids), _FETCH_CHUNK):
                points = self.qdrant.retrieve(alias, ids[i : i + _FETCH_CHUNK], with_vectors=True, with_payload=False)
                if not points:
                    continue
                mat = np.asarray([p.vector for p in points], dtype=np.float32)
                for p, s in zip(points, mat @ qv, strict=True):
                    scores[int(p.id)] = float(s)
        else:
            res = self.qdrant.query_points(
                alias,
                query=qv.tolist(),
                query_filter=models.Filter(must=[models.HasIdCondition(has_id=ids)]),
                limit=max(top * 5, 100),
            )
            scores = {int(p.id): float(p.score) for p in res.points}
        return by_score(scores), scores

    def warm_up(self) -> None:
        self._vector_matrix()

    def _vector_matrix(self):
        """Qdrant local mode only: the live collection's vectors in memory (see vector_matrix)."""
        if self.settings.qdrant_url or not self.settings.vector_matrix_max_points:
            return None
        alias = self.settings.qdrant_collection
        collection = alias_target(self.qdrant, alias) or alias
        return matrix_for(
            self.qdrant, str(self.settings.qdrant_dir), collection, (self.catalogue.run_id,),
            self.settings.vector_matrix_max_points,
        )  # fmt: skip

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
                    total_spent=float(r.total_spent),
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
        out = []
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
        hits, tokens = retrieve(self.qdrant, self.settings.qdrant_collection, self.embedder, intent, crm, limit)
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


def by_score(scores: dict[int, float]) -> list[int]:
    """Ids by descending similarity, ties by id (a stable order for equal profiles)."""
    return sorted(scores, key=lambda k: (-scores[k], k))


_WORD = re.compile(r"[a-z0-9]+")


def why(r, q: AudienceQuery, score: float | None, counts: list[int]) -> str:
    """A human-readable reason this customer is in the segment (no email, no name)."""
    parts = []
    for b, n in zip(q.behaviours, counts, strict=False):
        if b.negate:
            parts.append(b.describe())
        else:
            parts.append(f"{b.describe()} ({n}×)")
    f = q.crm
    if f.countries or f.exclude_countries:
        parts.append(f"country {r.country}")
    if f.min_spent is not None or f.max_spent is not None:
        parts.append(f"spent {float(r.total_spent):,.2f}")
    if f.min_age is not None or f.max_age is not None:
        parts.append(f"age {r.age}")
    if f.favorite_colors:
        parts.append(f"favourite color {r.favorite_color}")
    if f.likes_luxury:
        parts.append("likes luxury")
    parts += attribute_reasons(attribute_values(r), q)
    if score is not None and q.intent:
        words = set(_WORD.findall(q.intent.lower()))
        facets = []
        if r.likes_luxury and words & {"luxury", "premium", "high", "end", "exclusive", "upscale"}:
            facets.append("likes luxury")
        facets += [f"interested in {i}" for i in (r.interests or []) if set(_WORD.findall(i.lower())) & words]
        facets += [f"prefers {col}" for col in (r.preferred_colors or []) if col.lower() in words]
        if r.favorite_color.lower() in words:
            facets.append(f"favourite color {r.favorite_color}")
        sim = f"similarity {score:.2f} to “{q.intent}”"
        parts.append(sim + (" (" + ", ".join(dict.fromkeys(facets)) + ")" if facets else ""))
    return "; ".join(parts) or "matches all customers"
