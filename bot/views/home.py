"""The App Home tab: the saved audiences with Open, Refresh now, Download and Delete (owner or admin).
Pure: listings in, a `home` view out (at most 100 blocks)."""

from __future__ import annotations

from audiences.store import Listing
from bot.views.audiences import change_text, definition, trend_text
from bot.views.text import button, context, count, cut, divider, fit_blocks, header, scrub, section, when

ACTION_OPEN = "home_audience_open"
ACTION_REFRESH = "home_audience_refresh"
ACTION_DOWNLOAD = "home_audience_download"
ACTION_DELETE = "home_audience_delete"
HOME_ACTIONS = (ACTION_OPEN, ACTION_REFRESH, ACTION_DOWNLOAD, ACTION_DELETE)
MAX_VIEW_BLOCKS = 100
PER_AUDIENCE = 3  # section, actions, divider


def home_view(items: list[Listing], *, user: str, admin: bool, note: str | None = None) -> dict:
    blocks: list[dict] = [
        header("Saved audiences"),
        context(
            "Each one is re-evaluated after every ingestion; who joined and who left is posted where it was saved. "
            "Save one by replying `save as &lt;name&gt;` in an answer's thread."
        ),
    ]
    if note:
        blocks.append(section(scrub(note)))
    if not items:
        blocks.append(section("_No saved audiences yet._"))
    room = (MAX_VIEW_BLOCKS - len(blocks) - 1) // PER_AUDIENCE
    for i, x in enumerate(items[:room]):
        a, last = x.audience, x.last
        at = when(last.refreshed_at, utc=True) if last else "never"
        text = (
            f"*{scrub(a.name)}* · {count(x.size)} customers · {change_text(last)}\n"
            f"{definition(a)}\nby <@{a.owner}> · refreshed {at} · trend {trend_text(x.trend)}"
        )
        elements = [
            button("Open", ACTION_OPEN, a.name),
            button("Refresh now", ACTION_REFRESH, a.name),
            button("Download", ACTION_DOWNLOAD, a.name),
        ]
        if admin or a.owner == user:
            elements.append(button("Delete", ACTION_DELETE, a.name, style="danger"))
        blocks += [section(cut(text, 2900)), {"type": "actions", "block_id": f"aud_{i}", "elements": elements}]
        blocks.append(divider())
    if len(items) > room:
        blocks.append(context(f"{len(items) - room} more: `/audience list` lists them all."))
    return {"type": "home", "blocks": fit_blocks(blocks, MAX_VIEW_BLOCKS)}


def home_refused(text: str) -> dict:
    return {"type": "home", "blocks": [header("Saved audiences"), section(text)]}
