"""Semantic refinement: where a subjective intent stops matching. Pure functions: scores in →
cutoff and a one-line explanation out.

The method (chosen by `python -m bench refine`, see bench/RESULTS.md): the **natural break of the
population's similarity scores** — the threshold that splits every customer's similarity to the
intent into two classes with the largest between-class variance (Otsu's criterion on the sorted
scores). The break is a property of the intent and the profiles, not of the gate, so:
- a customer matches an intent or not whatever else the question asks (a gate only removes
  customers; the same customer is never in for one gate and out for another);
- a gate whose customers all score above the break is kept whole (a non-selective intent);
- a gate of any size is cut the same way: the break needs the population's score distribution
  (all vectors in memory, or a sample of them), never the whole gate's scores.
Measured alternatives, on generated data where the intent's tag is held by a known subset: the
break inside the gate itself (splits a gate whose members all hold the tag), a two-component
Gaussian mixture (the score classes are not Gaussian: it keeps too few) and the largest gap in
the sorted scores (a single gap is noise at a few thousand customers).

Widening and narrowing move to the next break down or up: "wider" is the break of the scores
below the main break (the weaker matches join), "narrower" the break of the scores above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from discovery.query import RefineMode

MIN_SCORES = 8  # fewer scores than this hold no break: keep everything

_HOW = {
    "auto": "the natural break in the scores",
    "wider": "the next break down (weaker matches included)",
    "narrower": "the next break up (only the strongest matches)",
}


@dataclass(frozen=True)
class Cut:
    threshold: float | None  # keep similarity ≥ threshold; None: nothing is cut
    mode: RefineMode
    kept: int
    of: int
    explanation: str


def natural_break(scores: np.ndarray) -> float | None:
    """The threshold between the two classes of `scores` with the largest between-class variance
    (Otsu), halfway between the neighbouring scores; None when there are too few or all equal."""
    x = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(x)
    if n < MIN_SCORES or x[0] == x[-1]:
        return None
    total = np.cumsum(x)
    k = np.arange(1, n)
    low_mean = total[:-1] / k
    high_mean = (total[-1] - total[:-1]) / (n - k)
    between = (k / n) * (1 - k / n) * (high_mean - low_mean) ** 2
    between[x[1:] == x[:-1]] = -1.0  # a threshold never splits equal scores
    i = int(np.argmax(between))
    return float((x[i] + x[i + 1]) / 2)


def threshold_for(population: np.ndarray, mode: RefineMode) -> float | None:
    """The similarity a customer needs to match the intent, from the population's scores."""
    if mode == "off":
        return None
    population = np.asarray(population, dtype=np.float64)
    t = natural_break(population)
    if t is None or mode == "auto":
        return t
    side = population[population < t] if mode == "wider" else population[population >= t]
    inner = natural_break(side)
    return t if inner is None else inner


def explain(
    kept: int,
    of: int,
    intent: str,
    threshold: float | None,
    mode: RefineMode,
    auto_kept: int | None = None,
    about: bool = False,
) -> str:
    """One line for the card: how the cut was made (and, widened or narrowed, what changed); `about`:
    `kept` is an estimate (a gate too large to score whole)."""
    if mode == "off":
        return f"no cut: all {of:,} gated customers, ranked by similarity to “{intent}” (refinement off)"
    if threshold is None:
        return f"no cut: too few scores for a break; all {of:,} ranked by similarity to “{intent}”"
    how = f"similarity ≥ {threshold:.2f}, {_HOW[mode]}"
    if mode != "auto" and auto_kept is not None:
        how += f"; the natural break kept {auto_kept:,}"
    if about:
        return f"kept about {kept:,} of {of:,} whose profiles read as “{intent}” (estimated from a sample): {how}"
    if kept == of:
        return f"kept all {of:,}: every gated customer's profile reads as “{intent}” ({how})"
    return f"kept the {kept:,} of {of:,} whose profiles read as “{intent}”: {how}"


def cut(
    gate_scores: dict[int, float], population: np.ndarray, intent: str, mode: RefineMode = "auto"
) -> tuple[list[int], Cut]:
    """The gate's customers that match the intent, best first (ties by id), and how they were cut."""
    threshold = threshold_for(population, mode)
    ranked = sorted(gate_scores, key=lambda k: (-gate_scores[k], k))
    kept = ranked if threshold is None else [i for i in ranked if gate_scores[i] >= threshold]
    auto_kept = None
    if mode in ("wider", "narrower") and (auto := threshold_for(population, "auto")) is not None:
        auto_kept = sum(s >= auto for s in gate_scores.values())
    line = explain(len(kept), len(ranked), intent, threshold, mode, auto_kept)
    return kept, Cut(threshold, mode, len(kept), len(ranked), line)
