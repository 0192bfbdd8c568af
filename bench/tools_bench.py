"""Discovery tool latency without the LLM.

python -m bench tools --customers 20000 --events-per-customer 10
    hybrid_discovery p50/p95 over a fixed question set, and the original demo's approach
    (payload MatchAny on metadata.customer_id in Qdrant local mode) against ours
    (exact scoring of the gate's rows of the in-memory vector matrix) for 1,000- and 10,000-id gates;
    then lookalikes (bench.lookalike_bench): recovery of a planted cohort of COHORT_SHARE of the
    customers by both strategies, and the latency of 1,000 seeds. The sample is `python -m ingest sample`'s
    with that cohort planted (everyone else as without it).
"""

from __future__ import annotations

import statistics
import time

from qdrant_client import models

from bench.ingest_bench import OUT, SAMPLE_END
from bench.lookalike_bench import latency as lookalike_latency
from bench.lookalike_bench import quality as lookalike_quality
from bench.stats import percentile
from bench.stores import temp_stores
from cdp.db import get_engine
from cdp.embedder import embedder_for
from cdp.vectors import get_qdrant
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery, Behaviour, CRMFilter, TimeWindow
from discovery.service import Discovery
from ingest.pipeline import run
from ingest.progress import Progress
from ingest.sample import generate

COHORT_SHARE = 0.05

QUESTIONS = [
    AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], products=["socks"], colors=["red"], window=TimeWindow(last=6, unit="months"))], crm=CRMFilter(likes_luxury=True), intent="luxury"),
    AudienceQuery(crm=CRMFilter(countries=["DE"], favorite_colors=["blue"], min_spent=500), intent="blue"),
    AudienceQuery(behaviours=[Behaviour(products=["jacket"]), Behaviour(products=["shoes"])]),
    AudienceQuery(crm=CRMFilter(countries=["PL"], likes_luxury=True), intent="luxury high-end fashion"),
    AudienceQuery(crm=CRMFilter(favorite_colors=["red"], likes_luxury=True), intent="luxury red fashion"),
    AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], products=["socks"])], crm=CRMFilter(likes_luxury=True), intent="high-end lifestyle"),
    AudienceQuery(behaviours=[Behaviour(event_types=["view"], window=TimeWindow(last=30))], intent="outdoor hiking"),
    AudienceQuery(behaviours=[Behaviour(event_types=["purchase"], min_events=3)], intent="bargain hunters"),
    AudienceQuery(crm=CRMFilter(min_age=25, max_age=34), intent="sporty sneakers"),
    AudienceQuery(intent="luxury watches and handbags"),
]  # fmt: skip


def tools(customers: int, per: float, repeats: int = 5) -> str:
    t = time.perf_counter()
    files = generate(OUT / f"sample_{customers}_{per:g}_cohort", customers, per, end=SAMPLE_END,
                     cohort=int(customers * COHORT_SHARE))  # fmt: skip
    print(f"generated {customers} customers / {files.events_count} events in {time.perf_counter() - t:.1f}s")
    crm, events, n_events, cohort = files.crm, files.events, files.events_count, files.cohort
    with temp_stores("bench-tools-") as settings:
        t0 = time.perf_counter()
        run(settings, crm, events, progress=Progress(False))
        build = time.perf_counter() - t0
        engine = get_engine(settings)
        client = get_qdrant(settings)
        emb = embedder_for(settings)
        de = DiscoveryEngine(settings, engine, client, emb, load_catalogue(engine))
        t = time.perf_counter()
        Discovery(settings, engine, client, emb).warm_up()  # as python -m bot does before it connects
        matrix_s = time.perf_counter() - t
        matrix = de._vector_matrix()
        de.hybrid(QUESTIONS[0], now=SAMPLE_END)  # warm caches
        lat, gates = [], []
        stages: dict[str, list[float]] = {}
        for _ in range(repeats):
            for q in QUESTIONS:
                t = time.perf_counter()
                seg = de.hybrid(q, now=SAMPLE_END)
                lat.append((time.perf_counter() - t) * 1000)
                gates.append(seg.funnel.after_gate)
                for stage, ms in seg.timings_ms.items():
                    stages.setdefault(stage, []).append(ms)
        per_stage = ", ".join(
            f"{k} p50 {percentile(v, 0.5):.0f} / p95 {percentile(v, 0.95):.0f} ms" for k, v in stages.items()
        )
        lines = [
            f"- {customers:,} customers / {n_events:,} events (build incl. embedding {build:.0f} s); "
            f"hybrid_discovery over {len(QUESTIONS)} queries × {repeats}: **p50 {percentile(lat, 0.5):.0f} ms, p95 {percentile(lat, 0.95):.0f} ms**, "
            f"max {max(lat):.0f} ms; gate sizes {min(gates)}–{max(gates)} (median {statistics.median(gates):.0f})",
            f"- per stage: {per_stage}",
            f"- warm-up incl. the vector matrix (Qdrant local mode, once per data snapshot): {matrix_s:.2f} s, matrix "
            f"{(matrix.nbytes if matrix else 0) / 1e6:.0f} MB",
        ]
        qv = emb.embed_one("luxury fashion").tolist()
        alias = settings.qdrant_collection
        for size in (1000, 10000):
            ids = list(range(1, min(size, customers) + 1, 1))
            t = time.perf_counter()
            client.query_points(
                alias, query=qv, limit=20,
                query_filter=models.Filter(must=[models.FieldCondition(key="metadata.customer_id", match=models.MatchAny(any=ids))]),
            )  # fmt: skip
            matchany = time.perf_counter() - t
            t = time.perf_counter()
            de.rank(ids, de.embedder.embed_one("luxury fashion"), top=20)
            ours = time.perf_counter() - t
            lines.append(
                f"- gate of {len(ids):,} ids over {customers:,} points: original MatchAny on metadata.customer_id {matchany * 1000:.0f} ms, "
                f"ours (exact scoring of the gate) {ours * 1000:.0f} ms → **{matchany / ours:.0f}×**"
            )
        c = cohort.to_dict()
        lines.append(
            f"- lookalikes, planted cohort of {len(cohort.ids):,} ({c['country']}, age {c['ages']}, favourite "
            f"{c['favorite_color']}, {' + '.join(c['products'])} in {c['color']}), 20 % of it as seeds, 3 draws:"
        )
        lines += ["  " + line for line in lookalike_quality(de, cohort.ids)]
        lines += lookalike_latency(de, SAMPLE_END)
        return "\n".join(lines) + "\n"
