"""Delivery destinations, configured by an admin in the YAML file DESTINATIONS_FILE.

The shape is a contract (extend it, don't rename its keys):

    destinations:
      crm-hook:                          # the name used in `send … to crm-hook`
        type: webhook
        url: https://hooks.example.com/audiences
        secret_env: AUDIENCE_HOOK_SECRET # the secret's environment variable, never the secret
        on_refresh: true                 # deliver the delta after every refresh of an audience sent here once
        batch_size: 1000                 # members per request, at most 1,000 (default DELIVERY_BATCH_SIZE)
        max_retries: 4                   # retries of one request (default DELIVERY_MAX_RETRIES)
        mode: delta                      # delta (default) | full: every delivery sends the whole membership
        needs_consent: true              # false: an internal tool that does not need marketing consent
      ads-drop:
        type: folder
        path: /srv/exports
        format: meta                     # meta | google | csv | json
        on_refresh: false

A file that does not parse, or a destination that is not valid, raises DestinationError naming the
file and the line (the bot still starts and says so when a destination is used).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from audiences.errors import AudienceError
from audiences.formats import FORMATS
from cdp.settings import Settings

MAX_BATCH = 1000
TYPES = ("webhook", "folder")
COMMON_KEYS = {"type", "on_refresh", "needs_consent"}
KEYS = {
    "webhook": COMMON_KEYS | {"url", "secret_env", "batch_size", "max_retries", "mode", "timeout_s"},
    "folder": COMMON_KEYS | {"path", "format"},
}


class DestinationError(AudienceError):
    """The destinations file or one destination is not usable; says where and what to do."""


class UnknownDestination(AudienceError):
    def __init__(self, name: str, known: list[str]):
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = (
            "Did you mean " + ", ".join(f"“{n}”" for n in close) + "?"
            if close
            else ("The configured ones: " + ", ".join(known) + "." if known else "None is configured yet.")
        )
        super().__init__(f"No destination is named “{name}”. {hint} Destinations are set in DESTINATIONS_FILE.")


@dataclass(frozen=True)
class Destination:
    name: str
    type: str
    line: int
    on_refresh: bool = False
    needs_consent: bool = True
    url: str | None = None
    secret_env: str | None = None
    batch_size: int = MAX_BATCH
    max_retries: int | None = None
    mode: str = "delta"
    timeout_s: float | None = None
    path: Path | None = None
    format: str | None = None

    @property
    def where(self) -> str:
        """Where it delivers, without credentials: the URL's host, or the folder."""
        if self.type == "webhook":
            parts = urlsplit(self.url or "")
            return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return str(self.path)

    def secret(self) -> bytes:
        """The signing secret from its environment variable; DestinationError when unset."""
        value = os.environ.get(self.secret_env or "")
        if not value:
            raise DestinationError(
                f"The secret of destination “{self.name}” is read from the environment variable "
                f"{self.secret_env}, which is not set. Set {self.secret_env} where the bot runs (never in the "
                "destinations file), or correct secret_env."
            )
        return value.encode("utf-8")


class _Lined(dict):
    line = 0


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> _Lined:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise DestinationError(f"line {line}: “{key}” is given twice (first at line {seen[key]}); keep one.")
        seen[key] = line
    out = _Lined(loader.construct_mapping(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _bool(raw: dict, key: str, default: bool, where: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise DestinationError(f"{where}: {key} must be true or false, not {value!r}.")
    return value


def _int(raw: dict, key: str, default: int | None, where: str, low: int, high: int) -> int | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DestinationError(f"{where}: {key} must be a whole number from {low:,} to {high:,}, not {value!r}.")
    return value


def _destination(name: str, raw: Any, default_batch: int) -> Destination:
    line = getattr(raw, "line", 0)
    where = f"line {line}, destination “{name}”"
    if not isinstance(raw, dict):
        raise DestinationError(f"{where}: expected its settings (type: webhook or folder, …).")
    kind = raw.get("type")
    if kind not in TYPES:
        raise DestinationError(f"{where}: type must be one of {', '.join(TYPES)}, not {kind!r}.")
    unknown = sorted(set(raw) - KEYS[kind])
    if unknown:
        raise DestinationError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(str, unknown))} for a {kind} "
            f"destination (known: {', '.join(sorted(KEYS[kind]))})."
        )
    common = dict(
        name=name, type=kind, line=line, on_refresh=_bool(raw, "on_refresh", False, where),
        needs_consent=_bool(raw, "needs_consent", True, where),
    )  # fmt: skip
    if kind == "folder":
        fmt = raw.get("format")
        if fmt not in FORMATS:
            raise DestinationError(f"{where}: format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
        if not isinstance(raw.get("path"), str) or not raw["path"].strip():
            raise DestinationError(f"{where}: path (the folder files are written to) is missing.")
        return Destination(**common, path=Path(raw["path"]).expanduser(), format=fmt)
    url = raw.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise DestinationError(f"{where}: url must be an http(s) address, not {url!r}.")
    secret_env = raw.get("secret_env")
    if not isinstance(secret_env, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", secret_env):
        raise DestinationError(
            f"{where}: secret_env must name the environment variable that holds the secret (e.g. "
            "AUDIENCE_HOOK_SECRET); the secret itself never goes in this file."
        )
    mode = raw.get("mode", "delta")
    if mode not in ("delta", "full"):
        raise DestinationError(f"{where}: mode must be delta or full, not {mode!r}.")
    timeout = raw.get("timeout_s")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise DestinationError(f"{where}: timeout_s must be a number of seconds above 0, not {timeout!r}.")
    return Destination(
        **common, url=url, secret_env=secret_env, mode=mode, timeout_s=timeout,
        batch_size=_int(raw, "batch_size", default_batch, where, 1, MAX_BATCH) or default_batch,
        max_retries=_int(raw, "max_retries", None, where, 0, 20),
    )  # fmt: skip


def parse(text: str, default_batch: int = MAX_BATCH) -> dict[str, Destination]:
    """The destinations of a YAML text; DestinationError (with the line) otherwise."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}" if mark else "somewhere"
        raise DestinationError(f"{line}: the YAML does not parse ({exc.problem or exc.context}).") from None
    except yaml.YAMLError as exc:
        raise DestinationError(f"the YAML does not parse ({exc}).") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("destinations", {}), dict):
        raise DestinationError(f"line {getattr(doc, 'line', 1)}: expected a top-level “destinations:” mapping.")
    return {str(name): _destination(str(name), raw, default_batch) for name, raw in doc["destinations"].items()}


def load(settings: Settings) -> dict[str, Destination]:
    """The destinations of DESTINATIONS_FILE ({} when unset); DestinationError naming the file and line."""
    path = settings.destinations_file
    if path is None:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DestinationError(
            f"DESTINATIONS_FILE {path} cannot be read ({exc.strerror or exc}). Correct the path or unset it."
        ) from None
    try:
        return parse(text, settings.delivery_batch_size)
    except DestinationError as exc:
        raise DestinationError(f"DESTINATIONS_FILE {path}, {exc} Fix the file; other features keep working.") from None


def load_or_error(settings: Settings) -> tuple[dict[str, Destination], str | None]:
    """For the bot's start: the destinations, or none and the reason (the bot starts either way)."""
    try:
        return load(settings), None
    except DestinationError as exc:
        return {}, str(exc)


def get(destinations: dict[str, Destination], name: str) -> Destination:
    found = destinations.get(name.strip())
    if found is None:
        lowered = {k.casefold(): v for k, v in destinations.items()}
        found = lowered.get(name.strip().casefold())
    if found is None:
        raise UnknownDestination(name.strip(), sorted(destinations))
    return found
