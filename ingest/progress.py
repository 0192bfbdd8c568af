"""Progress: tqdm bars on a terminal, periodic plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("ingest")


class _LogBar:
    def __init__(self, desc: str, unit: str, every_s: float = 10.0):
        self.desc, self.unit, self.n, self.every = desc, unit, 0, every_s
        self.t0 = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            log.info("%s: %d %s (%.0f/s)", self.desc, self.n, self.unit, self.n / max(now - self.t0, 1e-9))

    def close(self) -> None:
        log.info("%s: %d %s in %.1fs", self.desc, self.n, self.unit, time.monotonic() - self.t0)


class Progress:
    def __init__(self, enabled: bool | None = None):
        self.tty = sys.stderr.isatty() if enabled is None else enabled

    def bar(self, desc: str, unit: str = "rows", total: int | None = None):
        if self.tty:
            from tqdm import tqdm

            return tqdm(desc=desc, unit=unit, total=total, unit_scale=True, leave=False, file=sys.stderr)
        return _LogBar(desc, unit)
