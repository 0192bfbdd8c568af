"""The scorer on constructed Results: right answers score right, wrong ones wrong (and say why);
the report section is replaced on rerun, never duplicated."""

from __future__ import annotations

from datetime import datetime

import pytest

from bench.eval.cases import CASES, CATEGORIES
from bench.eval.gold import Clarify, Ids, NoData, Number, Property, Rows, Top
from bench.eval.report import BEGIN, END, HEADING, render, replace_section
from bench.eval.runner import EvalRun, Outcome, select
from bench.eval.score import Score, score
from discovery.result import Customer, Funnel, Result, Usage


def customer(cid: int) -> Customer:
    return Customer(cid, "F", "L", f"u{cid}@x.com", "DE", 30, 100.0, "red", [], False, None, "")


def segment(ids: list[int], gate: int | None = None) -> Result:
    funnel = Funnel(population=100, after_gate=len(ids) if gate is None else gate, returned=len(ids))
    return Result("segment", "q", "answer", "offline", funnel=funnel, customers=[customer(i) for i in ids])


def table(rows: list[list], answer: str = "answer") -> Result:
    return Result("analytics", "q", answer, "offline", columns=["k", "v"][-len(rows[0]) :] if rows else [], rows=rows)


def clarify(answer: str = "Which customers do you mean?") -> Result:
    return Result("clarify", "q", answer, "offline")


# ---------------------------------------------------------------------------- segments


def test_the_right_segment_scores_right():
    s = score(Ids(frozenset({1, 2, 3})), segment([3, 1, 2]), "segment")
    assert s.right and (s.precision, s.recall, s.funnel_ok) == (1.0, 1.0, True)


def test_a_page_of_a_larger_gate_is_right_when_the_gate_size_matches():
    gold = Ids(frozenset(range(1, 51)))
    assert score(gold, segment(list(range(1, 21)), gate=50), "segment").right
    assert not score(gold, segment(list(range(1, 21)), gate=20), "segment").right  # the gate was too small


@pytest.mark.parametrize(
    ("ids", "gate", "precision", "recall"),
    [
        ([1, 2, 3, 4], 4, 0.75, 1.0),  # a customer too many
        ([1, 2], 2, 1.0, 2 / 3),  # one missing
        ([7, 8, 9], 3, 0.0, 0.0),  # the wrong customers
        ([], 0, 0.0, 0.0),  # nobody
    ],
)
def test_a_wrong_segment_scores_wrong(ids, gate, precision, recall):
    s = score(Ids(frozenset({1, 2, 3})), segment(ids, gate), "segment")
    assert not s.right
    assert (s.precision, s.recall) == pytest.approx((precision, recall))
    assert "precision" in s.why


def test_an_empty_gold_set_is_right_only_when_nobody_is_returned():
    assert score(Ids(frozenset()), segment([]), "segment").right
    assert not score(Ids(frozenset()), segment([5]), "segment").right


def test_a_segment_answer_to_a_count_is_the_wrong_kind():
    s = score(Number(3), segment([1, 2, 3]), "analytics")
    assert not s.right and not s.kind_ok and "answered as segment" in s.why


# ---------------------------------------------------------------------------- top N


def test_top_n_must_be_the_n_best_in_order_ties_either_way():
    gold = Top({1: 90.0, 2: 80.0, 3: 80.0, 4: 10.0}, n=2)
    assert score(gold, segment([1, 2]), "segment").right
    assert score(gold, segment([1, 3]), "segment").right  # 2 and 3 tie
    assert not score(gold, segment([2, 1]), "segment").right  # out of order
    assert not score(gold, segment([1, 4]), "segment").right
    assert not score(gold, segment([1, 2, 3]), "segment").right  # not N
    ascending = Top({1: 90.0, 2: 80.0, 4: 10.0}, n=1, descending=False)
    assert score(ascending, segment([4]), "segment").right


# ---------------------------------------------------------------------------- numbers and tables


def test_numbers_counts_exactly_averages_within_rounding():
    assert score(Number(42), table([[42]]), "analytics").right
    assert not score(Number(42), table([[41]]), "analytics").right
    assert score(Number(797.8472, tol=0.01), table([[797.85]]), "analytics").right
    assert not score(Number(797.8472, tol=0.01), table([[797.9]]), "analytics").right
    assert not score(Number(42), table([["DE", 42], ["PL", 1]]), "analytics").right  # a table is not a number


def test_tables_need_the_same_groups_and_values():
    gold = Rows({"DE": 5, "PL": 3, "FR": 1})
    assert score(gold, table([["DE", 5], ["PL", 3], ["FR", 1]]), "analytics").right
    assert score(gold, table([["de", 5], ["fr", 1], ["pl", 3]]), "analytics").right  # order and case do not matter
    assert not score(gold, table([["DE", 5], ["PL", 3]]), "analytics").right  # a group missing
    assert not score(gold, table([["DE", 5], ["PL", 4], ["FR", 1]]), "analytics").right


def test_top_n_groups_are_the_largest_ties_either_way():
    gold = Rows({"a": 9, "b": 5, "c": 5, "d": 1}, top=2)
    assert score(gold, table([["a", 9], ["b", 5]]), "analytics").right
    assert score(gold, table([["a", 9], ["c", 5]]), "analytics").right
    assert not score(gold, table([["a", 9], ["d", 1]]), "analytics").right
    assert not score(gold, table([["a", 9], ["b", 5], ["c", 5]]), "analytics").right


# ---------------------------------------------------------------------------- semantic intents


def test_a_semantic_property_needs_the_hard_conditions_and_the_share():
    gold = Property(frozenset(range(1, 31)), frozenset(range(1, 9)), "luxury", share=0.8, top=10)
    assert score(gold, segment(list(range(1, 11)), gate=30), "segment").right  # 8 of the top 10
    wrong = score(gold, segment([1, 2, 3, 4, 5, 6, 7, 20, 21, 22], gate=30), "segment")
    assert not wrong.right and wrong.property_ok is False  # 7 of 10
    outside = score(gold, segment([*range(1, 10), 99], gate=30), "segment")
    assert not outside.right and outside.precision == pytest.approx(0.9)  # 99 breaks a hard condition
    assert not score(gold, segment([1, 2, 3]), "segment").right  # 3 shown where 10 could be


# ---------------------------------------------------------------------------- clarify and no data


def test_vague_questions_need_a_question_back():
    assert score(Clarify(), clarify(), "clarify").right
    assert not score(Clarify(), segment([1, 2]), "clarify").right


@pytest.mark.parametrize(
    ("result", "right"),
    [
        (clarify("There are no events in January: the data holds events from 2026-05-05 to 2026-10-31."), True),
        (segment([], gate=0), False),  # "answer" says nothing about the data
        (Result("segment", "q", "No customers: the data has no events after 2026-10-31.", "offline"), True),
        (table([[0]], answer="events: 0"), False),  # zero, as if nothing had been sold
        (table([[0]], answer="0 — there are no events in Q1 2026"), True),
        (Result("segment", "q", "the data has no events then", "offline", customers=[customer(1)]), False),
    ],
)
def test_an_empty_window_must_return_nobody_and_say_the_window_holds_no_data(result, right):
    assert score(NoData(), result, result.kind if result.kind != "clarify" else "segment").right is right


# ---------------------------------------------------------------------------- selection and report


def test_a_limited_run_takes_the_categories_in_turn():
    chosen = select(CASES, len(CATEGORIES))
    assert [c.category for c in chosen] == list(CATEGORIES)
    assert select(CASES, None) == CASES and len(CASES) >= 60


def _run(agent: bool) -> EvalRun:
    cases = select(CASES, 12)
    outcomes = {"offline": [Outcome(c, "offline", Score(i % 4 != 0, True, "why not"), "segment", "offline", "a", 0.1)
                            for i, c in enumerate(cases)]}  # fmt: skip
    if agent:
        outcomes["agent"] = [Outcome(c, "agent", Score(True, True), "segment", "agent", "a", 2.0,
                                     Usage(llm_prompt_tokens=900, llm_completion_tokens=100, llm_calls=2, cost_usd=0.0004))
                             for c in cases]  # fmt: skip
    return EvalRun(
        "-m bench eval", 2000, 20000, 42, datetime(2026, 11, 1), outcomes, "fake/model" if agent else "not run (no key)"
    )


def test_the_report_shows_categories_figures_and_failures():
    text = render(_run(agent=False))
    for category in CATEGORIES:
        assert f"| {category} |" in text
    assert "**75.0%** fully right (9/12; target 90%: missed)" in text
    assert "not run (no key)" in text and "Failing questions (offline planner)" in text
    assert text.count("— why not") == 3
    both = render(_run(agent=True))
    assert "**100.0%** fully right (12/12; target 95%: met)" in both
    assert "1,000" in both and "$0.00040" in both  # tokens and cost per question


def test_the_section_is_replaced_on_rerun_not_duplicated():
    text = "# Benchmark results\n\n## Ingestion\n\nfigures\n\n## Not yet measured\n\n- things\n"
    once = replace_section(text, "first run")
    assert once.index(HEADING) < once.index("## Not yet measured") and "first run" in once
    analysed = once.replace(END, END + "\n\nHand-written analysis.")
    twice = replace_section(analysed, "second run")
    assert twice.count(HEADING) == 1 and twice.count(BEGIN) == 1
    assert "second run" in twice and "first run" not in twice and "Hand-written analysis." in twice
    assert twice.endswith("## Not yet measured\n\n- things\n") and "## Ingestion\n\nfigures" in twice
