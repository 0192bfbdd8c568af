"""The offline planner's entry: a marketer's question -> the typed query the agent would build.

Used when no LLM is configured or the LLM fails. Pure: no database, no network; the vocabulary
comes from the Catalogue passed in (nothing about products, colors or countries is hard-coded).
Where a rule lives: word lists in .lexicon, regexes in .patterns (quantities, time) and .phrases
(verbs and other words); the document and its tokens in .doc; numbers, comparisons, ages
and limits in .numbers; time windows in .dates; products, colors and countries in .vocabulary;
verbs, negation, luxury, orderings, predictions in .mentions; aggregates in .analytics; the
order of reading and the intent in .reading; behaviours from mentions in .walk; the query
from a reading in .assemble; follow-ups in .followup; the Plan and clarify messages in .outcome;
how much a message or a query may hold in .limits.
"""

from __future__ import annotations

from datetime import date

from discovery.catalogue import Catalogue
from discovery.offline.assemble import apply
from discovery.offline.doc import Doc
from discovery.offline.followup import follow_up, is_followup
from discovery.offline.lexicon import ALL_WORDS
from discovery.offline.limits import question_too_long
from discovery.offline.lookalikes import plan_lookalike
from discovery.offline.outcome import Plan, clarify, finish
from discovery.offline.parsed import Parsed
from discovery.offline.reading import parse
from discovery.query import AudienceQuery


def plan(question: str, catalogue: Catalogue, previous: Plan | None = None, *, today: date | None = None) -> Plan:
    """Plan one message of a thread; `previous` is the last Plan of the thread (or None)."""
    if (too_long := question_too_long(question)) is not None:  # not kept: a reply is read on its own
        return clarify(Parsed(Doc("")), "", catalogue, too_long)
    return _plan(question, catalogue, previous, today or date.today())


def _plan(question: str, catalogue: Catalogue, previous: Plan | None, today: date) -> Plan:
    p = parse(question, catalogue, today)
    if p.like is not None:  # "find 200 more like these": a plan of its own, whatever came before
        return plan_lookalike(p, question, catalogue)
    if previous is not None and is_followup(p, previous):
        if previous.kind == "clarify":  # both parts are within the length limit
            return _plan(f"{previous.question} {question}".strip(), catalogue, None, today)
        return follow_up(p, previous, question, catalogue)
    return _fresh(p, question, catalogue)


def _fresh(p: Parsed, question: str, catalogue: Catalogue) -> Plan:
    if p.explain_customer is not None:
        return clarify(p, question, catalogue, "Ask for an audience first, then ask why a customer is in it.")
    if p.problems:
        return clarify(p, question, catalogue, " ".join(p.problems))
    substantive = p.understood() and (p.has_subject or p.behaviours or p.crm or p.analytics or p.loose_count or p.taste)
    substantive = substantive or bool(p.attributes)
    words = {t.text for t in p.doc.tokens}
    asks_for_all = p.has_verb or bool(words & ALL_WORDS)  # "list customers", "all customers"
    if not substantive and p.vague:  # "the right people": judged, not described
        said = " ".join(p.vague)
        return clarify(
            p,
            question,
            catalogue,
            f"I couldn't tell which customers you mean: “{said}” doesn't say "
            "what they bought, viewed, where they live, their age, spend or interests.",
        )
    if not substantive and (not p.has_subject or "help" in words or not asks_for_all):
        return clarify(p, question, catalogue, "I couldn't tell which customers you mean.")
    query = apply(AudienceQuery(), p, followup=False)
    return finish(p, question, query, None, catalogue)
