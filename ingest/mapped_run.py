"""What an ingestion run does differently with a mapping: the mapping is read and checked
against both files before anything loads, and its text is part of the CRM file's key, so a
changed mapping is never taken for an unchanged input. Also the run record's counts of the
optional values stored empty (with or without a mapping)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.files import CRM, EVENTS
from ingest.mapping import FileMapping, Located, check_against, load_mapping
from ingest.readers import sample

# The run record's reject_reasons keys of the optional values stored empty (missing or unreadable), per file.
STORED_EMPTY = "crm stored empty"
EVENTS_STORED_EMPTY = "events stored empty"


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
    """The optional values of both files stored empty, by field and reason (an empty key is left out)."""
    keys = {"crm": STORED_EMPTY, "events": EVENTS_STORED_EMPTY}
    return {keys[kind]: dict(item.stored_empty) for kind, item in loaded.items() if item.stored_empty}
