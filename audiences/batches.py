"""The request batches of one webhook delivery, streamed: one read of the membership, batch by batch.

The members who may leave (screen.screened) are read BATCH ids at a time and cut into requests of at
most `size` members: all of them in `full` mode, in `delta` mode those not delivered last time
(`added`); then, in `delta` mode, the ids delivered last time that may no longer leave (`removed`).
Only the ids (int64) of the whole membership are kept, never its contacts or bodies.

A batch id is content-addressed: the audience, the destination, the last successful delivery it
builds on, the mode, the kind and the member ids of the batch. The same batch sent again (a retry, or
the next delivery after a failed one) has the same id; a batch with other members has another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from sqlalchemy.engine import Engine

from audiences.formats import json_member
from audiences.screen import Screening, removed_members, screened

T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    audience_id: int
    destination: str
    base: int | None  # the id of the last successful delivery it builds on (None: the first)
    mode: str  # full | delta
    size: int  # members per request


def batch_id(plan: Plan, kind: str, ids: list[int], index: int) -> str:
    digest = hashlib.sha256(f"{plan.audience_id}|{plan.destination}|{plan.base or 0}|{plan.mode}|{kind}|".encode())
    digest.update(np.asarray(ids, dtype="<i8").tobytes())
    return f"{digest.hexdigest()[:24]}-{index:05d}"


def batches(
    engine: Engine,
    plan: Plan,
    members: np.ndarray,
    previous: np.ndarray | None,
    screening: Screening,
    delivered: list[int],
    *,
    needs_consent: bool = True,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(kind, members) per request, kind `added` or `removed`; `delivered` receives the ids that may
    leave (the state this delivery leaves once every batch is accepted)."""
    buf: list[dict[str, Any]] = []
    sent_any = False
    only_new = plan.mode == "delta" and previous is not None
    before = previous if previous is not None else np.zeros(0, dtype=np.int64)
    for contacts in screened(engine, members, screening, needs_consent=needs_consent):
        ids = np.fromiter((c.customer_id for c in contacts), dtype=np.int64, count=len(contacts))
        delivered.extend(ids.tolist())
        keep = ~np.isin(ids, before, assume_unique=True) if only_new else np.ones(len(ids), dtype=bool)
        buf.extend(json_member(c) for c, k in zip(contacts, keep, strict=True) if k)
        while len(buf) >= plan.size:
            yield "added", buf[: plan.size]
            buf = buf[plan.size :]
            sent_any = True
    if buf or (plan.mode == "full" and not sent_any):  # an empty full delivery still says so
        yield "added", buf
    if only_new:
        left = np.setdiff1d(before, np.asarray(delivered, dtype=np.int64))
        for i in range(0, len(left), plan.size):
            yield "removed", removed_members(engine, left[i : i + plan.size].tolist())


def with_last(items: Iterable[T]) -> Iterator[tuple[T, bool]]:
    """Each item and whether it is the last (one item of look-ahead)."""
    it = iter(items)
    try:
        current = next(it)
    except StopIteration:
        return
    for following in it:
        yield current, False
        current = following
    yield current, True
