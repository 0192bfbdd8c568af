"""The two input files: their expected columns, header checks, hashing, and a streaming
reader that feeds PostgreSQL COPY with the physical line number of every record."""

from __future__ import annotations

import csv
import hashlib
import io
import re
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
    unusual: bool = False  # may hold day/month dates or time zone offsets: the careful path reads them


# Canonical timestamps (2026-01-24 23:30:00) hold two '-' and two ':'; more per line, or a '/',
# '+' or a 'Z' after a digit, may be an offset or a day/month date, which PostgreSQL's COPY would misread
# silently. Counting bytes keeps this check at memory speed; a false alarm only costs the
# careful path's time.
_ZONE = re.compile(rb"[0-9]Z")  # 23:30:00Z


def _marked(chunk: bytes, before: bytes) -> bool:
    """A '/', a '+' or a 'Z' after a digit in `chunk` (`before`: the previous chunk's last byte).
    One byte search each, the two-byte one only where a 'Z' is: ten two-byte searches took 13 s
    of the 16.6 s digest of a 1.4 GB events file."""
    if b"/" in chunk or b"+" in chunk:
        return True
    if b"Z" not in chunk:
        return False
    return _ZONE.search(chunk) is not None or (before.isdigit() and chunk.startswith(b"Z"))


def file_digest(path: Path) -> Digest:
    """sha256, size, line count and the date check of a file (one streamed read)."""
    h = hashlib.sha256()
    size = lines = dashes = colons = 0
    marked = False
    last = b"\n"
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
                lines += chunk.count(b"\n")
                dashes += chunk.count(b"-")
                colons += chunk.count(b":")
                marked = marked or _marked(chunk, last)
                last = chunk[-1:]
    except OSError as exc:
        raise InputFileError(f"Cannot read {path}: {exc.strerror or exc}. Check the path and permissions.") from exc
    lines += last != b"\n"
    records = lines - 1  # the header holds neither
    unusual = marked or dashes > 2 * records or colons > 2 * records
    return Digest(h.hexdigest(), size, lines, unusual)


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
    _check_text(path, spec)
    try:
        f = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - returned to the caller
        reader = csv.reader(f)
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise InputFileError(_not_utf8(path, spec, exc)) from exc
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
            f"Expected columns: {', '.join(spec.columns)}; found: {', '.join(names)}.{_delimiter_hint(names)}"
        )
    return f, reader, [names.index(c) for c in spec.columns], len(names)


GZIP_MAGIC = b"\x1f\x8b"
_CONTROL = set(range(32)) - {9, 10, 13}  # bytes no CSV header holds (tab, LF, CR aside)


def _check_text(path: Path, spec: FileSpec) -> None:
    """Refuse a compressed or binary file before reading it as CSV, saying what it is."""
    try:
        with open(path, "rb") as f:
            head = f.readline(1 << 16)
    except OSError as exc:
        raise InputFileError(f"Cannot read the {spec.kind} file {path}: {exc.strerror or exc}.") from exc
    if head.startswith(GZIP_MAGIC):
        raise InputFileError(
            f"The {spec.kind} file {path} is gzip-compressed, not CSV text: decompress it first "
            f"(`gunzip -k {path}`) and give the .csv file."
        )
    if any(b in _CONTROL for b in head):
        raise InputFileError(
            f"The {spec.kind} file {path} is not a CSV text file (its first line holds binary data: a spreadsheet, "
            "archive or database file?). Export the data as CSV text (UTF-8, comma-separated) with the header "
            f"{','.join(spec.columns)}."
        )


def _delimiter_hint(names: list[str]) -> str:
    if len(names) != 1:
        return ""
    for sep, label in ((";", "';' (semicolon)"), ("\t", "a tab"), ("|", "'|'")):
        if sep in names[0]:
            return f" The file seems to use {label} as its separator: export it comma-separated (,)."
    return ""


def first_non_utf8_line(path: Path) -> int | None:
    """The first line (1-based) that is not valid UTF-8, or None."""
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return n
    return None


def _not_utf8(path: Path, spec: FileSpec, exc: UnicodeDecodeError) -> str:
    line = first_non_utf8_line(path)
    where = f" line {line} holds a byte that is not UTF-8 ({exc.reason})" if line else f" ({exc.reason})"
    return (
        f"The {spec.kind} file {path} is not UTF-8 text:{where}; it is probably Latin-1 or Windows-1252. "
        f"Export it as UTF-8 CSV, or convert it: `iconv -f windows-1252 -t utf-8 {path} > converted.csv`."
    )


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
                if any("\x00" in value for value in row):  # PostgreSQL text cannot hold it
                    on_reject(line_no, "contains a NUL byte", ",".join(row).replace("\x00", "\\0"))
                    continue
                yield [line_no, *(row[i] for i in idx)]
        except UnicodeDecodeError as exc:
            raise InputFileError(_not_utf8(path, spec, exc)) from exc
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
