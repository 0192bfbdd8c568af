"""A recipe's members on the live snapshot: deterministic, no LLM, no profile embedding.

Members = everyone the typed query's gate selects (discovery.compile's SQL, no row cap, no page of
20), refined by the intent exactly as a question's segment is (discovery's cut at the natural break,
widened or narrowed as the recipe says), limited only by an explicit
top-N: by similarity to the intent when there is one (the intent embedded once per process and
model, against the live vectors), else in the query's SQL order. Conditions naming a product,
colour, country or event type the live data no longer has are reported by name.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audiences.members import as_sorted
from audiences.model import Recipe
from cdp.db import read_only
from cdp.embedder import embedder_for
from cdp.settings import Settings
from cdp.vectors import get_qdrant
from discovery import compile as c
from discovery.catalogue import Catalogue, load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery
from discovery.ranking import VectorRanking

EVALUATE_TIMEOUT_MS = 120_000  # a whole gate at 1 M customers; the settings' timeout is for questions
WHY_MAX = 5  # members explained per refresh message


@dataclass
class Evaluation:
    ids: np.ndarray  # sorted int64
    run_id: int | None
    notes: list[str] = field(default_factory=list)
    gate_size: int = 0
    scores: dict[int, float] = field(default_factory=dict)  # only when a top-N was ranked by the intent
    refinement: str | None = None  # how the intent cut the gate ("kept the 88 of 310 whose profiles …")


def _values_note(kind: str, wanted: list[str], live: tuple[str, ...], condition: str, negate: bool) -> list[str]:
    gone = [v for v in wanted if v not in live]
    if not gone:
        return []
    names = ", ".join(f"'{v}'" for v in gone)
    head = f"{kind} {names} no longer appear{'s' if len(gone) == 1 else ''} in the data"
    if len(gone) < len(wanted):
        return [f"{head}: the condition “{condition}” now matches only the rest of its values"]
    if negate:
        return [f"{head}: the condition “{condition}” now excludes nobody"]
    return [f"{head}: the condition “{condition}” now matches nobody"]


def vanished(q: AudienceQuery, cat: Catalogue) -> list[str]:
    """One note per condition naming values the live vocabulary no longer has."""
    notes: list[str] = []
    for b in q.behaviours:
        text = b.describe()
        notes += _values_note("product", b.products, cat.products, text, b.negate)
        notes += _values_note("colour", b.colors, cat.colors, text, b.negate)
        notes += _values_note("event type", b.event_types, cat.event_types, text, b.negate)
    crm = q.crm
    if crm.countries:
        notes += _values_note("country", crm.countries, cat.countries, "country " + "/".join(crm.countries), False)
    if crm.favorite_colors:
        text = "favourite colour " + "/".join(crm.favorite_colors)
        notes += _values_note("favourite colour", crm.favorite_colors, cat.favorite_colors, text, False)
    return notes


def members_sql(q: AudienceQuery, now: datetime) -> c.CompiledSQL:
    """Every customer the gate selects, unordered (the set, not a ranking)."""
    where, params = c.audience_where(q, now)
    return c.CompiledSQL(f"SELECT c.customer_id FROM {c.GATE_FROM} WHERE {where}", params)


class Evaluator:
    """Evaluates recipes on the live snapshot. Build once per process (or per refresh_all): it keeps
    the intents' vectors. Qdrant and the model are opened only when a top-N is ranked by an intent."""

    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self._intents: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()
        self.intents_embedded = 0

    def catalogue(self) -> Catalogue:
        return load_catalogue(self.engine)

    def evaluate(self, recipe: Recipe, now: datetime | None = None) -> Evaluation:
        """The members now; if a new snapshot went live during the evaluation, evaluated again on it."""
        now = now or datetime.now()
        for _ in range(3):
            cat = self.catalogue()
            result = self._evaluate(recipe, cat, now)
            if self.catalogue().run_id == cat.run_id:
                return result
        return result

    def _run(self, compiled: c.CompiledSQL) -> list[sa.Row]:
        timeout = max(self.settings.sql_statement_timeout_ms, EVALUATE_TIMEOUT_MS)
        with read_only(self.engine, timeout_ms=timeout, work_mem_mb=self.settings.sql_work_mem_mb) as conn:
            return list(conn.execute(sa.text(compiled.sql), compiled.params))

    def _evaluate(self, recipe: Recipe, cat: Catalogue, now: datetime) -> Evaluation:
        q = recipe.query
        notes = vanished(q, cat)
        if cat.empty:
            return Evaluation(as_sorted([]), cat.run_id, ["no data has been ingested yet"], 0)
        if recipe.top_n and not recipe.intent:
            rows = self._run(c.gate_sql(q, now, cap=recipe.top_n))  # the query's SQL order, first N
            size = self._run(c.count_sql(q, now))[0][0]
            return Evaluation(as_sorted([r[0] for r in rows]), cat.run_id, notes, size)
        gate = as_sorted([r[0] for r in self._run(members_sql(q, now))])
        ids, refinement = self.refine(gate, q, cat)
        if not (recipe.top_n and recipe.intent) or len(ids) == 0:
            return Evaluation(ids, cat.run_id, notes, len(gate), refinement=refinement)
        scores = self.rank(ids, recipe.intent, recipe.top_n, cat)
        return Evaluation(as_sorted(list(scores)), cat.run_id, notes, len(gate), scores, refinement)

    def refine(self, gate: np.ndarray, q: AudienceQuery, cat: Catalogue) -> tuple[np.ndarray, str | None]:
        """The gate cut by the intent as a question's segment is (discovery's refinement), and its line."""
        if not q.intent or q.refine == "off" or len(gate) == 0:
            return gate, None
        embedder = embedder_for(self.settings)
        engine = DiscoveryEngine(self.settings, self.engine, get_qdrant(self.settings), embedder, cat)
        kept, how = engine.refine_members([int(i) for i in gate], q.intent, mode=q.refine)
        return as_sorted(kept), how

    # -- ranking by the intent -----------------------------------------------------------------
    def intent_vector(self, intent: str) -> np.ndarray:
        key = (self.settings.embedding_model, intent)
        with self._lock:
            if key not in self._intents:
                embedder = embedder_for(self.settings)
                self._intents[key] = embedder.embed_one(intent)
                self.intents_embedded += 1
            return self._intents[key]

    def rank(self, ids: np.ndarray, intent: str, n: int, cat: Catalogue) -> dict[int, float]:
        """The `n` of `ids` most similar to `intent` (ties: lower id first), with their similarity: the
        question's own ranking (discovery.ranking) over the live snapshot's collection."""
        collection = cat.collection or self.settings.qdrant_collection
        ranking = VectorRanking(self.settings, get_qdrant(self.settings), cat, collection)
        order, scores = ranking.rank(ids.tolist(), self.intent_vector(intent), top=n)
        return {i: scores[i] for i in order[:n]}

    # -- why ------------------------------------------------------------------------------------
    def why_joined(self, recipe: Recipe, ids: list[int], now: datetime, scores: dict[int, float]) -> dict[int, str]:
        """One line per customer (no names, no e-mails): country, spend, the matching events per
        behaviour of the recipe, the similarity to the intent when ranked by it."""
        ids = [int(i) for i in ids[:WHY_MAX]]
        if not ids:
            return {}
        q = recipe.query
        rows = self._run(
            c.CompiledSQL(
                "SELECT customer_id, country, total_spent FROM customers WHERE customer_id = ANY(:ids)", {"ids": ids}
            )
        )
        parts: dict[int, list[str]] = {  # an unknown country or spend (NULL) is left out
            r.customer_id: [
                *([r.country] if r.country is not None else []),
                *([f"spent {float(r.total_spent):,.2f}"] if r.total_spent is not None else []),
            ]
            for r in rows
        }
        for i, b in enumerate(q.behaviours):
            if b.negate:
                for cid in parts:
                    parts[cid].append(b.describe())
                continue
            conds, params = c.event_conditions(b, i, now)
            where = " AND ".join(["e.customer_id = ANY(:ids)", *conds])
            counts = dict(
                self._run(
                    c.CompiledSQL(
                        f"SELECT e.customer_id, count(*) FROM events e WHERE {where} GROUP BY 1", {**params, "ids": ids}
                    )
                )  # fmt: skip
            )
            for cid in parts:
                parts[cid].append(f"{b.describe()}: {counts.get(cid, 0)}×")
        for cid, score in scores.items():
            if cid in parts:
                parts[cid].append(f"similarity to “{recipe.intent}” {score:.2f}")
        return {cid: " · ".join(p) for cid, p in parts.items()}

    def why_left(self, ids: list[int]) -> dict[int, str]:
        ids = [int(i) for i in ids[:WHY_MAX]]
        if not ids:
            return {}
        present = {
            r[0]
            for r in self._run(
                c.CompiledSQL("SELECT customer_id FROM customers WHERE customer_id = ANY(:ids)", {"ids": ids})
            )
        }
        return {i: "no longer matches" if i in present else "no longer in the data" for i in ids}
