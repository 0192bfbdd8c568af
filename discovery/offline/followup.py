"""Follow-ups: a message that refines the thread's previous plan instead of asking anew.

"show them as JSON", "why is customer 17 in?", and any message that starts like a refinement
(only/just/also/and/but/exclude/except/now/instead/of them...), mentions them/those/these, or
lacks its own subject-and-verb ("Germany", "older than 30", "top 5") refines the previous
query (discovery.offline.assemble says how). A message with its own subject (customers, users,
people, audience, ...) and a verb (find/show/list/how many/bought/...) is a new question.
After a "clarify", the reply is read together with the question that was clarified.
"include weaker matches" / "only the strongest matches" (and "no cut", "the natural break") move
the previous segment's semantic cut (AudienceQuery.refine); the rest of the message refines as usual.
"""

from __future__ import annotations

from discovery.catalogue import Catalogue
from discovery.offline.assemble import apply
from discovery.offline.outcome import Plan, clarify, finish
from discovery.offline.parsed import Analytics, Parsed
from discovery.offline.phrases import (
    FOLLOW_START_RE,
    LUX_TAG_WORD,
    PRONOUN_RE,
    REFINE_AUTO_RE,
    REFINE_NARROWER_RE,
    REFINE_OFF_RE,
    REFINE_WIDER_RE,
    SEGMENT_REQUEST_RE,
)
from discovery.offline.reading import parse
from discovery.query import RefineMode

_REFINE = (
    ("wider", REFINE_WIDER_RE),
    ("narrower", REFINE_NARROWER_RE),
    ("off", REFINE_OFF_RE),
    ("auto", REFINE_AUTO_RE),
)
_SAID = {
    "wider": "widened the semantic cut: weaker matches included",
    "narrower": "narrowed the semantic cut: only the strongest matches",
    "off": "no semantic cut: the whole gate, ranked",
    "auto": "the semantic cut at the natural break",
}


def refine_request(text: str) -> tuple[RefineMode, int, int] | None:
    """A request to move the semantic cut, and where it is said in `text`."""
    for mode, pattern in _REFINE:
        if m := pattern.search(text):
            return mode, m.start(), m.end()  # type: ignore[return-value]
    return None


def is_followup(p: Parsed, previous: Plan) -> bool:
    text = p.doc.text
    if previous.kind == "clarify":
        return not p.has_subject
    if previous.query is None:
        return False
    if refine_request(text):
        return True
    free = " ".join(t.text for t in p.doc.tokens if not t.tag)  # "show them as JSON" is consumed
    if FOLLOW_START_RE.search(text) or PRONOUN_RE.search(free) or p.explain_customer is not None:
        return True
    return not (p.has_subject and p.has_verb)


def follow_up(p: Parsed, previous: Plan, question: str, catalogue: Catalogue) -> Plan:
    assert previous.query is not None
    if p.explain_customer is not None:
        msg = f"Explain why customer {p.explain_customer} is in: {previous.query.describe()}"
        return Plan("explain", previous.query, None, msg, p.wants_json, p.explain_customer, p.notes, question)
    if said := refine_request(p.doc.text):
        return _move_cut(p, previous, question, catalogue, *said)
    if p.problems:
        return clarify(p, question, catalogue, " ".join(p.problems))
    p.notes.append("follow-up: refined the previous query")
    query = apply(previous.query, p, followup=True)
    base = None
    free = " ".join(t.text for t in p.doc.tokens if not t.tag)
    if previous.kind == "analytics" and previous.analytics and not SEGMENT_REQUEST_RE.search(free):
        a = previous.analytics
        events = "any" if a.field == "events" and a.measure == "count" else None  # keeps its first behaviour
        base = Analytics(a.measure, a.field, a.group_by, a.top, a.order, events)
    if (base or p.analytics or not query.intent) and _luxury_taste(previous.query.intent):
        # the luxury taste was matched on the profiles; SQL alone (a sort, analytics) needs the tag itself
        query = query.model_copy(update={"crm": query.crm.model_copy(update={"likes_luxury": True})})
    return finish(p, question, query, base, catalogue)


def _luxury_taste(intent: str | None) -> bool:
    """The previous intent carried the luxury taste (the planner writes it as the tag's word)."""
    return bool(intent) and LUX_TAG_WORD in (intent or "").split()


def _move_cut(p: Parsed, previous: Plan, question: str, catalogue: Catalogue, mode: RefineMode, a: int, b: int) -> Plan:
    """The previous segment with its semantic cut moved; the rest of the message read as a follow-up."""
    assert previous.query is not None
    if not previous.query.intent:
        why = "The last segment has no described taste or lifestyle to match more or less strictly"
        return clarify(p, question, catalogue, why + "; describe one (e.g. “into luxury”) or add a condition.")
    base = previous.query.model_copy(update={"refine": mode})
    text = p.doc.text
    rest = parse(f"{text[:a]} {text[b:]}".strip(" ,.;!?"), catalogue, p.today) if p.today else None
    if rest is not None and rest.doc.text and (rest.behaviours or rest.crm or rest.limit):
        rest.notes.insert(0, _SAID[mode])
        query = apply(base, rest, followup=True).model_copy(update={"refine": mode})
        return finish(rest, question, query, None, catalogue)
    p.notes.append(_SAID[mode])
    return Plan("segment", base, None, f"Segment: {base.describe()}", p.wants_json, None, p.notes, question)
