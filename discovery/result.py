"""The Result of one question, and the segment JSON document (the contract in
ARCHITECTURE.md: attached in Slack, printed by `python -m discovery ask --json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

Kind = Literal["segment", "analytics", "clarify"]
Mode = Literal["agent", "offline"]


class Reason(Enum):
    """Why a question got no answer of its own, for callers to test instead of the answer's words."""

    NO_DATA = "no data"  # nothing is loaded yet: the answer says how to load data


@dataclass
class Funnel:
    population: int = 0
    after_gate: int = 0
    after_semantic: int = 0  # the refined set: the gated customers whose profiles match the intent
    returned: int = 0
    stage: str = "semantic"  # what the middle stage did: "semantic" (ranked by intent) or "lookalike"


@dataclass
class Usage:
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0
    embedding_tokens: int = 0
    llm_calls: int = 0
    cost_usd: float = 0.0
    cost_known: bool = True  # False when a call's model has no known price and the provider reported none

    def add(self, other: Usage) -> None:
        for k in ("llm_prompt_tokens", "llm_completion_tokens", "embedding_tokens", "llm_calls"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.cost_usd = round(self.cost_usd + other.cost_usd, 8)
        self.cost_known = self.cost_known and other.cost_known


@dataclass
class Customer:
    customer_id: int
    # optional fields: None when the data holds no (readable) value
    first_name: str | None
    last_name: str | None
    email: str | None
    country: str | None
    age: int | None
    total_spent: float | None
    favorite_color: str | None
    calculated_interests: list[str]
    likes_luxury: bool
    score: float | None
    why: str
    preferred_colors: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)  # custom attributes (not pii ones), by name

    def contract(self) -> dict:
        return {
            "customer_id": self.customer_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "country": self.country,
            "age": self.age,
            "total_spent": self.total_spent,
            "favorite_color": self.favorite_color,
            "calculated_interests": self.calculated_interests,
            "likes_luxury": self.likes_luxury,
            "score": self.score,
            "why": self.why,
            "attributes": dict(self.attributes),
        }


@dataclass
class Recipe:
    query: dict | None = None
    sql: list[str] = field(default_factory=list)
    semantic_query: str | None = None
    model: str | None = None
    embedding_model: str | None = None
    data_snapshot: dict = field(default_factory=dict)


@dataclass
class Result:
    kind: Kind
    question: str
    answer: str
    mode: Mode
    mode_reason: str = ""
    funnel: Funnel = field(default_factory=Funnel)
    customers: list[Customer] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    recipe: Recipe = field(default_factory=Recipe)
    usage: Usage = field(default_factory=Usage)
    timings_ms: dict[str, float] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    notes: list[str] = field(default_factory=list)  # e.g. "no events in the last 60 days; latest 2026-02-19"
    wants_json: bool = False
    query: Any = None  # the typed query (AudienceQuery) a follow-up refines
    data_max: datetime | None = None
    explain_customer: int | None = None  # set when the answer explains one customer of the last segment
    reason: Reason | None = None  # why the question got no answer of its own (no data yet); None otherwise
    refinement: str = ""  # how the intent cut the gate, one line ("kept the 88 of 310 whose profiles read as …")
    # the whole segment's ids when discovery held them (an intent's refined set): for counting only,
    # never in the JSON document nor shown to the model
    members: list[int] | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        """The segment JSON document, exactly the contract's keys."""
        doc: dict[str, Any] = {
            "kind": "analytics" if self.kind == "analytics" else "segment",
            "question": self.question,
            "answer": self.answer,
            "mode": self.mode,
            "funnel": vars(self.funnel).copy(),
            "customers": [c.contract() for c in self.customers],
            "recipe": {
                "query": self.recipe.query,
                "sql": list(self.recipe.sql),
                "semantic_query": self.recipe.semantic_query,
                "model": self.recipe.model,
                "embedding_model": self.recipe.embedding_model,
                "data_snapshot": dict(self.recipe.data_snapshot),
            },
            "usage": vars(self.usage).copy(),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "generated_at": self.generated_at.isoformat(),
        }
        if self.kind == "analytics":
            doc["columns"] = list(self.columns)
            doc["rows"] = [list(r) for r in self.rows]
        return doc
