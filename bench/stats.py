"""Summary statistics shared by the benchmarks."""

from __future__ import annotations


def percentile(xs: list[float], p: float) -> float:
    """The nearest-rank `p` quantile (a fraction: 0.95 for p95) of `xs`, one of its values."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
