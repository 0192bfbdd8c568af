"""`python -m ingest inspect`: a proposed mapping for an export, from a sample of it.

Pure functions over bytes and sampled rows, plus `propose()` which reads the files. The
proposal is YAML text that `ingest.mapping.parse_mapping` loads unedited when the guesses
are right; an unmatched required field is written empty with a REQUIRED comment.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ingest import values as val
from ingest.files import CRM, EVENTS, FileSpec
from ingest.mapping import NULLABLE, RESERVED, FileMapping
from ingest.readers import is_parquet, sample

HEAD_BYTES = 1 << 20
SAMPLE_ROWS = 5000
MAX_CATEGORIES = 50
_DECIMAL_COMMA = re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_ISO2 = re.compile(r"^[A-Z]{2}$")


def detect_encoding(head: bytes) -> str:
    bom = head.startswith(b"\xef\xbb\xbf")
    try:
        head.decode("utf-8")
        return "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # a character cut by the sample's end
            return "utf-8-sig" if bom else "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def detect_dialect(text: str) -> tuple[str, str, int]:
    """(delimiter, quote character, header line) of a CSV sample."""
    header_row = 1
    first = text.split("\n", 1)[0].strip()
    if first.lower().startswith("sep=") and len(first) == 5:  # Excel's separator line
        return first[4], '"', 2
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
        return dialect.delimiter, dialect.quotechar or '"', header_row
    except csv.Error:
        counts = {d: first.count(d) for d in ",;\t|"}
        return max(counts, key=counts.get), '"', header_row


def slug(name: str) -> str:
    s = name.strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")[:40]
    return s if s and s[0].isalpha() else f"attr_{s}".rstrip("_")


def detect_decimal(rows: list[dict[str, str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    hits = sum(1 for r in rows for v in r.values() if _DECIMAL_COMMA.match(v.strip()))
    return "," if hits else "."


@dataclass
class ColumnGuess:
    type: str
    format: str | None = None
    values: list[str] = field(default_factory=list)


def guess_type(values: list[str], decimal: str) -> ColumnGuess:
    """The attribute type a column's sampled values would take."""
    seen = [v.strip() for v in values if v.strip()]
    if not seen:
        return ColumnGuess("text")
    if all(val.parse_bool(v) is not None for v in seen):
        return ColumnGuess("boolean")
    if all(val.parse_int(v, decimal) is not None and "," not in v and "." not in v for v in seen):
        return ColumnGuess("integer")
    if all(val.parse_number(v, decimal) is not None for v in seen):
        return ColumnGuess("number")
    if (fmt := val.date_format_of(seen[:500])) is not None:
        return ColumnGuess("date", fmt)
    distinct = sorted(set(seen))
    if len(distinct) <= MAX_CATEGORIES and len(distinct) <= max(2, len(seen) // 2):
        return ColumnGuess("category", values=distinct)
    return ColumnGuess("text")


def _by_name(header: list[str], kind: str) -> dict[str, str]:
    table = val.synonyms()[kind]
    out: dict[str, str] = {}
    for canonical, words in table.items():
        wanted = {val.norm_name(str(w)) for w in words}
        for column in header:
            if val.norm_name(column) in wanted and column not in out.values() and canonical not in out:
                out[canonical] = column
    return out


def _share(values: list[str], test) -> float:
    seen = [v.strip() for v in values if v.strip()]
    return sum(1 for v in seen if test(v)) / len(seen) if seen else 0.0


def match_fields(header: list[str], rows: list[dict[str, str]], spec: FileSpec) -> dict[str, str]:
    """canonical field → source column, by name (synonyms.yml), then by content."""
    found = _by_name(header, spec.kind)
    free = [c for c in header if c not in found.values()]
    column_values = {c: [r.get(c, "") for r in rows] for c in header}
    if spec is CRM and "email" not in found:
        for c in free:
            if _share(column_values[c], lambda v: "@" in v and "." in v.split("@")[-1]) >= 0.8:
                found["email"] = c
                free.remove(c)
                break
    if spec is CRM and "country" not in found:
        for c in free:
            if guess_type(column_values[c], ".").type != "category":
                continue
            if _share(column_values[c], lambda v: val.country_code(v) is not None) >= 0.9:
                found["country"] = c
                free.remove(c)
                break
    return found


def _q(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _is_consent(column: str) -> bool:
    name = val.norm_name(column)
    return any(val.norm_name(w) in name for w in val.synonyms()["consent"])


def file_section(kind: str, path: Path, header: list[str], rows: list[dict[str, str]], fm: FileMapping) -> list[str]:
    """The YAML lines of one file's section."""
    spec = CRM if kind == "crm" else EVENTS
    decimal = detect_decimal(rows, fm.delimiter) if fm.format == "csv" else "."
    matched = match_fields(header, rows, spec)
    lines = [f"{kind}:", f"  # {path.name}: {len(header)} columns, {len(rows)} records sampled"]
    lines.append(f"  format: {fm.format}")
    if fm.format == "csv":
        lines += [
            f"  encoding: {fm.encoding}",
            f"  delimiter: {_q(fm.delimiter)}",
            f"  quotechar: {_q(fm.quotechar)}",
            f"  header_row: {fm.header_row}",
            f"  decimal: {_q(decimal)}",
        ]
    lines.append("  fields:")
    for name in spec.columns:
        column = matched.get(name)
        if column is None:
            if name in NULLABLE[kind]:
                need = "optional: no column matched; left empty it is stored empty, or write the column holding it"
            else:
                need = "REQUIRED: no column matched; write the column holding it"
            lines.append(f"    {name}:   # {need}")
            continue
        values = [r.get(column, "") for r in rows]
        extra = {}
        if name in ("created_at", "event_timestamp"):
            fmt = val.date_format_of([v.strip() for v in values if v.strip()][:500])
            if fmt:
                extra["format"] = fmt
        if name == "country" and not all(_ISO2.match(v.strip()) for v in values if v.strip()):
            extra["convert"] = "country_code"
        if extra:
            inner = ", ".join(f"{k}: {_q(v)}" for k, v in {"column": column, **extra}.items())
            lines.append(f"    {name}: {{{inner}}}")
        else:
            lines.append(f"    {name}: {_q(column)}")
    others = [c for c in header if c not in matched.values()]
    if not others:
        return lines
    lines.append("  attributes:")
    taken: set[str] = set()
    for column in others:
        guess = guess_type([r.get(column, "") for r in rows], decimal)
        name = slug(column)
        if name in RESERVED:
            name = f"{name}_attr"
        while name in taken:
            name += "_2"
        taken.add(name)
        lines.append(f"    {name}:")
        lines.append(f"      column: {_q(column)}")
        lines.append(f"      type: {guess.type}")
        if guess.format:
            lines.append(f"      format: {_q(guess.format)}")
        if guess.type == "boolean" and kind == "crm" and _is_consent(column):
            lines.append("      role: consent")
        lines.append(f"      label: {_q(column.strip().lower().replace('_', ' '))}")
        if guess.type == "category" and kind == "crm":
            lines.append("      semantic: true")
            lines.append(f"      values: {_q(guess.values)}")
    return lines


def _head(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return f.read(HEAD_BYTES)


def detect_format(path: Path) -> FileMapping:
    """The file-level settings of `path` (encoding, delimiter, quote, header line)."""
    if is_parquet(path):
        return FileMapping(format="parquet")
    head = _head(path)
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="replace")
    delimiter, quote, header_row = detect_dialect(text)
    return FileMapping(encoding=encoding, delimiter=delimiter, quotechar=quote, header_row=header_row)


def propose(crm: Path, events: Path | None) -> str:
    """The proposed mapping for the files, as YAML text."""
    out = [
        "# Proposed by `python -m ingest inspect`: check the guesses, then",
        "# python -m ingest run --mapping THIS_FILE",
    ]
    for kind, path in (("crm", crm), ("events", events)):
        if path is None:
            continue
        fm = detect_format(path)
        header, rows = sample(path, fm, kind, SAMPLE_ROWS)
        out += file_section(kind, path, header, rows, fm)
    return "\n".join(out) + "\n"
