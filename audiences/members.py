"""A membership as stored: sorted customer ids → deltas → zlib (pure functions).

Sorted ids of a segment are dense, so their gaps are small numbers and compress to a few bytes a
member (100,000 members: ~100-200 KB raw int64 deltas → typically tens of KB). Decoding is
one decompress and one cumulative sum; the exact diff of two memberships is two set
differences on sorted arrays (milliseconds at 100,000).
"""

from __future__ import annotations

import zlib

import numpy as np

FORMAT = b"D1"  # int64 little-endian deltas of the sorted ids, zlib level 6


def as_sorted(ids) -> np.ndarray:
    """Unique ids, ascending, as int64."""
    return np.unique(np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64))


def encode(ids: np.ndarray) -> bytes:
    ids = as_sorted(ids)
    deltas = np.diff(ids, prepend=np.int64(0)).astype("<i8", copy=False)
    return FORMAT + zlib.compress(deltas.tobytes(), 6)


def decode(blob: bytes | memoryview | None) -> np.ndarray:
    if blob is None:
        return np.zeros(0, dtype=np.int64)
    raw = bytes(blob)
    if raw[:2] != FORMAT:
        raise ValueError(f"unknown membership format {raw[:2]!r}")
    deltas = np.frombuffer(zlib.decompress(raw[2:]), dtype="<i8")
    return np.cumsum(deltas, dtype=np.int64)


def diff(new: np.ndarray, old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(joined, left): in `new` but not `old`, in `old` but not `new`; both sorted."""
    return (
        np.setdiff1d(new, old, assume_unique=True),
        np.setdiff1d(old, new, assume_unique=True),
    )
