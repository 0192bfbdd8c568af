"""Writes one batch on a background thread while the caller prepares the next.

The embed stage alternates a CPU-bound step (encode batch k+1) with store writes (batch k into
Qdrant, then its hashes into PostgreSQL); run on one thread they add up, here they overlap. At most
one batch is being written while the next is prepared, so memory stays flat. Batches are written in
the order they were handed over, each exactly once; a batch counts as done only when its write
returned. A failed write stops the run: the error is raised in the caller's thread at the next `drain()`
(or `check()`), and no later batch is written after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Clock:
    """Seconds per step, added up over a run (the steps of two threads in one table)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def time(self, step: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(step, time.perf_counter() - t0)

    def add(self, step: str, seconds: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + seconds

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.seconds.items()}


class BatchWriter(Generic[T]):
    """`write(batch)` on one background thread, one batch in flight: prepare batch k+1, `drain()` (batch k
    written), `submit(batch k+1)`. Use as a context manager: leaving it waits for the write in flight, so
    nothing writes after the caller moved on."""

    def __init__(self, write: Callable[[T], None], clock: Clock, name: str = "batch-writer") -> None:
        self._write = write
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._in_flight: tuple[T, Future[None]] | None = None

    def __enter__(self) -> BatchWriter[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    def check(self) -> None:
        """Raise the write's error now if the batch in flight already failed."""
        if self._in_flight is not None and self._in_flight[1].done():
            self._in_flight[1].result()

    def submit(self, batch: T) -> None:
        """Start writing `batch` (after `drain()`: one batch in flight at a time)."""
        if self._in_flight is not None:
            raise RuntimeError("drain() the batch in flight before submitting the next")
        self._in_flight = (batch, self._pool.submit(self._write, batch))

    def drain(self) -> list[T]:
        """Wait for the batch in flight; return it once written (none in flight: [])."""
        if self._in_flight is None:
            return []
        batch, future = self._in_flight
        with self._clock.time("wait for writes"):
            try:
                future.result()
            finally:
                self._in_flight = None
        return [batch]
