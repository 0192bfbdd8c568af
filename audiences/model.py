"""A saved audience and its recipe.

The recipe is what re-evaluates the audience on any snapshot, without an LLM: the typed query
(discovery.query.AudienceQuery: behaviours, CRM conditions, semantic intent, ordering), an explicit
top-N when the marketer asked for one (never the page of 20 a card shows), the question it came
from, the data snapshot it was first built on and the model that planned it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from audiences.errors import AudienceError, BadName, NotASegment
from discovery.query import AudienceQuery
from discovery.result import Result

NAME_MAX = 80
Notify = Literal["changes", "always"]
NOTIFY_CHOICES: tuple[str, ...] = ("changes", "always")
DEFAULT_LIMIT = AudienceQuery.model_fields["limit"].default  # the page a card shows, not a top-N


class Recipe(BaseModel):
    """How to compute the audience's members on a snapshot (stored as JSON)."""

    model_config = ConfigDict(extra="forbid")

    query: AudienceQuery
    top_n: int | None = Field(default=None, ge=1, description="keep only the N best (the marketer asked for it)")
    question: str = ""
    run_id: int | None = Field(default=None, description="the ingestion run the audience was first built on")
    data_max: str | None = None
    model: str | None = Field(default=None, description="the LLM that planned it; None: the offline planner")
    embedding_model: str | None = None

    @property
    def intent(self) -> str | None:
        return self.query.intent

    @property
    def order_by(self) -> str:
        return self.query.order_by

    def describe(self) -> str:
        text = self.query.describe()
        if self.top_n:
            text += f"; the top {self.top_n}" + (" by similarity" if self.intent else f" by {self.order_by}")
        return text


@dataclass(frozen=True)
class SavedAudience:
    id: int
    name: str
    owner: str
    channel: str | None  # where refresh notices go (None: nowhere, e.g. saved from the terminal)
    thread_ts: str | None
    notify: Notify
    created_at: datetime
    recipe: Recipe | None  # None: the stored recipe no longer reads (see recipe_error)
    workspace: str = ""
    recipe_error: str | None = None

    def usable_recipe(self) -> Recipe:
        """The recipe, or AudienceError saying why this audience cannot be evaluated."""
        if self.recipe is None:
            raise AudienceError(
                f"The saved definition of “{self.name}” no longer reads ({self.recipe_error}). "
                "Ask the question again and save it under this name with overwrite."
            )
        return self.recipe


def clean_name(name: str) -> str:
    """The name as stored: trimmed, inner whitespace collapsed. Raises BadName."""
    cleaned = re.sub(r"\s+", " ", name or "").strip()
    if not cleaned:
        raise BadName("An audience needs a name: say `save as <name>`.")
    if len(cleaned) > NAME_MAX:
        raise BadName(f"That name has {len(cleaned)} characters; keep it to {NAME_MAX} or fewer.")
    return cleaned


def name_key(name: str) -> str:
    """Names are unique per workspace regardless of case."""
    return clean_name(name).casefold()


def recipe_from_result(result: Result, top_n: int | None = None) -> Recipe:
    """The recipe of a discovery answer (Result.query is its typed AudienceQuery, Result.recipe the
    rest). `top_n`: an explicit top-N the caller knows was asked for; without it, a query limit
    other than the card's default page counts as one ("top 50 …") and the default page does not.
    Raises NotASegment for anything but a segment."""
    if result.kind != "segment" or not isinstance(result.query, AudienceQuery):
        raise NotASegment(
            "There is no segment to save here yet: ask for an audience first "
            "(e.g. customers in Germany who bought shoes in the last 90 days), then save it."
        )
    q = result.query
    if q.crm.customer_ids:
        raise NotASegment(
            "This answer is about given customers (an explanation), not a segment: ask for the audience itself."
        )
    if q.like is not None:
        raise NotASegment(
            "A lookalike segment can't be saved as a refreshing audience yet: its members are ranked against "
            "seed customers, not selected by conditions a refresh can re-run. Save the seed audience itself, "
            "or download this segment's file (`export csv` in the thread)."
        )
    if top_n is None and q.limit != DEFAULT_LIMIT:
        top_n = q.limit
    snap = result.recipe.data_snapshot or {}
    return Recipe(
        query=q,
        top_n=top_n,
        question=result.question,
        run_id=snap.get("run_id"),
        data_max=snap.get("data_max"),
        model=result.recipe.model,
        embedding_model=result.recipe.embedding_model,
    )


def recipe_to_json(recipe: Recipe) -> str:
    return recipe.model_dump_json(exclude_defaults=False)


def recipe_from_json(data: dict | str) -> Recipe:
    return Recipe.model_validate_json(data) if isinstance(data, str) else Recipe.model_validate(data)


SAVE_AS = re.compile(r"^save\s+(?:this\s+|it\s+)?as\b(.*)$", re.IGNORECASE | re.DOTALL)
QUOTES = "\"'“”‘’`"


def save_name(text: str) -> str | None:
    """The name asked for in `save as <name>` / `save this as <name>` ("" when none is given), or None
    for any other text. The Slack thread and the terminal's --conversation read the same phrase."""
    found = SAVE_AS.match((text or "").strip())
    return found.group(1).strip().strip(QUOTES).strip() if found else None
