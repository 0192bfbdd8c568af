"""Hand-built discovery Results for view tests (no database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from discovery.result import Customer, Funnel, Recipe, Result, Usage

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")  # an e-mail address anywhere in a message
CONTRACT_KEYS = {  # the segment JSON document's top-level keys (the contract)
    "kind",
    "question",
    "answer",
    "mode",
    "funnel",
    "customers",
    "recipe",
    "usage",
    "timings_ms",
    "generated_at",
}


def customer(i: int, **kw) -> Customer:
    base = dict(
        customer_id=i,
        first_name=f"Anna{i}",
        last_name=f"Kowalska{i}",
        email=f"anna{i}@example.com",
        country="DE",
        age=30 + i % 40,
        total_spent=1234.5 + i,
        favorite_color="red",
        calculated_interests=["socks", "watch"],
        likes_luxury=True,
        score=0.8123 - i / 1000,
        why=f"purchase of socks ({i % 3 + 1}×); similarity 0.81 to “luxury”",
    )
    base.update(kw)
    return Customer(**base)


def segment(n: int = 20, *, question: str = "customers who bought socks and like luxury", **kw) -> Result:
    r = Result(
        kind="segment",
        question=question,
        answer=f"{n} of 500 customers match purchase of socks; luxury.",
        mode="offline",
        mode_reason="no OPENROUTER_API_KEY is set",
        funnel=Funnel(population=500, after_gate=120, after_semantic=80, returned=n),
        customers=[customer(i) for i in range(1, n + 1)],
        recipe=Recipe(
            query={"behaviours": [{"event_types": ["purchase"], "products": ["socks"]}], "crm": {"likes_luxury": True}},
            sql=[
                "SELECT customer_id FROM events WHERE product = 'socks'",
                "SELECT * FROM customers WHERE id = ANY(:ids)",
            ],
            semantic_query="luxury",
            embedding_model="all-MiniLM-L6-v2",
            data_snapshot={"run_id": 1, "finished_at": "2026-11-23T20:15:00+00:00", "data_max": "2026-11-01T12:00:00"},
        ),
        usage=Usage(embedding_tokens=5),
        timings_ms={"total": 412.0},
        generated_at=datetime(2026, 11, 23, 20, 15, tzinfo=UTC),
    )
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def analytics(rows: list[list] | None = None, columns: list[str] | None = None) -> Result:
    return Result(
        kind="analytics",
        question="customers by country",
        answer="customers by country: DE 20, CZ 15.",
        mode="agent",
        mode_reason="LLM google/gemini-3.5-flash",
        columns=columns or ["country", "customers"],
        rows=rows if rows is not None else [["DE", 20], ["CZ", 15], ["FR", 12]],
        recipe=Recipe(
            query={"group_by": "country"},
            sql=["SELECT country, count(*) FROM customers GROUP BY 1"],
            model="google/gemini-3.5-flash",
        ),
        usage=Usage(llm_prompt_tokens=1200, llm_completion_tokens=80, llm_calls=2, cost_usd=0.00015),
        timings_ms={"total": 2300.0},
        generated_at=datetime(2026, 11, 23, 20, 15, tzinfo=UTC),
    )
