"""The "trust" tally behind bench/RESULTS.md's trust table: attacks tried / refused, faults injected /
survived, bad inputs tried / handled. `python -m bench trust` runs the trust tests and counts.

Two ways a test counts, both written to TRUST_TALLY_FILE (one `kind outcome` line each) only when set:
- a test case marked `@pytest.mark.trust("attack" | "fault" | "bad_input")` is one of that kind, held
  when it passes (tests/conftest.py's hook);
- a test that injects several in one case calls `TALLY.tried(kind)` and `TALLY.held(kind)` per item
  (e.g. a kill at each ingestion stage, each trick of the read-only role probe).
"""

from __future__ import annotations

import os

KINDS = ("attack", "fault", "bad_input")


class Tally:
    def _add(self, kind: str, outcome: str) -> None:
        assert kind in KINDS, kind
        path = os.environ.get("TRUST_TALLY_FILE")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"{kind} {outcome}\n")

    def tried(self, kind: str) -> None:
        self._add(kind, "tried")

    def held(self, kind: str) -> None:
        self._add(kind, "held")

    # the words the ingestion tests use
    def fault(self) -> None:
        self.tried("fault")

    def survived(self) -> None:
        self.held("fault")

    def bad_input(self) -> None:
        self.tried("bad_input")

    def handled(self) -> None:
        self.held("bad_input")


TALLY = Tally()
