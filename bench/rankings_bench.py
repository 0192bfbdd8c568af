"""Do the embedding backends rank the eval's questions as torch does? (issue 17's second bar)

python -m bench rankings [--customers 2000] [--events-per-customer 10]
    ingests the eval's sample once per backend (torch, onnx, openvino, openvino-bf16; fresh stores each, every
    profile embedded by that backend), asks every segment question of the eval whose answer is
    ranked by a semantic intent (offline planner, the same date as the eval), and compares the
    ranked customers — ids and order — with torch's.
"""

from __future__ import annotations

from bench.eval.cases import CASES
from bench.ingest_bench import SAMPLE_END, sample
from bench.stores import temp_stores
from discovery.service import Conversation, Discovery
from ingest.pipeline import run as ingest_run
from ingest.progress import Progress

BACKENDS = ("torch", "onnx", "openvino", "openvino-bf16")


def ranked_answers(backend: str, customers: int, per: float) -> dict[str, list[int]]:
    """Case id → the ranked customer ids of its last answer, for the answers an intent ranked."""
    crm, events, _ = sample(customers, per)
    out: dict[str, list[int]] = {}
    with temp_stores("bench-rankings-", embedding_backend=backend, database_url=None, qdrant_url=None) as settings:
        ingest_run(settings, crm, events, progress=Progress(False))
        discovery = Discovery.from_settings(settings)
        for case in (c for c in CASES if c.kind == "segment"):
            conversation = Conversation()
            for turn in case.turns:
                result = discovery.answer(turn, conversation, offline=True, now=SAMPLE_END)
            if result.recipe.semantic_query and result.customers:
                out[case.id] = [c.customer_id for c in result.customers]
    return out


def rankings(customers: int = 2000, per: float = 10) -> str:
    answers = {b: ranked_answers(b, customers, per) for b in BACKENDS}
    reference = answers["torch"]
    rows = []
    for backend in BACKENDS[1:]:
        got = answers[backend]
        same = [k for k in reference if got.get(k) == reference[k]]
        differ = [k for k in reference if k not in same]
        overlap = [len(set(got.get(k, [])) & set(reference[k])) / len(reference[k]) for k in differ]
        detail = (
            ", ".join(f"{k} ({o:.0%} of the same customers)" for k, o in zip(differ, overlap, strict=True)) or "none"
        )
        rows.append(f"| {backend} | {len(same)} of {len(reference)} | {detail} |")
    return "\n".join(
        [
            f"Rankings of the eval's intent-ranked segment questions ({customers:,} customers, offline planner; "
            f"`python -m bench rankings --customers {customers}`): ids and order of the customers shown, against torch's.",
            "",
            "| backend | identical | differing |",
            "|---|---|---|",
            *rows,
        ]
    )
