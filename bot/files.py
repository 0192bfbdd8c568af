"""What the bot uploads: the segment JSON (the contract document), the CSV of a card, the bar
chart of a breakdown. Pure functions from documents to (filename, bytes), and `activatable`, which
leaves out of a segment document the customers who may not leave the system (suppressed; without
consent when the data has a consent column), as every export does."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from audiences.screen import blocked_ids
from bot.views.text import hide_emails

_SLUG_WORDS = """a an the of with in and or for to from on at by as is are who whom which what that this these those
    them they their it its me my we us our you your find show list give get suggest recommend identify pull
    select target build create return display tell want need please customers customer users user people
    audience audiences segment segments shoppers clients like likes liked interested into also only just
    some any all have has had been be was were do does did json can could would"""
_SLUG_STOP = frozenset(_SLUG_WORDS.split())


def slug(question: str, *, words: int = 5, max_len: int = 40) -> str:
    """`customers who bought socks and like luxury` -> `bought-socks-luxury`."""
    tokens = [t for t in re.findall(r"[a-z0-9]+", question.lower()) if t not in _SLUG_STOP]
    text = "-".join(tokens[:words])[:max_len].strip("-")
    return text or "audience"


def base_name(doc: dict) -> str:
    """`segment-bought-socks-luxury-20261123-2015` (the kind, the question, the time it was answered)."""
    kind = "analytics" if doc.get("kind") == "analytics" else "segment"
    try:
        when = datetime.fromisoformat(doc.get("generated_at") or "")
    except ValueError:
        when = datetime.now()
    return f"{kind}-{slug(doc.get('question') or '')}-{when:%Y%m%d-%H%M}"


def activatable(doc: dict, engine: Engine) -> dict:
    """The segment document without the customers who may not leave (its other keys unchanged; an
    analytics document or a segment without customers is returned as it is)."""
    customers = doc.get("customers") or []
    if doc.get("kind") == "analytics" or not customers:
        return doc
    blocked, _ = blocked_ids(engine, [c["customer_id"] for c in customers])
    if not blocked:
        return doc
    return {**doc, "customers": [c for c in customers if c["customer_id"] not in blocked]}


def json_file(doc: dict) -> tuple[str, bytes]:
    return base_name(doc) + ".json", json.dumps(doc, indent=2, ensure_ascii=False, default=str).encode("utf-8")


CSV_COLUMNS = (
    "customer_id", "first_name", "last_name", "email", "country", "age", "total_spent", "favorite_color",
    "calculated_interests", "likes_luxury", "score", "why",
)  # fmt: skip


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):  # no formulas in spreadsheets
        return "'" + value
    return value


def csv_file(doc: dict) -> tuple[str, bytes]:
    """The segment (with e-mails: the file is the segment) or the analytics rows, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    if doc.get("kind") == "analytics":
        writer.writerow(doc.get("columns") or [])
        for row in doc.get("rows") or []:
            writer.writerow([_cell(v) for v in row])
    else:
        writer.writerow(CSV_COLUMNS)
        for c in doc.get("customers") or []:
            writer.writerow([_cell(c.get(k)) for k in CSV_COLUMNS])
    return base_name(doc) + ".csv", out.getvalue().encode("utf-8")


REJECT_COLUMNS = ("file", "line", "reason", "raw_line")


def rejects_csv(run_id: int, rows: list[dict]) -> tuple[str, bytes]:
    """The rejected rows of a run (file, physical line number, reason, the raw line). E-mail addresses
    in the raw lines are hidden: the file goes to a channel; the line number finds the row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REJECT_COLUMNS)
    for r in rows:
        raw = hide_emails(r.get("raw_line") or "")
        writer.writerow([r.get("file"), r.get("line_no"), _cell(r.get("reason")), _cell(raw)])
    return f"ingestion-run-{run_id}-rejected-rows.csv", out.getvalue().encode("utf-8")


MAX_BARS = 30


def chart_png(columns: list[str], rows: list[list[Any]], title: str) -> bytes:
    """A horizontal bar chart of a two-column breakdown (matplotlib, Agg; no pyplot global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = rows[:MAX_BARS]
    labels = [str(r[0]) for r in shown][::-1]
    values = [float(r[-1]) for r in shown][::-1]
    fig = Figure(figsize=(7, max(2.5, 0.35 * len(shown) + 1.2)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    ax.barh(labels, values, color="#4A90D9")
    ax.set_xlabel(str(columns[-1]).replace("_", " "))
    ax.set_ylabel(str(columns[0]).replace("_", " "))
    more = f" (top {MAX_BARS} of {len(rows)})" if len(rows) > MAX_BARS else ""
    ax.set_title((title[:80] + ("…" if len(title) > 80 else "")) + more, fontsize=10)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,.0f}" if v == int(v) else f" {v:,.2f}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def chart_file(doc: dict) -> tuple[str, bytes]:
    return base_name(doc) + ".png", chart_png(
        doc.get("columns") or [], doc.get("rows") or [], doc.get("question") or ""
    )


def sizes_png(labels: list[str], sizes: list[int], title: str) -> bytes:
    """A small line chart of an audience's size at each refresh (oldest first)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 2.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    xs = list(range(len(sizes)))
    ax.plot(xs, sizes, marker="o", color="#4A90D9")
    ax.set_xticks(xs, labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("members")
    ax.set_ylim(bottom=0)
    ax.set_title(title[:80] + ("…" if len(title) > 80 else ""), fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
