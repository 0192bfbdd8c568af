"""What an ingestion run does differently with a mapping: the mapping is read and checked
against both files before anything loads, and its text is part of the CRM file's key, so a
changed mapping is never taken for an unchanged input."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.files import CRM, EVENTS
from ingest.mapping import FileMapping, Located, check_against, load_mapping
from ingest.readers import sample

STORED_EMPTY = "crm stored empty"  # the run record's reject_reasons key: optional values that did not read


def load_and_check(path: Path | None, crm: Path, events: Path) -> Located | None:
    """The mapping at `path` checked against the files (MappingError / InputFileError), or
    None without one."""
    if path is None:
        return None
    located = load_mapping(path)
    for spec, file in ((CRM, crm), (EVENTS, events)):
        fm = located.mapping.of(spec.kind)
        if fm is not None:
            header, rows = sample(file, fm, spec.kind)
            check_against(located, spec.kind, header, rows)
    return located


def keyed(crm_sha256: str, located: Located | None) -> str:
    if located is None:
        return crm_sha256
    mapping = located.mapping.model_dump_json()
    return hashlib.sha256(f"{crm_sha256}:{mapping}".encode()).hexdigest()


def per_file(located: Located | None) -> dict[str, FileMapping | None]:
    if located is None:
        return {"crm": None, "events": None}
    return {"crm": located.mapping.crm, "events": located.mapping.events}


def stored_empty(loaded: dict) -> dict:
    counts = loaded["crm"].stored_empty
    return {STORED_EMPTY: dict(counts)} if counts else {}
