"""The "working…" message: the question quoted, and live progress through discovery's stages."""

from __future__ import annotations

from bot.views.text import context, fallback, scrub, section

STAGES = (("gate", "behaviour gate"), ("semantic", "semantic ranking"), ("enrich", "enrichment"))
_ORDER = {key: i for i, (key, _) in enumerate(STAGES)}


def quote(question: str) -> str:
    return "\n".join("> " + line for line in (scrub(question) or " ").splitlines() or [" "])


def stage_line(stage: str | None) -> str:
    """`behaviour gate → semantic ranking → enrichment` with ✅ for done, ⏳ for the current stage."""
    if stage is None:
        return "⏳ reading the question…"
    if stage not in _ORDER:
        return f"⏳ {scrub(stage)}…"
    at = _ORDER[stage]
    parts = []
    for i, (_, label) in enumerate(STAGES):
        mark = "✅" if i < at else "⏳" if i == at else "◻️"
        parts.append(f"{mark} {label}")
    return " → ".join(parts)


def progress_message(question: str, stage: str | None = None, *, user: str | None = None) -> dict:
    """The message posted within a second of the question and updated at each stage."""
    asked = f"<@{user}> asked:\n" if user else ""
    return {
        "text": fallback(f"Working on: {scrub(question)}"),
        "blocks": [section(asked + quote(question)), context(stage_line(stage))],
    }
