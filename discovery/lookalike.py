"""Lookalike expansion: the customers most like a set of seed customers, inside an optional gate.

Seeds are customer ids (the thread's last segment, or a saved audience resolved by the caller).
Candidates are every customer passing the gate — the typed query's behaviours and CRM conditions,
none: everyone — and never a seed. They are ranked by the seeds' profile vectors with one of two
strategies, Qdrant's names for them:

- "average": cosine similarity to the seeds' mean vector (AVERAGE_VECTOR);
- "best": the highest similarity to any one seed (BEST_SCORE without negative examples).

DEFAULT_STRATEGY is the one that recovered a planted cohort best (`python -m bench lookalike`,
bench/RESULTS.md). Qdrant local mode ranks exactly from the in-memory vector matrix
(discovery.vector_matrix); a Qdrant server is asked through its recommendation API (query_points
with a RecommendQuery; the seeds excluded by id, the gate required by id). The funnel reads
population → gate → lookalike (the candidates ranked) → returned, and each customer's why names the
seeds it is closest to and the profile facets it shares with them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from qdrant_client import models

from discovery import compile as c
from discovery.engine import DiscoveryEngine, Gate, Segment
from discovery.errors import DiscoveryError
from discovery.query import AudienceQuery
from discovery.ranking import by_score
from discovery.result import Customer, Funnel
from discovery.vector_matrix import VectorMatrix

Strategy = Literal["average", "best"]
STRATEGIES: tuple[Strategy, ...] = ("average", "best")
DEFAULT_STRATEGY: Strategy = "average"
MAX_SEEDS_BEST = 2_000  # "best" scores every candidate against every seed: more seeds are sampled evenly
MAX_SEEDS_QDRANT = 10_000  # seeds a Qdrant server recommends from (sampled evenly; all are excluded)
NEAREST = 2  # seeds named in each customer's why
_CHUNK = 4_096
_AGED = re.compile(r"\baged ([^.]+)\.")  # the age band as the profile text (what was embedded) says it
# Resolves a saved audience's name to its members' customer ids (None: no audience of that name). The caller
# that knows saved audiences (the bot, the CLI) injects it into discovery.service.Discovery; discovery never
# imports the audiences package.
SeedResolver = Callable[[str], Sequence[int] | None]

_QDRANT_STRATEGY = {"average": models.RecommendStrategy.AVERAGE_VECTOR, "best": models.RecommendStrategy.BEST_SCORE}


def evenly(ids: Sequence[int], n: int) -> list[int]:
    """At most `n` of `ids`, spread evenly over them (deterministic)."""
    if len(ids) <= n:
        return list(ids)
    return [ids[int(i)] for i in np.linspace(0, len(ids) - 1, n)]


def unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def strategy_scores(matrix: np.ndarray, rows: np.ndarray, seeds: np.ndarray, strategy: Strategy) -> np.ndarray:
    """The score of each of `rows` of `matrix` against the seed vectors (all normalized). No copy of the
    candidates' rows for "average" (one product over the whole matrix); "best" copies them in chunks."""
    if not len(rows):
        return np.zeros(0, dtype=np.float32)
    if strategy == "average":  # einsum, not BLAS: ~5x faster on a busy 2-core machine (no thread oversubscription)
        return np.einsum("ij,j->i", matrix, unit(seeds.mean(axis=0)).astype(np.float32))[rows]
    out = np.empty(len(rows), dtype=np.float32)
    for i in range(0, len(rows), _CHUNK):
        out[i : i + _CHUNK] = (matrix[rows[i : i + _CHUNK]] @ seeds.T).max(axis=1)
    return out


@dataclass
class Ranker:
    """Ranks candidates against fixed seeds; `top(k, within)` never returns a seed."""

    seeds: list[int]  # the seeds that have a vector
    strategy: Strategy

    def top(self, k: int, within: list[int] | None) -> dict[int, float]:
        raise NotImplementedError

    def vectors(self, ids: list[int]) -> tuple[list[int], np.ndarray]:
        raise NotImplementedError


class MatrixRanker(Ranker):
    """Exact, over the in-memory matrix of Qdrant local mode."""

    def __init__(self, matrix: VectorMatrix, seeds: list[int], strategy: Strategy):
        rows = matrix.rows(seeds)
        self.matrix, self.seed_rows = matrix, rows
        used = rows if strategy == "average" else np.asarray(evenly(rows.tolist(), MAX_SEEDS_BEST), dtype=np.int64)
        self.seed_matrix = matrix.vectors[used]
        super().__init__(matrix.ids[rows].tolist(), strategy)

    def top(self, k: int, within: list[int] | None) -> dict[int, float]:
        if not len(self.seed_rows):
            return {}
        candidate = np.ones(len(self.matrix.ids), dtype=bool)
        candidate[self.seed_rows] = False
        rows = np.flatnonzero(candidate) if within is None else self.matrix.rows(within)
        rows = rows[candidate[rows]]
        sims = strategy_scores(self.matrix.vectors, rows, self.seed_matrix, self.strategy)
        k = min(k, len(sims))
        if k <= 0:
            return {}
        best = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        return dict(zip(self.matrix.ids[rows[best]].tolist(), sims[best].tolist(), strict=True))

    def vectors(self, ids: list[int]) -> tuple[list[int], np.ndarray]:
        rows = self.matrix.rows(ids)
        return self.matrix.ids[rows].tolist(), self.matrix.vectors[rows]


class QdrantRanker(Ranker):
    """A Qdrant server's recommendation API (also works, slowly, in local mode)."""

    def __init__(self, de: DiscoveryEngine, seeds: list[int], strategy: Strategy):
        self.de, self.alias = de, de.vectors.collection  # the live snapshot's collection (discovery.ranking)
        found, _ = self._fetch(seeds, with_vectors=False)  # all excluded; at most MAX_SEEDS_QDRANT recommend
        super().__init__(found, strategy)

    def _fetch(self, ids: list[int], *, with_vectors: bool = True) -> tuple[list[int], np.ndarray]:
        found: list[int] = []
        chunks: list[np.ndarray] = []
        for i in range(0, len(ids), 2_000):
            points = self.de.qdrant.retrieve(
                self.alias, ids[i : i + 2_000], with_vectors=with_vectors, with_payload=False
            )
            found += [int(p.id) for p in points]
            if with_vectors and points:
                chunks.append(np.asarray([p.vector for p in points], dtype=np.float32))
        return found, np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)

    def top(self, k: int, within: list[int] | None) -> dict[int, float]:
        if not self.seeds:
            return {}
        seeds: list[models.ExtendedPointId] = list(self.seeds)
        positive: list[models.VectorInput] = list(evenly(self.seeds, MAX_SEEDS_QDRANT))
        must: list[models.Condition] = []
        if within is not None:
            gate: list[models.ExtendedPointId] = list(within)
            must.append(models.HasIdCondition(has_id=gate))
        query = models.RecommendQuery(
            recommend=models.RecommendInput(positive=positive, strategy=_QDRANT_STRATEGY[self.strategy])
        )
        res = self.de.qdrant.query_points(
            self.alias, query=query, limit=k, with_payload=False,
            query_filter=models.Filter(must=must or None, must_not=[models.HasIdCondition(has_id=seeds)]),
        )  # fmt: skip
        return {int(p.id): float(p.score) for p in res.points}

    def vectors(self, ids: list[int]) -> tuple[list[int], np.ndarray]:
        return self._fetch(ids)


def ranker_for(de: DiscoveryEngine, seeds: list[int], strategy: Strategy = DEFAULT_STRATEGY) -> Ranker:
    seeds = list(dict.fromkeys(int(s) for s in seeds))
    if (matrix := de._vector_matrix()) is not None:
        return MatrixRanker(matrix, seeds, strategy)
    return QdrantRanker(de, seeds, strategy)


def candidate_gate(de: DiscoveryEngine, q: AudienceQuery, now: datetime, sql: list[str]) -> Gate:
    """The gate's size and, up to GATE_FETCH_MAX, its ids; `everyone` when nothing restricts it."""
    if c.audience_where(q, now)[0] == "TRUE":
        return Gate(de.catalogue.customers, None, everyone=True)
    cap = de.settings.gate_fetch_max
    size, ids = de._run(c.gate_sample_sql(q, now, None, cap), sql)[0]
    return Gate(size, list(ids or []) if size <= cap else None)


def rank(
    de: DiscoveryEngine, ranker: Ranker, gate: Gate, limit: int, check: Callable[[list[int]], set[int]]
) -> tuple[list[int], dict[int, float], int]:
    """(the best `limit` candidates, their scores, how many candidates were ranked)."""
    seeds = set(ranker.seeds)
    if gate.everyone:
        scores = ranker.top(limit, None)
        return by_score(scores)[:limit], scores, max(gate.size - len(seeds), 0)
    if gate.ids is not None:
        scores = ranker.top(limit, gate.ids)
        return by_score(scores)[:limit], scores, len(set(gate.ids) - seeds)
    k = de.candidates_for(gate.size, limit)  # a gate too large to fetch: the closest over everyone, checked
    while True:
        scores = ranker.top(k, None)
        order = by_score(scores)
        passing = check(order)
        ranked = [i for i in order if i in passing]
        if len(ranked) >= limit or len(scores) < k:
            break
        k *= 8
    in_gate = len(check(sorted(seeds))) if seeds else 0
    return ranked[:limit], {i: scores[i] for i in ranked[:limit]}, max(gate.size - in_gate, 0)


def lookalike(
    de: DiscoveryEngine,
    q: AudienceQuery,
    seeds: list[int],
    *,
    now: datetime | None = None,
    strategy: Strategy = DEFAULT_STRATEGY,
    progress=None,
) -> Segment:
    """The `q.limit` customers most like `seeds` among those passing `q`'s gate (its intent is not used)."""
    now = now or datetime.now()
    say = progress or (lambda stage: None)
    timings: dict[str, float] = {}
    sql: list[str] = []
    gate_q = q.model_copy(update={"like": None, "intent": None})
    funnel = Funnel(population=de.catalogue.customers, stage="lookalike")
    say("gate")
    t0 = time.perf_counter()
    gate = candidate_gate(de, gate_q, now, sql)
    funnel.after_gate = gate.size
    timings["gate"] = (time.perf_counter() - t0) * 1000
    if not gate.size:
        return Segment(funnel, [], sql, None, de.empty_gate_notes(gate_q, now), 0, timings)
    say("lookalike")
    t1 = time.perf_counter()
    ranker = ranker_for(de, seeds, strategy)
    if not ranker.seeds:
        note = "none of the seed customers has a profile any more (re-ingested since?); ask for a segment again"
        return Segment(funnel, [], sql, None, [note], 0, timings)
    top, scores, funnel.after_semantic = rank(
        de, ranker, gate, q.limit, lambda ids: de.check(gate_q, now, None, ids, sql)
    )
    timings["lookalike"] = (time.perf_counter() - t1) * 1000
    say("enrich")
    t2 = time.perf_counter()
    customers = de.enrich(top, gate_q, now, scores, sql)
    explain(de, ranker, customers, sql)
    timings["enrich"] = (time.perf_counter() - t2) * 1000
    funnel.returned = len(customers)
    notes = [] if customers else ["no other customer passes the gate"]
    if len(seeds) > len(ranker.seeds):
        notes.append(f"{len(seeds) - len(ranker.seeds):,} of the {len(seeds):,} seed customers have no profile vector")
    return Segment(funnel, customers, sql, None, notes, 0, timings)


def nearest_seeds(
    cands: np.ndarray, seed_ids: list[int], seeds: np.ndarray, n: int = NEAREST
) -> list[list[tuple[int, float]]]:
    """For each candidate row, its `n` closest seeds as (seed id, similarity), closest first."""
    if not len(seed_ids) or not len(cands):
        return [[] for _ in range(len(cands))]
    sims = cands @ seeds.T
    n = min(n, len(seed_ids))
    best = np.argsort(-sims, axis=1, kind="stable")[:, :n]
    return [[(seed_ids[j], float(sims[i, j])) for j in row] for i, row in enumerate(best)]


def age_band(r) -> str | None:
    """The age band a seed's profile text (what was embedded) states, e.g. "35-44"."""
    m = _AGED.search(r.profile_text or "")
    return m.group(1) if m else None


def in_band(band: str, age: int | None) -> bool:
    """Whether `age` lies in a band as the profile texts word it ("18-24", "under 18", "65 or older");
    an unknown age lies in none."""
    if age is None:
        return False
    numbers = [int(n) for n in re.findall(r"\d+", band)]
    if len(numbers) == 2:
        return numbers[0] <= age <= numbers[1]
    if numbers and band.startswith("under"):
        return age < numbers[0]
    return bool(numbers) and age >= numbers[0]


def shared_facets(cust: Customer, seeds: list) -> list[str]:
    """The profile facets (as the vectors encode them) that `cust` shares with every one of the seed rows."""
    if not seeds:
        return []
    facets = []
    if cust.country is not None and all(s.country == cust.country for s in seeds):
        facets.append(f"country {cust.country}")
    bands = {age_band(s) for s in seeds}
    if len(bands) == 1 and (band := bands.pop()) and in_band(band, cust.age):
        facets.append(f"age {band}")
    if cust.favorite_color is not None and all(s.favorite_color == cust.favorite_color for s in seeds):
        facets.append(f"favourite color {cust.favorite_color}")
    facets += [f"interested in {i}" for i in cust.calculated_interests if all(i in (s.interests or []) for s in seeds)]
    facets += [f"prefers {x}" for x in cust.preferred_colors if all(x in (s.preferred_colors or []) for s in seeds)]
    if cust.likes_luxury and all(s.likes_luxury for s in seeds):
        facets.append("likes luxury")
    return facets


def explain(de: DiscoveryEngine, ranker: Ranker, customers: list[Customer], sql: list[str]) -> None:
    """Prefix each customer's why with the seeds it is closest to and the facets it shares with them
    (one statement: the profiles of those seeds)."""
    if not customers:
        return
    seed_ids, seed_vecs = ranker.vectors(evenly(ranker.seeds, MAX_SEEDS_BEST))
    cand_ids, cand_vecs = ranker.vectors([x.customer_id for x in customers])
    near = dict(zip(cand_ids, nearest_seeds(cand_vecs, seed_ids, seed_vecs), strict=True))
    wanted = sorted({s for pairs in near.values() for s, _ in pairs})
    rows = {r.customer_id: r for r in de._run(c.enrich_sql(wanted), sql)} if wanted else {}
    for cust in customers:
        pairs = near.get(cust.customer_id, [])
        if not pairs:
            continue
        closest = ", ".join(f"{s} ({sim:.2f})" for s, sim in pairs)
        facets = shared_facets(cust, [rows[s] for s, _ in pairs if s in rows])
        text = f"like seed customer{'s' if len(pairs) > 1 else ''} {closest}"
        text += f": shares {', '.join(facets)}" if facets else ""
        cust.why = text if cust.why == "matches all customers" else f"{text}; {cust.why}"


class SeedsUnknown(DiscoveryError):
    """A lookalike whose seeds cannot be found (no segment yet, no such saved audience): the message says what to do."""


def resolve_seeds(
    q: AudienceQuery, last_segment: Sequence[int], resolver: SeedResolver | None
) -> tuple[AudienceQuery, list[int]]:
    """`q` with the seeds it names resolved: its own seed ids, a saved audience's members (through `resolver`;
    not written into the query, so a saved lookalike follows the audience), or the thread's last segment
    (written into the query, so that follow-ups keep them). Raises SeedsUnknown saying what to do."""
    like = q.like
    assert like is not None
    if like.seed_audience:
        if resolver is None:
            raise SeedsUnknown(
                f"Saved audiences are not available here, so I can't find customers like “{like.seed_audience}”. "
                "Ask for the segment itself, then reply “find more like these” in its thread."
            )
        members = resolver(like.seed_audience)
        if members is None:
            raise SeedsUnknown(f"There is no saved audience named “{like.seed_audience}”. Check its name.")
        if not len(members):
            raise SeedsUnknown(f"The saved audience “{like.seed_audience}” has no members to start from.")
        return q, [int(i) for i in members]
    if like.seed_ids:
        return q, list(like.seed_ids)
    if not last_segment:
        raise SeedsUnknown(
            "There is no segment in this conversation to find more like: ask for a segment first, "
            "then “find 200 more like these”."
        )
    seeds = [int(i) for i in last_segment]
    return q.model_copy(update={"like": like.model_copy(update={"seed_ids": seeds})}), seeds
