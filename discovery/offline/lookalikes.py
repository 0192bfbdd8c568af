"""Lookalike requests: "find 200 more like these", "more like these in Germany", "500 lookalikes who
never bought a jacket", "customers like the Luxury PL audience".

A request found here becomes a lookalike plan of its own, not a refinement of the previous query:
its seeds are the thread's last segment (discovery.service fills in their ids) or a saved audience
named in the message (resolved by the caller), and its gate is only what this message says (a
country, a purchase never made, ...). The number before "more" / "lookalikes" is the limit. Follow-ups
on a lookalike plan ("only Germany", "top 5") refine it like any other query (discovery.offline.assemble
keeps its seeds). "Customers like customer 42" stays a clarify (discovery.offline.reading).
"""

from __future__ import annotations

from discovery.catalogue import Catalogue
from discovery.offline.assemble import apply
from discovery.offline.doc import Doc
from discovery.offline.numbers import to_number
from discovery.offline.outcome import Plan, clarify, finish
from discovery.offline.parsed import Parsed
from discovery.offline.phrases import AUDIENCE_LIKE_RES, MORE_LIKE_RES
from discovery.query import AudienceQuery, Lookalike


def find_like(doc: Doc) -> tuple[Lookalike, float | None] | None:
    """(the seeds the message names, the number it asks for) — or None when it asks for no lookalikes."""
    patterns = [(p, True) for p in AUDIENCE_LIKE_RES] + [(p, False) for p in MORE_LIKE_RES]
    for pattern, named in patterns:
        for m in doc.find(pattern):
            doc.consume(m.start(), m.end(), "lookalike")
            n = to_number(m.group("n")) if m.group("n") else None
            if named:
                name = " ".join(doc.raw[m.start("name") : m.end("name")].split())
                return Lookalike(seed_audience=name), n
            return Lookalike(), n
    return None


def plan_lookalike(p: Parsed, question: str, catalogue: Catalogue) -> Plan:
    """The lookalike plan: seeds from p.like, the gate from the rest of the message (no intent)."""
    assert p.like is not None
    if p.problems:
        return clarify(p, question, catalogue, " ".join(p.problems))
    p.analytics = None
    seeds = f"the audience “{p.like.seed_audience}”" if p.like.seed_audience else "the last segment"
    p.notes.append(f"lookalikes of {seeds}")
    query = apply(AudienceQuery(), p, followup=False).model_copy(update={"like": p.like, "intent": None})
    return finish(p, question, query, None, catalogue)
