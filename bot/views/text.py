"""Text helpers shared by the views: escaping, scrubbing model text, cutting to Slack's limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

SECTION_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
BUTTON_MAX = 75
CONTEXT_TEXT_MAX = 2000
FALLBACK_MAX = 3000
MAX_BLOCKS = 50
MODAL_TITLE_MAX = 24
CUT = "… (cut)"
SCRUB_MAX = 2 * SECTION_MAX  # what scrub reads of a text: no Slack field shows more (the caller cuts again)
ADDRESS_MAX = 320  # longer than any e-mail address (254)

_SPECIAL = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>", re.IGNORECASE)
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(\|([^>]*))?>", re.IGNORECASE)
_USER = re.compile(r"<@[UW][A-Z0-9]+(\|([^>]*))?>")
_BARE_SPECIAL = re.compile(r"(?<![\w`])@(channel|here|everyone)\b", re.IGNORECASE)
_LOCAL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}")  # after the @ (no @ in it: one try per @)


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def hide_emails(text: str) -> str:
    """Every `local@domain.tld` (local: letters, digits, ._%+-) as "[email hidden]". Linear: each @ is
    tried once, its local part found by scanning back to the previous @ or address, its domain matched
    forward up to the next @ (a pattern that starts anywhere retries a long run from each letter)."""
    out: list[str] = []
    done = 0  # text[:done] is written to out
    at = text.find("@")
    while at != -1:
        start = done + len(text[done:at].rstrip(_LOCAL_CHARS))
        domain = _DOMAIN.match(text, at + 1) if start < at else None
        if domain is None:
            at = text.find("@", at + 1)
            continue
        out += (text[done:start], "[email hidden]")
        done = domain.end()
        at = text.find("@", done)
    out.append(text[done:])
    return "".join(out)


def _head(text: str) -> str:
    """At most SCRUB_MAX characters of `text`, and CUT when it was longer. An address cut in half
    would no longer look like one: a word running over the cut goes, unless it is too long to be one
    and has no @."""
    if len(text) <= SCRUB_MAX:
        return text
    head = text[:SCRUB_MAX]
    if text[SCRUB_MAX] in _LOCAL_CHARS or text[SCRUB_MAX] == "@":
        word = len(head) - len(head.rstrip(_LOCAL_CHARS + "@"))
        if word and (word <= ADDRESS_MAX or "@" in head[-word:]):
            head = head[:-word]
    return head + CUT


def scrub(text: str | None) -> str:
    """Make text from a model or a user safe to post: no @channel/@here/@everyone, no user or group
    mentions, no e-mail addresses, and Slack's control characters escaped. Only the first SCRUB_MAX
    characters are read (then CUT follows): no Slack field shows more."""
    if not text:
        return ""
    text = _head(text)
    text = _SPECIAL.sub(lambda m: m.group(1).lower(), text)
    text = _SUBTEAM.sub(lambda m: m.group(2) or "a group", text)
    text = _USER.sub(lambda m: m.group(2) or "someone", text)
    text = _BARE_SPECIAL.sub(lambda m: m.group(1).lower(), text)
    return escape(hide_emails(text))


def plain_safe(text: str | None) -> str:
    """For plain_text fields: no mentions, no e-mails, no angle brackets (nothing Slack could parse)."""
    text = scrub(text).replace("&lt;", "‹").replace("&gt;", "›").replace("&amp;", "&")
    return text


def cut(text: str, limit: int, note: str = CUT) -> str:
    """`text` if it fits in `limit` characters, else its start and `note`."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(note))].rstrip() + note


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": cut(text or " ", limit, "…"), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_MAX) -> dict:
    return {"type": "mrkdwn", "text": cut(text or " ", limit)}


def section(text: str, *, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> dict:
    elements = [mrkdwn(t, CONTEXT_TEXT_MAX) for t in texts if t][:10]
    return {"type": "context", "elements": elements or [mrkdwn(" ")]}


def header(text: str) -> dict:
    return {"type": "header", "text": plain(plain_safe(text), HEADER_MAX)}


def divider() -> dict:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict:
    b = {"type": "button", "text": plain(text, BUTTON_MAX), "action_id": action_id, "value": value[:2000]}
    if style:
        b["style"] = style
    return b


def code_block(lines: list[str], limit: int = SECTION_MAX, more_note: str = "") -> str:
    """A ``` block of as many of `lines` as fit in `limit` characters; when lines are dropped a note
    follows the block (`more_note` with {n} = the number dropped, or a generic one)."""
    reserve = 120  # room for the note
    kept: list[str] = []
    size = 8  # the fences and their newlines
    for line in lines:
        line = line.replace("```", "'''")
        if size + len(line) + 1 > limit - reserve:
            break
        kept.append(line)
        size += len(line) + 1
    text = "```\n" + "\n".join(kept) + "\n```"
    dropped = len(lines) - len(kept)
    if dropped:
        text += "\n" + (more_note.format(n=dropped) if more_note else f"_{dropped} more lines were cut._")
    return cut(text, limit)


def fallback(text: str) -> str:
    """The message's `text` (notifications, screen readers)."""
    return cut(text or " ", FALLBACK_MAX)


def message(text: str, *extra: str) -> dict:
    """A message of one section (`text`) and, when `extra` texts are given, a context block under it."""
    blocks = [section(text)]
    if extra:
        blocks.append(context(*extra))
    return {"text": fallback(text), "blocks": blocks}


def fit_blocks(
    blocks: list[dict], limit: int = MAX_BLOCKS, *, note: str = "_{n} more blocks were left out._"
) -> list[dict]:
    """At most `limit` blocks; the last one says some were left out (`note`, {n} = how many)."""
    if len(blocks) <= limit:
        return blocks
    return blocks[: limit - 1] + [context(note.format(n=len(blocks) - limit + 1))]


def table_lines(header_row: list[str], rows: list[list[str]], *, max_width: int = 28) -> list[str]:
    """Monospace table lines (column widths from the content, each cell cut to `max_width`)."""
    cells = [[cut(str(c), max_width, "…") for c in r] for r in [header_row, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header_row))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def when(value: Any, *, utc: bool = False) -> str:
    """A time as the status messages show it (its own time zone kept), or — .
    `utc`: an aware time in UTC ("… UTC"), and — for anything that is not a time."""
    if value in (None, "") and not utc:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            if utc:
                return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            return value.strftime("%Y-%m-%d %H:%M %Z").strip()
        return value.strftime("%Y-%m-%d %H:%M")
    return "—" if utc else str(value)


def count(value: Any) -> str:
    """A count with thousands separators, or — ."""
    return f"{value:,}" if isinstance(value, int) else "—"
