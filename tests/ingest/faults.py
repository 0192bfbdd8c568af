"""The "trust" tally: faults injected / survived, bad inputs tried / handled.

Tests count as they go; with TRUST_TALLY_FILE set, each count is appended to that file as one
word (fault, survived, bad_input, handled) so a run of tests/ingest reproduces the table:
`sort FILE | uniq -c`.
"""

from __future__ import annotations

import os


class Tally:
    def _add(self, word: str) -> None:
        path = os.environ.get("TRUST_TALLY_FILE")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(word + "\n")

    def fault(self) -> None:
        self._add("fault")

    def survived(self) -> None:
        self._add("survived")

    def bad_input(self) -> None:
        self._add("bad_input")

    def handled(self) -> None:
        self._add("handled")


TALLY = Tally()
