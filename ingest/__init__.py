"""Ingestion & feature engineering: CSV validation, COPY + atomic swap, profiles in SQL,
profile text, incremental embedding, run records.  Entry point: `ingest.run(...)`.
"""

from ingest.errors import IngestBusy, IngestError, InputFileError, TooManyRejects
from ingest.pipeline import run

__all__ = ["IngestBusy", "IngestError", "InputFileError", "TooManyRejects", "run"]
