"""Peak resident memory of this process and of the PostgreSQL server processes, sampled."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import psutil


class PeakMemory:
    """Samples RSS every `interval` s: this process, and the sum over postgres processes."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.python_peak = 0
        self.postgres_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        me = psutil.Process(os.getpid())
        while not self._stop.is_set():
            self.python_peak = max(self.python_peak, me.memory_info().rss)
            total = 0
            for p in psutil.process_iter(["name"]):
                if p.info["name"] == "postgres":
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                        total += p.memory_full_info().uss
            self.postgres_peak = max(self.postgres_peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        mb = 1024 * 1024
        return f"peak RSS python {self.python_peak / mb:.0f} MB, postgres (sum of USS) {self.postgres_peak / mb:.0f} MB"
