"""Scoring one Result against its gold answer. Pure functions.

"Fully right" per kind of gold (also printed in the report, bench.eval.report.DEFINITION):

- Number: an analytics answer whose single value equals the gold (counts exactly; averages,
  sums and maxima within 0.01, i.e. rounding to cents).
- Rows: an analytics table whose groups and values equal the gold table; for "top N" the N
  returned groups carry exactly the N largest gold values (ties at the boundary may be either).
- Ids: a segment whose every customer is in the gold set (precision 1), that returns the whole
  gold set up to the page size (recall 1 on the page: min(gold, 20) customers), and whose
  funnel gate size equals the gold set's size.
- Top: a segment of exactly N customers whose ranked values are the N best of the gold gate,
  in order (ties may be either).
- Property: a segment whose every customer meets the question's hard conditions (precision 1),
  that returns at least 10 customers (or 80 % of the property's holders inside the hard conditions,
  if fewer), and whose whole returned set
  (not only its top 10) has the stated property at the stated share. Reported beside it, not part
  of "right": the refinement check — the refined set (funnel after_semantic) is smaller than the gate
  where the intent is selective (some gold-allowed customers lack the property) and equal to it where
  every allowed customer has it.
- Clarify: a clarifying question or a clear "can't" (Result kind "clarify"), no customers.
- NoData: no customers, an empty gate / empty or zero table / a clarify, and an answer that says the
  window holds no data (not merely that no customer matches).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bench.eval.gold import Clarify, Gold, Ids, NoData, Number, Property, Rows, Top
from discovery.result import Result


@dataclass
class Score:
    right: bool
    kind_ok: bool
    why: str = ""  # what is wrong, for the report
    exact: bool | None = None  # Number / Rows
    precision: float | None = None  # Ids / Top / Property
    recall: float | None = None  # Ids / Top
    funnel_ok: bool | None = None  # Ids
    property_ok: bool | None = None  # Property
    refine_ok: bool | None = None  # Property: refined < gate where the intent is selective, = where it is not


def score(gold: Gold, result: Result, expected_kind: str) -> Score:
    kind_ok = result.kind == expected_kind or (isinstance(gold, NoData) and result.kind == "clarify")
    if isinstance(gold, Number):
        return _number(gold, result, kind_ok)
    if isinstance(gold, Rows):
        return _rows(gold, result, kind_ok)
    if isinstance(gold, Ids):
        return _ids(gold, result, kind_ok)
    if isinstance(gold, Top):
        return _top(gold, result, kind_ok)
    if isinstance(gold, Property):
        return _property(gold, result, kind_ok)
    if isinstance(gold, Clarify):
        ok = result.kind == "clarify" and not result.customers
        return Score(ok, kind_ok, "" if ok else f"answered as {result.kind} instead of asking back / saying it can't")
    if isinstance(gold, NoData):
        return _no_data(result, kind_ok)
    raise TypeError(gold)


def _why(right: bool, result: Result, kind_ok: bool, detail: str) -> str:
    """What is wrong (nothing when right), led by a wrong kind of answer."""
    return "" if right else ("" if kind_ok else f"answered as {result.kind}; ") + detail


def _close(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, abs_tol=tol + 1e-9)


def _value(v) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _number(gold: Number, result: Result, kind_ok: bool) -> Score:
    value = _value(result.rows[0][-1]) if result.kind == "analytics" and len(result.rows) == 1 else None
    if result.kind == "analytics" and not result.rows and gold.value in (None, 0):
        value = gold.value  # "no rows" is the right answer to a count of nothing
    exact = result.kind == "analytics" and len(result.rows) <= 1 and _close(value, gold.value, gold.tol)
    got = f"{len(result.rows)} rows" if len(result.rows) > 1 else value
    why = _why(exact, result, kind_ok, f"got {got}, gold {gold.value:g}")
    return Score(exact and kind_ok, kind_ok, why, exact=exact)


def _table(result: Result) -> dict[str, float | None]:
    return {str(r[0]).strip().lower(): _value(r[-1]) for r in result.rows} if result.kind == "analytics" else {}


def _rows(gold: Rows, result: Result, kind_ok: bool) -> Score:
    got = _table(result)
    want = {k.strip().lower(): v for k, v in gold.table.items()}
    if gold.top is None:
        exact = got.keys() == want.keys() and all(_close(got[k], want[k], gold.tol) for k in want)
    else:
        n = min(gold.top, len(want))
        best = sorted(want.values(), reverse=True)[:n]
        values = sorted((v for v in got.values() if v is not None), reverse=True)
        exact = (
            len(got) == n
            and all(k in want and _close(v, want[k], gold.tol) for k, v in got.items())
            and all(_close(a, b, gold.tol) for a, b in zip(values, best, strict=False))
        )
    shown = ", ".join(f"{k} {v:g}" for k, v in list(got.items())[:6]) if got else "no table"
    expect = ", ".join(f"{k} {v:g}" for k, v in sorted(want.items(), key=lambda kv: -kv[1])[: gold.top or 6])
    why = _why(exact, result, kind_ok, f"got {shown}; gold {expect}")
    return Score(exact and kind_ok, kind_ok, why, exact=exact)


def _returned(result: Result) -> list[int]:
    return [c.customer_id for c in result.customers] if result.kind == "segment" else []


def _ids(gold: Ids, result: Result, kind_ok: bool) -> Score:
    got = _returned(result)
    hit = len(set(got) & gold.ids)
    page = min(len(gold.ids), gold.limit)
    precision = hit / len(got) if got else (1.0 if not gold.ids else 0.0)
    recall = hit / page if page else 1.0
    funnel_ok = result.kind == "segment" and result.funnel.after_gate == len(gold.ids)
    right = kind_ok and precision == 1.0 and recall == 1.0 and funnel_ok
    detail = (
        f"returned {len(got)} (precision {precision:.2f}, recall {recall:.2f}); "
        f"gate {result.funnel.after_gate} vs gold {len(gold.ids)}"
    )
    return Score(
        right, kind_ok, _why(right, result, kind_ok, detail), precision=precision, recall=recall, funnel_ok=funnel_ok
    )


def _top(gold: Top, result: Result, kind_ok: bool) -> Score:
    got = _returned(result)
    n = min(gold.n, len(gold.key))
    sign = -1 if gold.descending else 1
    best = sorted(gold.key.values(), key=lambda v: sign * v)[:n]
    cutoff = best[-1] if best else None
    top_set = {i for i, v in gold.key.items() if cutoff is not None and sign * v <= sign * cutoff}
    values = [gold.key[i] for i in got if i in gold.key]
    in_order = values == sorted(values, key=lambda v: sign * v)
    right = kind_ok and len(got) == n and len(values) == n and sorted(values) == sorted(best) and in_order
    hit = len(set(got) & top_set)
    precision = hit / len(got) if got else (1.0 if not n else 0.0)
    recall = min(hit, n) / n if n else 1.0
    order = "" if in_order else ", out of order"
    detail = f"returned {len(got)} (precision {precision:.2f} against the gold top {n}{order}); values {values[:5]} vs gold {best[:5]}"
    return Score(right, kind_ok, _why(right, result, kind_ok, detail), precision=precision, recall=recall)


def _property(gold: Property, result: Result, kind_ok: bool) -> Score:
    got = _returned(result)
    precision = sum(i in gold.allowed for i in got) / len(got) if got else 0.0
    # the refined set may hold fewer than the page: at least the stated share of the property's holders
    # inside the hard conditions (up to `top`) must be returned
    need = min(gold.top, math.ceil(gold.share * len(gold.allowed & gold.good)))
    share = sum(i in gold.good for i in got) / len(got) if got else 0.0
    property_ok = len(got) >= need and share >= gold.share
    right = kind_ok and precision == 1.0 and property_ok
    f = result.funnel
    selective = not gold.allowed <= gold.good
    refined = f.after_semantic < f.after_gate if selective else f.after_semantic == f.after_gate
    refine_ok = result.kind == "segment" and refined
    detail = (
        f"returned {len(got)}, {precision:.0%} meet the hard conditions; "
        f"{share:.0%} of the {len(got)} returned {gold.label} (needs {gold.share:.0%}, at least {need} returned)"
    )
    cut = f"refined {f.after_semantic} of the gate's {f.after_gate} ({'selective' if selective else 'not selective'})"
    why = _why(right, result, kind_ok, detail) + ("" if refine_ok else ("; " if not right else "") + cut)
    return Score(right, kind_ok, why, precision=precision, property_ok=property_ok, refine_ok=refine_ok)


# The answer must say the window holds no data (not merely "no customers match"), e.g. "the data has no
# events after 2026-10-31", "there are no events between …: the data holds events from … to …".
NO_DATA_RE = re.compile(
    r"\b(?:no\s+(?:events?|data|activity)\b|(?:data|events?)\s+(?:has|have|holds?|contains?)\s+no\b"
    r"|data\s+(?:only\s+)?(?:starts|begins|ends|covers|holds\s+events\s+from)\b|(?:latest|earliest)\s+(?:data|events?)\b)",
    re.IGNORECASE,
)


def _no_data(result: Result, kind_ok: bool) -> Score:
    values = [_value(r[-1]) for r in result.rows]
    empty = (
        result.kind == "clarify"
        or (result.kind == "segment" and result.funnel.after_gate == 0)
        or (result.kind == "analytics" and all(v in (None, 0) for v in values))
    )
    says = NO_DATA_RE.search(result.answer) is not None
    right = kind_ok and empty and not result.customers and says
    what = "results" if not empty else "and does not say the window holds no data"
    return Score(right, kind_ok, _why(right, result, kind_ok, f"{result.kind} {what}: {result.answer[:140]}"))
