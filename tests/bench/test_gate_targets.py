"""The gate bench judges issue 17's targets within one run: every kind's p95 against 300 ms and against
twice the plainest gate's p50."""

from __future__ import annotations

from bench.gate_bench import GATE_QUERIES, PLAINEST, targets


def test_the_plainest_gate_is_the_facts_only_one():
    assert GATE_QUERIES[PLAINEST][0] == "DE, favourite blue, spent > 500"


def test_a_run_within_both_targets_says_so():
    per_q = [{"label": "plain", "ms": [100, 101, 99, 120, 98]}, {"label": "summed", "ms": [150, 190, 170, 160, 180]}]
    assert targets(per_q, 100) == (
        "targets in this run: p95 <= 300 ms: every kind; p95 <= 2x the plainest's p50 (100 ms): every kind"
    )


def test_the_kinds_that_miss_are_named_by_their_p95():
    per_q = [
        {"label": "plain", "ms": [100, 101, 99, 102, 98]},
        {"label": "summed", "ms": [190, 200, 195, 185, 230]},  # p95 230 > 2 x 100
        {"label": "slow", "ms": [150, 160, 170, 180, 310]},  # p95 310 > 300 and > 200
        {"label": "one slow median", "ms": [250, 250, 150, 150, 150]},  # p95 250: over 2x only
    ]
    verdict = targets(per_q, 100)
    assert "p95 <= 300 ms: missed by slow;" in verdict
    assert verdict.endswith("(100 ms): missed by summed, slow, one slow median")
