"""The mapping file: how a CRM / events export's columns become the canonical fields and
custom attributes. A pydantic model, its YAML reading (with the line of every entry, so a
refusal names the line to fix) and its checks against a file's header and sample.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cdp.schema import OPTIONAL_COLUMNS
from ingest import values as val
from ingest.errors import InputFileError
from ingest.files import CRM, EVENTS, FileSpec

AttrType = Literal["category", "text", "integer", "number", "boolean", "date"]
Encoding = Literal["utf-8", "utf-8-sig", "cp1252", "latin-1"]
NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
# Names an attribute may not take: the built-in fields and what profiles and the gate add.
RESERVED = frozenset(
    {*CRM.columns, *EVENTS.columns, "interests", "preferred_colors", "likes_luxury", "purchases", "events",
     "event_counts", "last_activity", "profile_text", "text_hash", "product_scores", "color_scores", "items",
     "score", "why", "attributes", "calculated_interests"}
)  # fmt: skip
REQUIRED = {"crm": ("customer_id",), "events": ("event_id", "customer_id", "event_type", "event_timestamp")}
# Built-in fields an export may leave out or hold unreadable values in: stored empty (NULL),
# counted in the run record, the row kept. Every built-in field that is not required.
NULLABLE = OPTIONAL_COLUMNS


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldMap(_Model):
    """A canonical field read from `column`; `format` for dates (strptime), `convert` for
    country names or 3-letter codes that become ISO 3166 alpha-2 codes."""

    column: str
    format: str | None = None
    convert: Literal["country_code"] | None = None


class Attribute(_Model):
    """An extra column kept as a typed custom attribute."""

    column: str
    type: AttrType
    format: str | None = Field(default=None, description="strptime format of a date attribute")
    role: Literal["consent"] | None = Field(default=None, description="consent: the opt-in flag activation reads")
    pii: bool = Field(default=False, description="personal: never readable by the model's read-only role")
    semantic: bool = Field(default=False, description="adds a phrase to the profile text (semantic search)")
    label: str | None = Field(default=None, description="how people call it (default: the name with spaces)")
    values: list[str] | None = Field(default=None, description="informational: the values the inspector saw")


class FileMapping(_Model):
    format: Literal["csv", "parquet"] = "csv"
    encoding: Encoding = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    header_row: int = Field(default=1, ge=1, description="the line holding the column names")
    decimal: Literal[".", ","] = "."
    fields: dict[str, FieldMap | None] = Field(default_factory=dict)
    attributes: dict[str, Attribute] = Field(default_factory=dict)
    unused: dict[str, str] = Field(default_factory=dict, description="informational: columns not loaded")

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value):
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value


class Mapping(_Model):
    crm: FileMapping
    events: FileMapping | None = None

    def of(self, kind: str) -> FileMapping | None:
        return self.crm if kind == "crm" else self.events


class MappingError(InputFileError):
    """A mapping refused before anything loads (the message names the line and the fix)."""


def _lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, child in node.value:
            out |= _lines(child, (*path, key.value))
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            out |= _lines(child, (*path, i))
    return out


class Located:
    """A mapping with the line of each of its entries."""

    def __init__(self, mapping: Mapping, lines: dict[tuple, int], source: str) -> None:
        self.mapping, self._lines, self.source = mapping, lines, source

    def line(self, *path) -> int:
        while path and path not in self._lines:
            path = path[:-1]
        return self._lines.get(path, 1)

    def refuse(self, path: tuple, what: str, fix: str) -> MappingError:
        return MappingError(f"{self.source} line {self.line(*path)}: {what}. {fix}")


def parse_mapping(text: str, source: str = "mapping") -> Located:
    """The mapping in `text`, or MappingError naming the line and what to write instead."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise MappingError(f"{source}{where}: not valid YAML ({getattr(exc, 'problem', exc)}).") from exc
    lines = _lines(node) if node is not None else {}
    if not isinstance(data, dict) or "crm" not in data:
        raise MappingError(f"{source} line 1: expected a `crm:` section (and optionally `events:`).")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = tuple(p for p in err["loc"] if p not in ("FieldMap", "Attribute"))
        where = lines.get(path) or lines.get(path[:-1]) or 1
        raise MappingError(
            f"{source} line {where}: {'.'.join(map(str, path))}: {err['msg']} (got {err.get('input')!r}). "
            "See `python -m ingest inspect` for a mapping in the expected form."
        ) from exc
    located = Located(mapping, lines, source)
    _check_static(located)
    return located


def load_mapping(path: Path) -> Located:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"Cannot read the mapping {path}: {exc.strerror or exc}.") from exc
    return parse_mapping(text, str(path))


def _check_static(loc: Located) -> None:
    """What the mapping alone shows wrong: unknown fields, unmapped required ones, names, two uses of a column."""
    for kind, spec in (("crm", CRM), ("events", EVENTS)):
        fm = loc.mapping.of(kind)
        if fm is None:
            continue
        for name in fm.fields:
            if name not in spec.columns:
                raise loc.refuse(
                    (kind, "fields", name),
                    f"{kind}.fields.{name} is not a built-in field",
                    f"Built-in fields: {', '.join(spec.columns)}; list other columns under `attributes:`.",
                )
        for name in spec.columns:
            if fm.fields.get(name) is None and name in REQUIRED[kind]:
                raise loc.refuse(
                    (kind, "fields", name),
                    f"the required field {kind}.fields.{name} names no column",
                    f"Write `{name}: <the column holding it>`.",
                )
        for name, attr in fm.attributes.items():
            if not NAME.match(name):
                raise loc.refuse(
                    (kind, "attributes", name),
                    f"the attribute name {name!r} is not a plain lower-case name",
                    f"Write it as {_suggest(name)!r} (letters, digits and _, starting with a letter).",
                )
            if name in RESERVED:
                raise loc.refuse(
                    (kind, "attributes", name),
                    f"the attribute name {name!r} collides with a built-in field",
                    f"Rename it, e.g. `{name}_{kind}:`, or map the column under `fields:` instead.",
                )
            if attr.type == "date" and not attr.format:
                raise loc.refuse(
                    (kind, "attributes", name, "type"),
                    f"the date attribute {name!r} has no format",
                    "Add `format: '%d.%m.%Y'` (the strptime form of its dates).",
                )
            if attr.role == "consent" and attr.type != "boolean":
                raise loc.refuse(
                    (kind, "attributes", name, "role"),
                    f"the consent attribute {name!r} is of type {attr.type}",
                    "A consent column must be `type: boolean`.",
                )
        if kind == "events" and (same := set(fm.attributes) & set(loc.mapping.crm.attributes)):
            name = sorted(same)[0]
            raise loc.refuse(
                (kind, "attributes", name),
                f"the event attribute {name!r} has the name of a CRM attribute",
                f"Rename one of them, e.g. `event_{name}:`.",
            )
        used: dict[str, tuple] = {}
        entries = [(("fields", n), f.column) for n, f in fm.fields.items() if f is not None]
        entries += [(("attributes", n), a.column) for n, a in fm.attributes.items()]
        for path, column in entries:
            if column in used:
                raise loc.refuse(
                    (kind, *path),
                    f"{kind}.{'.'.join(path)} and {kind}.{'.'.join(used[column])} both read the column {column!r}",
                    "Map each column once: remove one of them or point it at another column.",
                )
            used[column] = path
        if sum(a.role == "consent" for a in fm.attributes.values()) > 1:
            raise loc.refuse((kind, "attributes"), "more than one attribute has `role: consent`", "Keep one.")


def _suggest(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", val.norm_name(name) if not name.isascii() else name.lower()).strip("_")
    return s if s and s[0].isalpha() else f"a_{s}"


def fits(kind: AttrType, value: str, decimal: str, fmt: str | None) -> bool:
    """Whether a non-empty text value reads as `kind`."""
    if kind in ("category", "text"):
        return True
    if kind == "boolean":
        return val.parse_bool(value) is not None
    if kind == "integer":
        return val.parse_int(value, decimal) is not None
    if kind == "number":
        return val.parse_number(value, decimal) is not None
    return val.parse_date(value, fmt or "") is not None


MAX_MISFIT = 0.5  # a type that fails on more than this share of a sample's values does not fit


def check_against(loc: Located, kind: str, header: list[str], sample: list[dict[str, str]]) -> None:
    """Refuse a mapping the file does not fit: a column it lacks, a type its values do not take."""
    fm = loc.mapping.of(kind)
    if fm is None:
        return
    spec: FileSpec = CRM if kind == "crm" else EVENTS
    present = set(header)
    cols = [(("fields", n), f.column) for n, f in fm.fields.items() if f is not None]
    cols += [(("attributes", n), a.column) for n, a in fm.attributes.items()]
    for path, column in cols:
        if column not in present:
            close = [h for h in header if val.norm_name(h) == val.norm_name(column)]
            hint = f"Write {close[0]!r}." if close else f"The {spec.kind} file's columns: {', '.join(header)}."
            raise loc.refuse(
                (kind, *path, "column"),
                f"{kind}.{'.'.join(path)} names the column {column!r}, which the file lacks",
                hint,
            )
    for name, f in fm.fields.items():
        if f is None or not f.format:
            continue
        seen = [r[f.column].strip() for r in sample if r.get(f.column, "").strip()]
        bad = [v for v in seen if val.parse_date(v, f.format) is None]
        if seen and len(bad) > MAX_MISFIT * len(seen):
            better = val.date_format_of(seen[:500])
            raise loc.refuse(
                (kind, "fields", name, "format"),
                f"{len(bad)} of {len(seen)} sampled values of {f.column!r} are not dates in the form {f.format} "
                f"(e.g. {bad[0]!r})",
                f"Write `format: '{better}'`." if better else "Write the strptime form of its dates.",
            )
    for name, attr in fm.attributes.items():
        seen = [r[attr.column] for r in sample if r.get(attr.column, "").strip()]
        bad = [v for v in seen if not fits(attr.type, v, fm.decimal, attr.format)]
        if seen and len(bad) > MAX_MISFIT * len(seen):
            raise loc.refuse(
                (kind, "attributes", name, "type"),
                f"{len(bad)} of {len(seen)} sampled values of {attr.column!r} are not {attr.type} (e.g. {bad[0]!r})",
                f"Write `type: {_better_type(seen, fm.decimal)}`"
                + (" or fix `format:`" if attr.type == "date" else "")
                + ".",
            )


def _better_type(seen: list[str], decimal: str) -> str:
    for kind in ("boolean", "integer", "number"):
        if all(fits(kind, v, decimal, None) for v in seen):
            return kind
    if (fmt := val.date_format_of(seen)) is not None:
        return f"date` with `format: '{fmt}'"
    return "category" if len(set(seen)) <= max(20, len(seen) // 20) else "text"
