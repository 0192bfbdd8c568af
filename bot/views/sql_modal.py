"""The Show SQL modal: every statement the answer ran, in full (cut only at Slack's limits)."""

from __future__ import annotations

from bot.views.text import MODAL_TITLE_MAX, SECTION_MAX, cut, escape, fit_blocks, plain, section

MAX_MODAL_BLOCKS = 100


def sql_modal(question: str, statements: list[str]) -> dict:
    blocks: list[dict] = [section("*Question*\n" + cut(question.replace("<", "&lt;"), 2000))]
    for i, sql in enumerate(statements, 1):
        body = escape(sql.replace("```", "'''"))
        chunks = [body[j : j + SECTION_MAX - 40] for j in range(0, len(body), SECTION_MAX - 40)] or [""]
        for k, chunk in enumerate(chunks):
            label = f"*{i}.*" if k == 0 else f"*{i}.* (continued)"
            blocks.append(section(f"{label}\n```{chunk}```"))
    blocks = fit_blocks(blocks, MAX_MODAL_BLOCKS, note="_The remaining statements are in the JSON file._")
    if not statements:
        blocks.append(section("_No SQL was run for this answer._"))
    return {
        "type": "modal",
        "callback_id": "sql_modal",
        "title": plain("SQL", MODAL_TITLE_MAX),
        "close": plain("Close", MODAL_TITLE_MAX),
        "blocks": blocks,
    }
