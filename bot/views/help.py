"""`/audience help`: what the bot does, with examples."""

from __future__ import annotations

from bot.views.text import context, fallback, header, section

EXAMPLES = (
    "How many customers are in the database?",
    "Find blue-themed customers from Germany who spent more than 500",
    "Suggest a list of customers interested in jacket and shoes",
    "Find customers who bought red socks in the last 6 months and like luxury. Show them as JSON",
    "Recommend an audience for a luxury high-end fashion campaign in Poland",
    "Customers by country",
)
FOLLOW_UPS = ("only Germany", "top 20", "why is customer 17 in?", "show them as JSON")


def help_message(command: str = "/audience") -> dict:
    examples = "\n".join(f"• `{command} {e}`" for e in EXAMPLES)
    follow = " · ".join(f"“{f}”" for f in FOLLOW_UPS)
    blocks = [
        header("Audience Discovery"),
        section(
            "Ask for an audience in plain words. I answer with a ranked, explained segment, "
            "and attach the segment as a JSON file in the thread.\n\n" + examples
        ),
        section(
            "*Refine in the thread* — reply to my answer without mentioning me: " + follow + ". "
            "Each refinement shows what changed (+ added / − removed). "
            "“find 200 more like these” (or *Find more like these* on a card) finds lookalikes of the segment."
        ),
        section(
            "*Other ways to ask*: mention me in a channel (`@Audience customers who …`) or send me a direct message.\n"
            f"*Commands*: `{command} status` (data freshness, counts, ingestion runs, LLM or offline) · "
            f"`{command} ingest` (admins: reload the CRM and clickstream exports) · `{command} help`"
        ),
        context("Customer e-mails are never shown in channels; they are in the downloadable files only."),
    ]
    return {"text": fallback("Audience Discovery: ask for an audience in plain words"), "blocks": blocks}
