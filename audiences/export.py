"""Export files: a membership screened (screen.py) and written in one of the formats (formats.py),
streamed batch by batch into a temporary file beside the target, then renamed over it (atomic: a
reader never sees half a file)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine

from audiences.formats import FORMATS, Contact, Format
from audiences.screen import Screening, screened


class UnknownFormat(ValueError):
    def __init__(self, name: str):
        super().__init__(f"Unknown export format “{name}”. Use one of: {', '.join(FORMATS)}.")


def get_format(name: str) -> Format:
    fmt = FORMATS.get((name or "").strip().lower())
    if fmt is None:
        raise UnknownFormat(name)
    return fmt


def write_rows(fmt: Format, batches: Iterable[list[Contact]], fh: IO[str]) -> None:
    """The header and the rows of `fmt` (json: an array of member objects), batch by batch."""
    if fmt.extension == "json":
        fh.write("[")
        first = True
        for batch in batches:
            for c in batch:
                fh.write(("\n  " if first else ",\n  ") + json.dumps(fmt.row(c), ensure_ascii=False))
                first = False
        fh.write("\n]\n" if not first else "]\n")
        return
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(fmt.header)
    for batch in batches:
        writer.writerows(fmt.row(c) for c in batch)


def atomic_write(path: Path, fill) -> None:
    """Write through fill(text file) into a temporary file in path's folder, then rename it to path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_members(
    engine: Engine,
    ids: Iterable[int],
    fmt_name: str,
    out: Path,
    *,
    needs_consent: bool = True,
    kept: list[int] | None = None,
) -> Screening:
    """Write the members who may leave to `out` in `fmt_name`; the counts of who was left out.
    `kept`, when given, receives the ids written."""
    fmt = get_format(fmt_name)
    screening = Screening()

    def batches():
        for batch in screened(engine, ids, screening, needs_consent=needs_consent):
            if kept is not None:
                kept.extend(c.customer_id for c in batch)
            yield batch

    def fill(fh: IO[str]) -> None:
        write_rows(fmt, batches(), fh)

    atomic_write(out, fill)
    return screening


def file_name(audience: str, fmt_name: str, stamp: str) -> str:
    """`de-buyers-meta-20261101-120000.csv`: the audience, the format, when."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in audience.lower()).strip("-")
    slug = "-".join(p for p in slug.split("-") if p)[:40] or "audience"
    return f"{slug}-{fmt_name}-{stamp}.{get_format(fmt_name).extension}"
