"""Peak resident memory of this process and of the PostgreSQL server processes, sampled."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import psutil


class PeakMemory:
    """Samples every `interval` s: this process's RSS, and over the postgres processes the sum of their
    USS (pages private to one process) and of their PSS (shared pages split between the processes that
    map them, so shared_buffers count once: the server's real footprint)."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.python_peak = 0
        self.postgres_peak = 0
        self.postgres_pss_peak = 0
        self.postgres_pss_peak_at = 0.0  # seconds after entering
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        me = psutil.Process(os.getpid())
        start = time.perf_counter()
        while not self._stop.is_set():
            self.python_peak = max(self.python_peak, me.memory_info().rss)
            uss = pss = 0
            for p in psutil.process_iter(["name"]):
                if p.info["name"] == "postgres":
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                        full = p.memory_full_info()
                        uss, pss = uss + full.uss, pss + full.pss
            self.postgres_peak = max(self.postgres_peak, uss)
            if pss > self.postgres_pss_peak:
                self.postgres_pss_peak, self.postgres_pss_peak_at = pss, time.perf_counter() - start
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        mb = 1024 * 1024
        return (
            f"peak RSS python {self.python_peak / mb:.0f} MB, postgres (sum of USS) {self.postgres_peak / mb:.0f} MB, "
            f"(sum of PSS) {self.postgres_pss_peak / mb:.0f} MB at {self.postgres_pss_peak_at:.0f} s"
        )
