"""The two input files: their expected columns, header checks, hashing, and a streaming
reader that feeds PostgreSQL COPY with the physical line number of every record."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import InputFileError


@dataclass(frozen=True)
class FileSpec:
    kind: str  # "crm" | "events"
    columns: tuple[str, ...]


CRM = FileSpec(
    "crm",
    (
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "country",
        "age",
        "total_spent",
        "favorite_color",
        "created_at",
    ),
)
EVENTS = FileSpec(
    "events",
    ("event_id", "customer_id", "event_type", "product", "color", "price", "event_timestamp"),
)


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    lines: int  # physical lines, the last one counted even without a final newline


def file_digest(path: Path) -> Digest:
    """sha256, size and line count of a file (one streamed read)."""
    h = hashlib.sha256()
    size = lines = 0
    last = b"\n"
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as exc:
        raise InputFileError(f"Cannot read {path}: {exc.strerror or exc}. Check the path and permissions.") from exc
    return Digest(h.hexdigest(), size, lines + (last != b"\n"))


def header_is_canonical(path: Path, spec: FileSpec) -> bool:
    """True when the header names exactly the spec's columns in its order."""
    f, reader, idx, width = open_checked(path, spec)
    f.close()
    return width == len(spec.columns) and idx == list(range(width))


def open_checked(path: Path, spec: FileSpec):
    """Open `path`, check its header; return (file, reader, column indexes in spec order)."""
    if not path.exists():
        raise InputFileError(
            f"The {spec.kind} file {path} does not exist. Check the path (--{spec.kind} / CSV setting)."
        )
    try:
        f = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - returned to the caller
        reader = csv.reader(f)
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"The {spec.kind} file {path} is not UTF-8 text ({exc.reason}). Export it as UTF-8 CSV."
        ) from exc
    except OSError as exc:
        raise InputFileError(f"Cannot read the {spec.kind} file {path}: {exc.strerror or exc}.") from exc
    if not header:
        f.close()
        raise InputFileError(f"The {spec.kind} file {path} is empty: expected a header with {', '.join(spec.columns)}.")
    names = [h.strip().lower() for h in header]
    missing = [c for c in spec.columns if c not in names]
    if missing:
        f.close()
        raise InputFileError(
            f"The {spec.kind} file {path} lacks column(s) {', '.join(missing)}. "
            f"Expected columns: {', '.join(spec.columns)}; found: {', '.join(names)}."
        )
    return f, reader, [names.index(c) for c in spec.columns], len(names)


Reject = tuple[int, str, str]  # line_no, reason, raw line


def check_header(path: Path, spec: FileSpec) -> None:
    """Fail fast (before anything is loaded) on a missing, unreadable or header-less file."""
    f, *_ = open_checked(path, spec)
    f.close()


def records(path: Path, spec: FileSpec, on_reject: Callable[[int, str, str], None]) -> Iterator[list[str]]:
    """Yield [line_no, *values in spec order] for each well-formed record.

    Records with the wrong number of fields go to `on_reject`; blank lines are skipped.
    """
    f, reader, idx, width = open_checked(path, spec)
    with f:
        try:
            for row in reader:
                if not row:
                    continue
                line_no = reader.line_num
                if len(row) != width:
                    on_reject(line_no, f"expected {width} fields, found {len(row)}", ",".join(row))
                    continue
                yield [line_no, *(row[i] for i in idx)]
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"The {spec.kind} file {path} is not UTF-8 text after line {reader.line_num} ({exc.reason}). "
                "Export it as UTF-8 CSV."
            ) from exc
        except csv.Error as exc:
            raise InputFileError(
                f"The {spec.kind} file {path} is not valid CSV near line {reader.line_num}: {exc}."
            ) from exc


class CopySource(io.TextIOBase):
    """A read()-able text stream of CSV lines built lazily from rows (for COPY FROM STDIN)."""

    def __init__(self, rows: Iterator[list], on_rows: Callable[[int], None] | None = None, chunk_rows: int = 20000):
        self._rows = rows
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\n")
        self._pending = ""
        self._chunk = chunk_rows
        self._on_rows = on_rows
        self._done = False
        self.error: BaseException | None = None  # what the row source raised (COPY hides it)

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        self._buf.seek(0)
        self._buf.truncate()
        n = 0
        try:
            for row in self._rows:
                self._writer.writerow(row)
                n += 1
                if n >= self._chunk:
                    break
        except BaseException as exc:
            self.error = exc
            raise
        if n == 0:
            self._done = True
        elif self._on_rows:
            self._on_rows(n)
        self._pending = self._buf.getvalue()

    def read(self, size: int = -1) -> str:
        while not self._pending and not self._done:
            self._fill()
        if size is None or size < 0:
            out, self._pending = self._pending, ""
            while not self._done:
                self._fill()
                out += self._pending
            self._pending = ""
            return out
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    readline = read
