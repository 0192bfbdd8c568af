"""Bounds on what the offline planner reads and builds, so that no message can blow it up.

A message longer than MAX_QUESTION_CHARS is not read (a 100 KB "socks socks …" once built
16,667 behaviours and a 4 MB statement); a query with more than MAX_BEHAVIOURS conditions on
events, or more than MAX_VALUES listed values (products, colors, countries), is not built. Each
answer is a clarify that says what is too big and what to ask instead. Windows are bounded by
TimeWindow itself (discovery.query.MAX_WINDOW_YEARS; discovery.offline.dates says so).
"""

from __future__ import annotations

from discovery.query import AudienceQuery

MAX_QUESTION_CHARS = 2_000
MAX_BEHAVIOURS = 20
MAX_VALUES = 100


def question_too_long(question: str) -> str | None:
    if len(question) <= MAX_QUESTION_CHARS:
        return None
    return (
        f"Your message is {len(question):,} characters long; the offline planner reads at most "
        f"{MAX_QUESTION_CHARS:,}. Ask in a sentence or two."
    )


def query_too_big(query: AudienceQuery) -> str | None:
    behaviours = len(query.behaviours)
    if behaviours > MAX_BEHAVIOURS:
        return (
            f"The question asks for {behaviours} conditions on events; one query holds at most {MAX_BEHAVIOURS}. "
            "Ask for fewer products at once, or split the question."
        )
    crm = query.crm
    values = sum(len(b.products) + len(b.colors) for b in query.behaviours)
    values += len(crm.countries) + len(crm.exclude_countries) + len(crm.favorite_colors)
    if values > MAX_VALUES:
        return (
            f"The question lists {values} products, colors and countries as conditions; one query holds at most "
            f"{MAX_VALUES}. Ask for fewer at once, or split the question."
        )
    return None
