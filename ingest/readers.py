"""Rows of a source file as text, with the physical line number of each record: CSV in any
encoding and delimiter a mapping states, gzip-compressed CSV (.csv.gz), and Parquet (each
row numbered as if the file were CSV with a header: the first row is line 2)."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq

from ingest.errors import InputFileError
from ingest.mapping import FileMapping

Rows = Iterator[tuple[int, list[str]]]
PARQUET_MAGIC = b"PAR1"
BOM = b"\xef\xbb\xbf"
BOM_AS_TEXT = {
    enc: BOM.decode(enc) if enc != "utf-8-sig" else "\ufeff" for enc in ("utf-8", "utf-8-sig", "cp1252", "latin-1")
}


def is_parquet(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _open_text(path: Path, encoding: str):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the caller


@contextmanager
def source_rows(path: Path, fm: FileMapping, kind: str):
    """(header, rows) of `path` read as `fm` states; rows are (line_no, values)."""
    if not path.exists():
        raise InputFileError(f"The {kind} file {path} does not exist. Check the path.")
    if fm.format == "parquet" or is_parquet(path):
        yield _parquet(path, kind)
        return
    try:
        f = _open_text(path, fm.encoding)
    except OSError as exc:
        raise InputFileError(f"Cannot read the {kind} file {path}: {exc.strerror or exc}.") from exc
    with f:
        reader = csv.reader(f, delimiter=fm.delimiter, quotechar=fm.quotechar)
        try:
            header = None
            for row in reader:
                if reader.line_num >= fm.header_row:
                    header = [h.strip() for h in row]
                    if header and fm.header_row == 1:  # a BOM read in a one-byte encoding
                        header[0] = header[0].removeprefix(BOM_AS_TEXT[fm.encoding])
                    break
            if not header:
                raise InputFileError(f"The {kind} file {path} has no header on line {fm.header_row}.")

            def rows() -> Rows:
                try:
                    for row in reader:
                        yield reader.line_num, row
                except UnicodeDecodeError as exc:
                    raise InputFileError(_encoding_text(path, kind, fm.encoding, reader.line_num + 1)) from exc
                except csv.Error as exc:
                    raise InputFileError(
                        f"The {kind} file {path} is not valid CSV near line {reader.line_num}: {exc}."
                    ) from exc

            yield header, rows()
        except UnicodeDecodeError as exc:
            raise InputFileError(_encoding_text(path, kind, fm.encoding, reader.line_num + 1)) from exc
        except (OSError, EOFError) as exc:  # a truncated or corrupt .gz
            raise InputFileError(f"Cannot read the {kind} file {path}: {exc}.") from exc


def _encoding_text(path: Path, kind: str, encoding: str, line: int) -> str:
    return (
        f"The {kind} file {path} is not {encoding} text near line {line}. "
        "Set `encoding:` in the mapping (utf-8, utf-8-sig, cp1252 or latin-1); `python -m ingest inspect` detects it."
    )


def _parquet(path: Path, kind: str) -> tuple[list[str], Rows]:
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise InputFileError(f"The {kind} file {path} is not a readable Parquet file: {exc}.") from exc
    header = list(pf.schema_arrow.names)

    def rows() -> Rows:
        line = 1
        for batch in pf.iter_batches(batch_size=20_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for values in zip(*columns, strict=True):
                line += 1
                yield line, [_text(v) for v in values]

    return header, rows()


def sample(path: Path, fm: FileMapping, kind: str, n: int = 2000) -> tuple[list[str], list[dict[str, str]]]:
    """The header and up to `n` records as {column: value}."""
    out: list[dict[str, str]] = []
    with source_rows(path, fm, kind) as (header, rows):
        for _, row in rows:
            if len(row) == len(header):
                out.append(dict(zip(header, row, strict=True)))
            if len(out) >= n:
                break
    return header, out
