"""Errors of the ingestion pipeline.

    IngestError               base; the message says what is wrong and what to do
    ├── InputFileError        a file is missing, unreadable, not UTF-8, or lacks a column
    ├── TooManyRejects        the reject ratio of a file is above the threshold
    ├── ShrinkRefused         the run would remove more than MAX_SHRINK of the live customers
    └── IngestBusy            another ingestion holds the lock

Any IngestError aborts the run before the swap: the live data stays as it was.
"""

from __future__ import annotations


class IngestError(Exception):
    pass


class InputFileError(IngestError):
    pass


class TooManyRejects(IngestError):
    pass


class ShrinkRefused(IngestError):
    pass


class IngestBusy(IngestError):
    pass


class InjectedFailure(IngestError):
    """Raised by a stage hook (fault injection in tests and drills)."""
