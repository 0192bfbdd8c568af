"""Lookalike expansion: quality on a planted cohort and latency (part of `python -m bench tools`).

Quality (the ranking itself, on the exact matrix path of Qdrant local mode): the sample has a hidden
cohort sharing one facet combination (ingest.sample, cohort=N). A random 20 % of it are the seeds;
the top k of the lookalikes (everyone else ranked, no gate) are compared with the rest of the cohort: precision and recall at k = the rest of the cohort (the most that
can be right), precision at k = the whole cohort's size (at most 0.8 by construction: only 80 % of
the cohort is left to find), and the lift over a random pick of k of the candidates. Both strategies
(average vector, best score) are measured; discovery.lookalike.DEFAULT_STRATEGY is the better one.

Latency: discovery.lookalike.lookalike end to end (gate, ranking, enrichment of 20, the why) for
1,000 seeds, over everyone and inside a country gate, after the bot's warm-up.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from bench.stats import percentile
from discovery.engine import DiscoveryEngine
from discovery.lookalike import DEFAULT_STRATEGY, STRATEGIES, lookalike, ranker_for
from discovery.query import AudienceQuery, CRMFilter, Lookalike
from discovery.ranking import by_score

SEED_SHARE = 0.2
LATENCY_SEEDS = 1_000


def quality(de: DiscoveryEngine, cohort: Sequence[int], rounds: int = 3) -> list[str]:
    """Precision / recall / lift of each strategy over `rounds` random seed draws."""
    everyone = de.catalogue.customers
    lines = []
    for strategy in STRATEGIES:
        prec, prec_full, recall, lift, ms = [], [], [], [], []
        for r in range(rounds):
            seeds = random.Random(r).sample(list(cohort), max(1, int(len(cohort) * SEED_SHARE)))
            rest = set(cohort) - set(seeds)
            for k, into in ((len(rest), prec), (len(cohort), prec_full)):
                t = time.perf_counter()
                top = by_score(ranker_for(de, seeds, strategy).top(k, None))[:k]
                ms.append((time.perf_counter() - t) * 1000)
                hits = len(set(top) & rest)
                into.append(hits / len(top))
                if k == len(rest):
                    recall.append(hits / len(rest))
                    lift.append((hits / len(top)) / (len(rest) / (everyone - len(seeds))))
        mark = " (default)" if strategy == DEFAULT_STRATEGY else ""
        lines.append(
            f"- {strategy}{mark}: precision@{len(cohort) - len(seeds)} (the rest of the cohort) "
            f"**{mean(prec):.3f}** = recall@k; precision@{len(cohort)} (cohort size) {mean(prec_full):.3f} "
            f"(≤ 0.8 by construction); lift over random **{mean(lift):.0f}×**; ranking {percentile(ms, 0.5):.0f} ms p50"
        )
    return lines


def latency(de: DiscoveryEngine, now, repeats: int = 20) -> list[str]:
    population = list(range(1, de.catalogue.customers + 1))
    out = []
    for label, crm in (("everyone", CRMFilter()), ("country DE", CRMFilter(countries=["DE"]))):
        lat: list[float] = []
        for r in range(repeats):
            seeds = random.Random(100 + r).sample(population, LATENCY_SEEDS)
            q = AudienceQuery(crm=crm, like=Lookalike(seed_ids=seeds))
            t = time.perf_counter()
            seg = lookalike(de, q, seeds, now=now)
            lat.append((time.perf_counter() - t) * 1000)
            assert seg.customers and not {c.customer_id for c in seg.customers} & set(seeds)
        out.append(
            f"- lookalike of {LATENCY_SEEDS:,} seeds over {de.catalogue.customers:,} customers ({label}, "
            f"{DEFAULT_STRATEGY}, top 20 with why) × {repeats}: **p50 {percentile(lat, 0.5):.0f} ms, "
            f"p95 {percentile(lat, 0.95):.0f} ms**, max {max(lat):.0f} ms"
        )
    return out


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)
