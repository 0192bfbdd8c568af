"""Records of an export read through its mapping, in the canonical form the loader takes:
[line_no, *the spec's columns, *the attributes' values], every value text, dates as ISO,
numbers with a decimal point, country names as ISO codes. A custom attribute that does not
read as its type is passed on empty and counted by reason (never a reject); so is an optional
built-in date not in the mapping's format, passed on as validate_sql.COUNTED (stored NULL, not
counted again by the SQL validation, which counts the other optional values that do not read)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from ingest import values as val
from ingest.files import FileSpec
from ingest.mapping import NULLABLE, Attribute, FieldMap, FileMapping
from ingest.readers import source_rows
from ingest.validate_sql import COUNTED

_NUMERIC = {"age", "total_spent", "price"}
MEMO_MAX = 100_000  # distinct values remembered per attribute (categories, dates, small counts repeat)
_DATES = {"created_at", "event_timestamp"}


def canonical_value(
    column: str, fm: FieldMap, raw: str, decimal: str, nullable: bool = False
) -> tuple[str, str | None]:
    """The canonical text of a built-in field, and the reason it was stored empty (a `nullable`
    field that does not read). Otherwise a value that does not read is left as it is: the SQL
    validation rejects the row with its usual reason."""
    v = raw.strip()
    if not v:
        return v, None
    if column in _DATES and fm.format:
        parsed = val.parse_date(v, fm.format)
        if parsed is None and nullable:
            return COUNTED, f"not a date in the form {fm.format}"
        return (val.iso(parsed) if parsed is not None else v), None
    return _plain(column, fm, v, decimal), None


def _plain(column: str, fm: FieldMap, v: str, decimal: str) -> str:
    if column in _NUMERIC and decimal == ",":
        number = val.parse_number(v, decimal)
        return str(number) if number is not None else v
    if fm.convert == "country_code":
        return val.country_code(v) or v
    return v


def attribute_value(attr: Attribute, raw: str, decimal: str) -> tuple[str, str | None]:
    """(canonical text, reason it was stored empty or None)."""
    v = raw.strip()
    if not v or attr.type in ("category", "text"):
        return v, None
    if attr.type == "boolean":
        b = val.parse_bool(v)
        return ("", "not a yes/no value") if b is None else ("true" if b else "false", None)
    if attr.type == "integer":
        i = val.parse_int(v, decimal)
        return ("", "not an integer") if i is None else (str(i), None)
    if attr.type == "number":
        n = val.parse_number(v, decimal)
        return ("", "not a number") if n is None else (str(n), None)
    d = val.parse_date(v, attr.format or "")
    return ("", f"not a date in the form {attr.format}") if d is None else (d.strftime("%Y-%m-%d"), None)


def mapped_records(
    path: Path,
    spec: FileSpec,
    fm: FileMapping,
    on_reject: Callable[[int, str, str], None],
    stored_empty: Counter,
) -> Iterator[list]:
    """[line_no, *canonical values, *attribute values] per well-formed record of `path`."""
    with source_rows(path, fm, spec.kind) as (header, rows):
        at = {h: i for i, h in enumerate(header)}
        fields = [(c, fm.fields.get(c), at[fm.fields[c].column] if fm.fields.get(c) else None) for c in spec.columns]
        nullable = set(NULLABLE[spec.kind])
        attrs = [(name, a, at[a.column]) for name, a in fm.attributes.items()]
        width, sep = len(header), fm.delimiter
        memos: list[dict[str, tuple[str, str | None]]] = [{} for _ in attrs]  # repeated values read once
        for line_no, row in rows:
            if not row or row == [""]:
                continue
            if len(row) != width:
                on_reject(line_no, f"expected {width} fields, found {len(row)}", sep.join(row))
                continue
            if any("\x00" in value for value in row):
                on_reject(line_no, "contains a NUL byte", sep.join(row).replace("\x00", "\\0"))
                continue
            out: list = [line_no]
            for c, f, i in fields:
                if f is None:  # an optional field the mapping leaves out (said once: load.validate)
                    out.append(COUNTED)
                    continue
                value, reason = canonical_value(c, f, row[i], fm.decimal, c in nullable)
                if reason:
                    stored_empty[f"{c}: {reason} (stored empty)"] += 1
                out.append(value)
            for (name, a, i), memo in zip(attrs, memos, strict=True):
                raw = row[i]
                if (got := memo.get(raw)) is None:
                    got = attribute_value(a, raw, fm.decimal)
                    if len(memo) < MEMO_MAX:
                        memo[raw] = got
                value, reason = got
                if reason:
                    stored_empty[f"{name}: {reason} (stored empty)"] += 1
                out.append(value)
            yield out
