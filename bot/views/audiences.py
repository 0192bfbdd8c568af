"""Saved audiences in Slack: the save answers, the refresh notice (who joined, who left), the list,
an audience's card and the save modal. Pure: audiences' objects in, message dicts out. Customer ids
and why only: no names, no e-mails (the downloadable files have them)."""

from __future__ import annotations

import json
from typing import Any

from audiences.model import NAME_MAX, SavedAudience
from audiences.refresh import Outcome
from audiences.store import Listing, RefreshRecord
from bot.views.text import (
    MODAL_TITLE_MAX,
    button,
    context,
    count,
    cut,
    fallback,
    fit_blocks,
    header,
    message,
    plain,
    scrub,
    section,
    when,
)

ACTION_SAVE_AUDIENCE = "save_audience"
ACTION_OVERWRITE = "audience_overwrite"
SAVE_MODAL = "save_audience_modal"
NAME_BLOCK, NAME_INPUT = "audience_name", "name"
WHERE_BLOCK, WHERE_INPUT = "audience_where", "where"
OPTIONS_BLOCK, OPTIONS_INPUT = "audience_options", "options"
WHERE_THREAD, WHERE_DM, WHERE_NOWHERE = "thread", "dm", "nowhere"
OPTION_ALWAYS, OPTION_OVERWRITE = "always", "overwrite"
SHOWN = 5  # joined / left customers listed in a notice
SPARKS = "▁▂▃▄▅▆▇█"


def _name(a: SavedAudience | str) -> str:
    return scrub(a if isinstance(a, str) else a.name)


def definition(a: SavedAudience) -> str:
    return scrub(a.recipe.describe()) if a.recipe else f"_its definition no longer reads ({scrub(a.recipe_error)})_"


def trend_text(sizes: list[int]) -> str:
    """`▃▅█ 120 → 126` : the sizes of the last refreshes, oldest first."""
    if not sizes:
        return "—"
    lo, hi = min(sizes), max(sizes)
    bars = "".join(SPARKS[0 if hi == lo else round((s - lo) / (hi - lo) * (len(SPARKS) - 1))] for s in sizes)
    ends = f"{sizes[0]:,}" if len(sizes) == 1 else f"{sizes[0]:,} → {sizes[-1]:,}"
    return f"{bars} {ends}"


def change_text(r: RefreshRecord | None) -> str:
    if r is None:
        return "not refreshed yet"
    if r.status == "failed":
        return "the last refresh failed"
    return f"+{r.added or 0} / −{r.removed or 0}"


def _where(a: SavedAudience) -> str:
    if not a.channel:
        return "nowhere (see `/audience list`)"
    if a.channel.startswith("D"):
        return "a direct message"
    return f"<#{a.channel}>" + (" (its thread)" if a.thread_ts else "")


def saved_message(o: Outcome, *, replaced: bool = False) -> dict:
    """The answer to a save: saved, its size now, what happens after each ingestion."""
    a = o.audience
    verb = "Replaced" if replaced else "Saved"
    if o.status == "failed":
        size = f"I could not count its members yet ({scrub(o.error)})."
    else:
        size = f"It has *{count(o.size_after)}* customers now."
    when_posted = "after every ingestion" if a.notify == "always" else "when the data changes who is in it"
    if not a.channel:
        after = "and keep who joined and who left (no notices: `/audience list` shows the changes)."
    else:
        where = "here" if a.thread_ts else ("in a direct message" if a.channel.startswith("D") else _where(a))
        after = f"and post {where} who joined and who left ({when_posted})."
    text = (
        f":floppy_disk: {verb} the audience *{_name(a)}*: {definition(a)}. {size}\n"
        f"After each ingestion I re-evaluate it on the new data {after}"
    )
    return message(text, "`/audience list` shows every saved audience; `/audience show NAME` this one.")


def _lines(ids: list[int], why: dict[int, str]) -> str:
    shown = [f"• `{i}`" + (f" — {scrub(why[i])}" if i in why else "") for i in ids[:SHOWN]]
    if len(ids) > SHOWN:
        shown.append(f"_… and {len(ids) - SHOWN:,} more (`/audience show` attaches the members)_")
    return "\n".join(shown)


def refresh_message(o: Outcome) -> dict:
    """One notice per refreshed audience: size before → after, +joined / −left with why, notes, failure."""
    a = o.audience
    if o.status == "failed":
        text = f":warning: The refresh of *{_name(a)}* failed: {scrub(o.error)}"
        return message(text, "The audience is kept; the next ingestion tries again (or `/audience refresh NAME`).")
    before = "new" if o.size_before is None else f"{o.size_before:,}"
    head = f":arrows_counterclockwise: *{_name(a)}*: {before} → *{count(o.size_after)}* customers"
    if o.run_id is not None:
        head += f" (snapshot of run #{o.run_id})"
    blocks = [section(head)]
    if o.size_before is not None and not o.changed:
        blocks.append(section("Unchanged: nobody joined or left."))
    if o.size_before is not None and o.joined:
        blocks.append(section(cut(f"*+{len(o.joined):,} joined*\n" + _lines(o.joined, o.why_joined), 2900)))
    if o.left:
        blocks.append(section(cut(f"*−{len(o.left):,} left*\n" + _lines(o.left, o.why_left), 2900)))
    if o.notes:
        blocks.append(context(cut("\n".join(f":warning: {scrub(n)}" for n in o.notes[:10]), 1900)))
    summary = f"{a.name}: {before} → {o.size_after} (+{len(o.joined)} −{len(o.left)})"
    return {"text": fallback(scrub(summary)), "blocks": blocks}


def problem(text: str) -> dict:
    """A clear answer to bad input (audiences' error texts say what to do)."""
    return message(":warning: " + scrub(text))


def no_permission(a: SavedAudience, what: str) -> dict:
    return message(f":no_entry: Only <@{a.owner}> (who saved *{_name(a)}*) or an admin can {what} it.")


def name_taken(name: str, owner: str, value: str, *, may_overwrite: bool) -> dict:
    """Ask to overwrite (a button) or pick another name."""
    text = f"An audience named *{_name(name)}* already exists (saved by <@{owner}>)."
    if not may_overwrite:
        return message(text + " Pick another name: reply `save as &lt;another name&gt;`.")
    blocks = [
        section(
            text + " Overwrite it (its history of refreshes starts again), or reply `save as &lt;another name&gt;`."
        ),
        {"type": "actions", "elements": [button("Overwrite", ACTION_OVERWRITE, value, style="danger")]},
    ]
    return {"text": fallback(text), "blocks": blocks}


def deleted(a: SavedAudience) -> dict:
    return message(f":wastebasket: Deleted the audience *{_name(a)}* and its history of refreshes.")


def listing_message(items: list[Listing]) -> dict:
    if not items:
        return message(
            "No saved audiences yet.",
            "Ask for an audience, then reply `save as &lt;name&gt;` in its thread (or press *Save audience*).",
        )
    lines = []
    for x in items[:40]:
        a, last = x.audience, x.last
        at = when(last.refreshed_at, utc=True) if last else "never"
        lines.append(
            f"*{_name(a)}* · <@{a.owner}> · {count(x.size)} customers · {change_text(last)} · refreshed {at}"
            f" · trend {trend_text(x.trend)}"
        )
    blocks = [header(f"Saved audiences ({len(items)})")]
    for i in range(0, len(lines), 10):
        blocks.append(section(cut("\n".join(lines[i : i + 10]), 2900)))
    if len(items) > 40:
        blocks.append(context(f"{len(items) - 40} more: the App Home tab lists them all."))
    blocks.append(context("`/audience show NAME` · `/audience refresh NAME` · `/audience delete NAME`"))
    return {"text": fallback(f"{len(items)} saved audiences"), "blocks": fit_blocks(blocks)}


def audience_card(
    a: SavedAudience,
    history: list[RefreshRecord],
    members: int,
    population: int | None,
    top: list[tuple[int, str]],
) -> dict:
    """`/audience show`: definition in words, funnel, top members with why, the refresh log."""
    blocks: list[dict] = [header("🎯 " + a.name), section(f"*Definition*: {definition(a)}")]
    if a.recipe and a.recipe.question:
        blocks.append(context(f"asked as “{scrub(a.recipe.question)}”"))
    funnel = f"*Funnel*: {count(population)} customers → *{members:,}* members"
    if a.recipe and a.recipe.top_n:
        funnel += f" (the top {a.recipe.top_n:,})"
    blocks.append(section(funnel))
    if top:
        lines = "\n".join(f"• `{cid}` — {scrub(why)}" for cid, why in top)
        blocks.append(section(cut("*Top members*\n" + lines, 2900)))
    log = [
        f"{when(r.refreshed_at, utc=True)} · {r.trigger} · "
        + (f"{count(r.size)} (+{r.added or 0} −{r.removed or 0})" if r.status == "succeeded" else f"failed: {r.error}")
        for r in history[:10]
    ]
    if log:
        blocks.append(section(cut("*Refreshes* (newest first)\n" + scrub("\n".join(log)), 2900)))
    blocks.append(
        context(
            f"saved by <@{a.owner}> on {when(a.created_at, utc=True)} · notices go to {_where(a)}"
            f" ({'every refresh' if a.notify == 'always' else 'changes only'})"
        )
    )
    return {"text": fallback(f"{a.name}: {members:,} members"), "blocks": fit_blocks(blocks)}


def save_modal(metadata: dict[str, Any], question: str) -> dict:
    """Name, where the refresh notices go (default: the thread), and the options."""

    def option(value: str, text: str) -> dict:
        return {"text": plain(text, 75), "value": value}

    where = [option(WHERE_THREAD, "This thread"), option(WHERE_DM, "A direct message to me"),
             option(WHERE_NOWHERE, "Nowhere (I'll check /audience list)")]  # fmt: skip
    options = [
        option(OPTION_ALWAYS, "Post after every refresh, even when nothing changed"),
        option(OPTION_OVERWRITE, "Replace an audience of the same name"),
    ]
    return {
        "type": "modal",
        "callback_id": SAVE_MODAL,
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "title": plain("Save audience", MODAL_TITLE_MAX),
        "submit": plain("Save", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "blocks": [
            section(cut(f"*Segment*: {scrub(question)}", 2900)),
            {
                "type": "input",
                "block_id": NAME_BLOCK,
                "label": plain("Name", 2000),
                "element": {"type": "plain_text_input", "action_id": NAME_INPUT, "max_length": NAME_MAX},
            },
            {
                "type": "input",
                "block_id": WHERE_BLOCK,
                "label": plain("Where refresh notices go", 2000),
                "element": {
                    "type": "radio_buttons",
                    "action_id": WHERE_INPUT,
                    "options": where,
                    "initial_option": where[0],
                },
            },
            {
                "type": "input",
                "block_id": OPTIONS_BLOCK,
                "optional": True,
                "label": plain("Options", 2000),
                "element": {"type": "checkboxes", "action_id": OPTIONS_INPUT, "options": options},
            },
        ],
    }


def modal_values(view: dict) -> tuple[str, str, set[str]]:
    """(name, where, options) from a submitted save modal."""
    values = (view.get("state") or {}).get("values") or {}
    name = ((values.get(NAME_BLOCK) or {}).get(NAME_INPUT) or {}).get("value") or ""
    where = (((values.get(WHERE_BLOCK) or {}).get(WHERE_INPUT) or {}).get("selected_option") or {}).get("value")
    chosen = ((values.get(OPTIONS_BLOCK) or {}).get(OPTIONS_INPUT) or {}).get("selected_options") or []
    return name, where or WHERE_THREAD, {o.get("value") for o in chosen}
