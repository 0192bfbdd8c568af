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
        section(
            "*Saved audiences* — reply `save as &lt;name&gt;` in an answer's thread (or press *Save audience*): after "
            "every ingestion I re-evaluate it and post who joined and who left in that thread.\n"
            f"`{command} list` · `{command} show NAME` (card, chart, JSON) · `{command} refresh NAME` · "
            f"`{command} delete NAME` (its owner or an admin) · the App Home tab lists them with buttons."
        ),
        section(
            "*Send it where campaigns run* — in an answer's thread: `export for meta`, `export for google` "
            "(hashed customer-list files), `export csv`, `export json`. "
            f"`{command} send NAME to DESTINATION` (its owner or an admin) delivers a saved audience to a "
            "destination your admin configured; later refreshes send who joined and who left. "
            "Suppressed customers, and those without consent when the data has a consent column, never leave."
        ),
        context("Customer e-mails are never shown in channels; they are in the downloadable files only."),
    ]
    return {"text": fallback("Audience Discovery: ask for an audience in plain words"), "blocks": blocks}
