"""The reading of one message: what every finder and the walk understood, before it becomes a Plan.

`Parsed` collects behaviours, CRM conditions, loose modifiers (a window, repeat or price said
outside any verb clause), ordering, limit, the analytics spec, notes and problems (reasons for
a clarify). `event_types` maps a verb's concept to the catalogue's event types; a concept the
data lacks (returns, subscriptions, e-mail engagement, unless the catalogue has such a type)
is a problem: the plan becomes a clarify that lists what the data holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from discovery.catalogue import Catalogue
from discovery.offline.doc import Doc
from discovery.offline.lexicon import CONCEPT_LABELS, CONCEPT_WORDS
from discovery.query import AttributeCondition, Behaviour, Lookalike, OrderBy, TimeWindow


@dataclass
class Analytics:
    """What an aggregate question asks (discovery.offline.analytics finds it and builds the AnalyticsQuery)."""

    measure: str | None = None
    field: str | None = None
    group_by: str | None = None
    top: int | None = None
    order: str = "desc"
    events_of: str | None = None  # counting events: purchase | view | add_to_cart | any
    counts_customers: bool = False  # "how many customers ...", "number of users ..."
    group_attribute: str | None = None  # "per loyalty tier": a custom attribute (discovery.offline.attributes)


@dataclass
class Parsed:
    doc: Doc
    behaviours: list[Behaviour] = field(default_factory=list)
    verbless: list[bool] = field(default_factory=list)  # behaviour i came from a product without a verb
    loose_window: TimeWindow | None = None
    loose_count: int | None = None
    loose_price: tuple[float | None, float | None] | None = None
    crm: dict[str, Any] = field(default_factory=dict)
    intent: str | None = None
    limit: int | None = None
    order_by: OrderBy | None = None
    analytics: Analytics | None = None
    wants_json: bool = False
    explain_customer: int | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    has_subject: bool = False
    has_verb: bool = False
    concepts: set[str] = field(default_factory=set)
    spend_words: bool = False
    loose_repeat: bool = False  # the loose repeat was "repeat/returning": purchases
    repeat_types: list[str] = field(default_factory=list)
    explicit_sort: bool = False  # "sorted by spend": the order wins over a semantic ranking
    vague: list[str] = field(default_factory=list)  # evaluative words ("the right people"): not in the intent
    back_refs: set[int] = field(default_factory=set)  # ids of behaviours whose verb points back ("never bought one")
    today: date | None = None
    like: Lookalike | None = None  # a lookalike request (discovery.offline.lookalikes): its seeds
    taste: bool = False  # a taste the profiles carry (luxury): the semantic refinement reaches it (issue 16)
    attributes: list[AttributeCondition] = field(default_factory=list)  # custom attributes said

    def understood(self) -> bool:
        said = (self.behaviours, self.crm, self.intent, self.analytics, self.loose_window, self.loose_count)
        return any(said) or bool(self.attributes or self.loose_price or self.order_by or self.limit)


def event_types(concept: str, catalogue: Catalogue, p: Parsed) -> list[str]:
    if not catalogue.event_types:
        return [concept]
    words = CONCEPT_WORDS[concept]
    found = [t for t in catalogue.event_types if any(w in t.lower() for w in words)]
    if not found:
        label = CONCEPT_LABELS.get(concept, f"{concept.replace('_', ' ')} events")
        p.problems.append(f"The data has no {label} (event types: {', '.join(catalogue.event_types)}).")
    return found


def has_concept(concept: str, catalogue: Catalogue) -> bool:
    words = CONCEPT_WORDS[concept]
    return not catalogue.event_types or any(w in t.lower() for t in catalogue.event_types for w in words)
