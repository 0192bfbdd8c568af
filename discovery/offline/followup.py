"""Follow-ups: a message that refines the thread's previous plan instead of asking anew.

"show them as JSON", "why is customer 17 in?", and any message that starts like a refinement
(only/just/also/and/but/exclude/except/now/instead/of them...), mentions them/those/these, or
lacks its own subject-and-verb ("Germany", "older than 30", "top 5") refines the previous
query (discovery.offline.assemble says how). A message with its own subject (customers, users,
people, audience, ...) and a verb (find/show/list/how many/bought/...) is a new question.
After a "clarify", the reply is read together with the question that was clarified.
"""

from __future__ import annotations

from discovery.catalogue import Catalogue
from discovery.offline.assemble import apply
from discovery.offline.outcome import Plan, clarify, finish
from discovery.offline.parsed import Analytics, Parsed
from discovery.offline.phrases import FOLLOW_START_RE, PRONOUN_RE, SEGMENT_REQUEST_RE


def is_followup(p: Parsed, previous: Plan) -> bool:
    text = p.doc.text
    if previous.kind == "clarify":
        return not p.has_subject
    if previous.query is None:
        return False
    free = " ".join(t.text for t in p.doc.tokens if not t.tag)  # "show them as JSON" is consumed
    if FOLLOW_START_RE.search(text) or PRONOUN_RE.search(free) or p.explain_customer is not None:
        return True
    return not (p.has_subject and p.has_verb)


def follow_up(p: Parsed, previous: Plan, question: str, catalogue: Catalogue) -> Plan:
    assert previous.query is not None
    if p.explain_customer is not None:
        msg = f"Explain why customer {p.explain_customer} is in: {previous.query.describe()}"
        return Plan("explain", previous.query, None, msg, p.wants_json, p.explain_customer, p.notes, question)
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
    return finish(p, question, query, base, catalogue)
