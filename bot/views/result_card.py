"""The answer card: a segment (funnel, top customers with why, diff with the previous segment, how
many can be activated and an Export menu), an analytics table, or a clarifying question. Pure:
Result (and counts) in, message dict out. No e-mails."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from audiences.consent import NO_CONSENT_DATA
from audiences.screen import Screening
from bot.views.audiences import ACTION_SAVE_AUDIENCE
from bot.views.text import (
    FIELD_MAX,
    SECTION_MAX,
    button,
    code_block,
    context,
    cut,
    fallback,
    fit_blocks,
    header,
    mrkdwn,
    plain,
    scrub,
    section,
    table_lines,
    when,
)
from discovery.result import Customer, Result

TOP_WHY = 5
TABLE_ROWS = 50

ACTION_SHOW_SQL = "show_sql"
ACTION_DOWNLOAD_CSV = "download_csv"
ACTION_FEEDBACK_UP = "feedback_up"
ACTION_FEEDBACK_DOWN = "feedback_down"
ACTION_LOOKALIKE = "lookalike"  # "Find more like these": a section's button, beside the card's actions
ACTION_EXPORT = "export_menu"  # the Export menu: an option's value is `<format>:<card id>`
EXPORTS = {  # format (as in `export for meta`) → the menu's words
    "meta": "Meta Custom Audiences",
    "google": "Google Ads Customer Match",
    "csv": "CSV file",
    "json": "JSON file",
}
LEFT_OUT_WORDS = {  # audiences.screen's reasons, in the card's words
    "suppressed": "suppressed",
    "no_consent": "no consent",
    "no_email": "no e-mail",
    "gone": "no longer in the data",
}


@dataclass(frozen=True)
class Diff:
    """How a refined segment differs from the previous one in the thread."""

    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    kept: int = 0

    @classmethod
    def between(cls, previous: list[int], current: list[int]) -> Diff:
        before, now = set(previous), set(current)
        return cls(
            added=[i for i in current if i not in before],
            removed=[i for i in previous if i not in now],
            kept=len(before & now),
        )


def _ids(ids: list[int], limit: int = 15) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def diff_text(diff: Diff) -> str:
    parts = [f"*+{len(diff.added)} added*", f"*−{len(diff.removed)} removed*", f"{diff.kept} kept"]
    text = "*Compared with the previous segment:* " + " · ".join(parts)
    if diff.added:
        text += f"\n+ {_ids(diff.added)}"
    if diff.removed:
        text += f"\n− {_ids(diff.removed)}"
    return text


def _num(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return "—" if value is None else str(value)


def freshness(result: Result) -> str:
    snap = result.recipe.data_snapshot or {}
    data_max = result.data_max or snap.get("data_max")
    return f"events through {when(data_max, utc=True)[:10]}\nloaded {when(snap.get('finished_at'), utc=True)}"


def mode_text(result: Result) -> str:
    if result.mode == "agent":
        return f"LLM agent ({scrub(result.recipe.model or result.mode_reason or 'LLM')})"
    reason = f" — {scrub(result.mode_reason)}" if result.mode_reason else ""
    return "Offline planner" + reason


def cost_text(cost: float) -> str:
    if cost <= 0:
        return "$0"
    if cost >= 0.01:
        return f"${cost:,.2f}"
    return "$" + f"{cost:.6f}".rstrip("0")


def footer_text(result: Result, request_id: str | None = None) -> str:
    u = result.usage
    seconds = result.timings_ms.get("total", 0.0) / 1000
    model = result.recipe.model if result.mode == "agent" and result.recipe.model else "offline planner"
    tokens = u.llm_prompt_tokens + u.llm_completion_tokens
    parts = [
        f"{tokens:,} LLM tokens" + (f" ({u.llm_calls} call{'' if u.llm_calls == 1 else 's'})" if u.llm_calls else ""),
        f"{u.embedding_tokens:,} embedding tokens",
        cost_text(u.cost_usd) if u.cost_known else "cost unknown",
        f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s",
        scrub(model),
    ]
    if request_id:
        parts.append(f"request `{request_id}`")
    return " · ".join(parts)


def customer_table(customers: list[Customer], *, more_in_file: bool = True) -> str:
    head = ["#", "name", "country", "spent", "interests", "score"]
    rows = [
        [
            str(c.customer_id),
            scrub(" ".join(n for n in (c.first_name, c.last_name) if n)),  # an unknown value: left empty
            scrub(c.country),
            "" if c.total_spent is None else f"{c.total_spent:,.0f}",
            scrub(", ".join(c.calculated_interests)),
            "—" if c.score is None else f"{c.score:.3f}",
        ]
        for c in customers[:TABLE_ROWS]
    ]
    extra = len(customers) - len(rows)
    note = "_{n} more customers in the file._" if more_in_file else "_{n} more customers not shown._"
    lines = table_lines(head, rows)
    text = code_block(lines, SECTION_MAX - 200, more_note=note)
    if extra > 0 and "more customers" not in text:
        text += "\n" + note.format(n=extra)
    return text


def analytics_table(columns: list[str], rows: list[list[Any]]) -> str:
    lines = table_lines([scrub(c) for c in columns], [[scrub(_num(v)) for v in r] for r in rows[:200]])
    return code_block(lines, SECTION_MAX - 200, more_note="_{n} more rows in the file._")


def why_text(customers: list[Customer]) -> str:
    lines = [
        f"*{c.customer_id} · {scrub(c.first_name)} {scrub(c.last_name)}* — {scrub(c.why)}" for c in customers[:TOP_WHY]
    ]
    return "*Why the top matches*\n" + "\n".join(lines)


def recipe_text(result: Result) -> str:
    parts = []
    if result.recipe.query:
        compact = json.dumps(result.recipe.query, separators=(",", ":"), ensure_ascii=False, default=str)
        parts.append("Filters `" + cut(compact.replace("`", "'"), 600, "…") + "`")
    if result.recipe.semantic_query:
        parts.append(f"semantic “{scrub(result.recipe.semantic_query)}”")
    n = len(result.recipe.sql)
    if n:
        parts.append(f"{n} SQL statement{'s' if n != 1 else ''}")
    return scrub_code(" · ".join(parts)) if parts else ""


def scrub_code(text: str) -> str:
    # The filters are data from our own typed query, but values came from the question: keep them inert.
    return text.replace("<!", "‹!").replace("<@", "‹@")


def json_preview(result: Result) -> str:
    """The contract document with customers shortened and e-mails left out (the file has them)."""
    doc = result.to_json()
    customers = [{k: v for k, v in c.items() if k != "email"} for c in doc.get("customers", [])[:3]]
    if doc.get("customers"):
        doc["customers"] = customers + (
            [f"… {len(result.customers) - 3} more in the file"] if len(result.customers) > 3 else []
        )
    doc.pop("recipe", None)
    text = json.dumps(doc, indent=1, ensure_ascii=False, default=str)
    return code_block(scrub(text).splitlines(), SECTION_MAX - 100, more_note="_the full document is attached below._")


def funnel_text(result: Result) -> str:
    f = result.funnel
    middle = "lookalike candidates" if f.stage == "lookalike" else "refined" if result.refinement else "ranked"
    return (
        f"*Funnel*\n{f.population:,} customers → {f.after_gate:,} gate → "
        f"{f.after_semantic:,} {middle} → {f.returned:,} shown"
    )


def lookalike_offer(card_id: str, result: Result) -> dict:
    """A section offering lookalikes of this card's customers (their ids travel with the card, not the button)."""
    n = len(result.customers)
    text = f"*Lookalikes* — find {n:,} more customers like these {n:,}, outside this segment."
    block = section(text)
    block["accessory"] = button("Find more like these", ACTION_LOOKALIKE, card_id)
    return block


def activation_text(result: Result, screening: Screening) -> str:
    """How many of the whole segment may leave the system (audiences' screening of every member, as
    the exports hold them), and why the others may not; "about" when estimated from the gate."""
    about = "about " if screening.about else ""
    parts = [f"{about}{n:,} {w}" for k, w in LEFT_OUT_WORDS.items() if (n := screening.left_out.get(k))]
    if screening.consent == NO_CONSENT_DATA:
        parts.append(NO_CONSENT_DATA)
    text = f"*Activatable:* {about}{screening.kept:,} of {about}{screening.total:,}"
    text += f" ({', '.join(parts)})" if parts else " (nobody left out)"
    if screening.about:
        text += ". Estimated from the whole gate's shares; exports screen every member."
    return text


def export_offer(card_id: str, result: Result, screening: Screening) -> dict:
    """The activation count, with the Export menu beside it (it does what `export for …` does)."""
    block = section(activation_text(result, screening))
    block["accessory"] = {
        "type": "static_select",
        "action_id": ACTION_EXPORT,
        "placeholder": plain("Export…", 150),
        "options": [{"text": plain(words, 75), "value": f"{fmt}:{card_id}"} for fmt, words in EXPORTS.items()],
    }
    return block


def actions(card_id: str, result: Result) -> dict:
    elements = []
    if result.recipe.sql:
        elements.append(button("Show SQL", ACTION_SHOW_SQL, card_id))
    if result.customers or result.rows:
        elements.append(button("Download CSV", ACTION_DOWNLOAD_CSV, card_id, style="primary"))
    elements.append(button("👍", ACTION_FEEDBACK_UP, card_id))
    elements.append(button("👎", ACTION_FEEDBACK_DOWN, card_id))
    if result.kind == "segment" and result.explain_customer is None and result.query is not None:
        elements.append(button("Save audience", ACTION_SAVE_AUDIENCE, card_id))
    return {"type": "actions", "block_id": f"card_{card_id}"[:255], "elements": elements}


def result_card(
    result: Result,
    *,
    card_id: str,
    diff: Diff | None = None,
    explanation: bool = False,
    request_id: str | None = None,
    hint: str | None = None,
    activation: Screening | None = None,
) -> dict:
    """The message for one answer. `diff`: the change from the thread's previous segment.
    `explanation`: the answer explains one customer (no funnel, no "why the top matches").
    `hint`: an extra line (e.g. how to invite the bot). `activation`: the screening of the segment's
    customers (counts only), shown with the Export menu."""
    blocks: list[dict] = []
    answer = scrub(result.answer) or "Done."
    if result.kind == "segment":
        blocks.append(header(("🎯 " if not explanation else "🔎 ") + (result.question or "Audience")))
    elif result.kind == "analytics":
        blocks.append(header("📊 " + (result.question or "Analytics")))
    blocks.append(section(answer))

    if diff is not None:
        blocks.append(section(diff_text(diff)))

    fields = []
    if result.kind == "segment" and not explanation:
        fields.append(mrkdwn(funnel_text(result), FIELD_MAX))
    if result.kind != "clarify":
        fields.append(mrkdwn(f"*Mode*\n{mode_text(result)}", FIELD_MAX))
        fields.append(mrkdwn(f"*Data*\n{freshness(result)}", FIELD_MAX))
    elif result.mode_reason:
        fields.append(mrkdwn(f"*Mode*\n{mode_text(result)}", FIELD_MAX))
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    if result.kind == "segment" and result.refinement and not explanation:
        blocks.append(context(f":mag: {scrub(result.refinement)}"))

    if result.kind == "segment" and result.customers:
        blocks.append(section(("*Top customers*\n" if not explanation else "") + customer_table(result.customers)))
        if not explanation:
            blocks.append(section(why_text(result.customers)))
            blocks.append(lookalike_offer(card_id, result))
            if activation is not None:
                blocks.append(export_offer(card_id, result, activation))
    elif result.kind == "analytics" and result.columns:
        blocks.append(section(analytics_table(result.columns, result.rows)))

    if result.wants_json and result.kind != "clarify":
        blocks.append(section("*JSON* (preview, without e-mails)\n" + json_preview(result)))

    if result.notes:
        notes = "\n".join(f":warning: {scrub(n)}" for n in result.notes[:10])
        blocks.append(context(cut(notes, 1900)))

    if result.kind != "clarify":
        recipe = recipe_text(result)
        if recipe:
            blocks.append(context(recipe))
        blocks.append(actions(card_id, result))
    if hint:
        blocks.append(context(hint))
    blocks.append(context(footer_text(result, request_id)))

    summary = answer if result.kind != "segment" else f"{result.funnel.returned} customers: {answer}"
    return {"text": fallback(summary), "blocks": fit_blocks(blocks)}


def is_breakdown(result: Result) -> bool:
    """An analytics answer worth a bar chart: ≥ 2 rows, 2 columns, numeric last column."""
    return (
        result.kind == "analytics"
        and len(result.columns) == 2
        and len(result.rows) >= 2
        and all(isinstance(r[-1], int | float) and not isinstance(r[-1], bool) for r in result.rows)
    )
