"""Offline planner: widening and narrowing the semantic cut in a thread (AudienceQuery.refine)."""

from __future__ import annotations

import pytest

from discovery.query import CRMFilter
from tests.discovery.test_planner import SYNTH, ask, segment


@pytest.mark.parametrize(
    ("reply", "mode"),
    [
        ("include weaker matches", "wider"),
        ("also show the weaker matches", "wider"),
        ("widen the cut", "wider"),
        ("be less strict", "wider"),
        ("only the strongest matches", "narrower"),
        ("just the closest matches", "narrower"),
        ("tighten the threshold", "narrower"),
        ("no cut, the whole gate", "off"),
        ("back to the natural break", "auto"),
    ],
)
def test_widen_or_narrow_the_previous_cut(reply, mode):
    first = ask("Customers in Germany into hiking and camping", SYNTH)
    assert first.query is not None and first.query.intent and first.query.refine == "auto"
    q = segment(reply, SYNTH, previous=first)
    assert q == first.query.model_copy(update={"refine": mode})


def test_the_rest_of_the_message_still_refines():
    first = ask("Customers in Germany into hiking and camping", SYNTH)
    q = segment("only the strongest matches, and only Austria", SYNTH, previous=first)
    assert q.refine == "narrower" and q.crm == CRMFilter(countries=["AT"]) and q.intent == first.query.intent


def test_a_segment_without_an_intent_has_no_cut_to_move():
    first = ask("Customers in Germany", SYNTH)
    p = ask("include weaker matches", SYNTH, previous=first)
    assert p.kind == "clarify" and "no described taste or lifestyle" in p.message


def test_the_best_customers_is_still_an_order_not_a_cut():
    first = ask("Customers in Germany into hiking and camping", SYNTH)
    q = segment("only the best customers", SYNTH, previous=first)
    assert q.refine == "auto"
