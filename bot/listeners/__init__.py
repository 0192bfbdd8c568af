"""Thin listeners: each one short function behind listener middleware (guards.py: ack, dedupe, access;
one error handler), building an `Ask` for bot.work. Each module has `register(app)`."""

from __future__ import annotations

import re


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """The question without the bot's mention (`<@U123> find …` → `find …`)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def is_help(text: str) -> bool:
    return text.strip().lower() in ("", "help", "?", "-h", "--help")


def keys(prefix: str, *parts: object) -> str | None:
    """A dedupe key, or None when a part is missing (nothing to deduplicate on)."""
    if any(p in (None, "") for p in parts):
        return None
    return prefix + ":" + ":".join(str(p) for p in parts)
