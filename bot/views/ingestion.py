"""Messages of an ingestion run in the status channel: started (updated at each stage), the
outcome, "already running", "missed". Pure functions of run records (ingest.runs rows)."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any

from bot.views.text import code_block, context, count, fallback, header, message, mrkdwn, scrub, section, when

STAGES = (
    ("hash", "files"),
    ("load", "load"),
    ("validate", "validate"),
    ("profiles", "profiles"),
    ("embed", "embeddings"),
    ("swap", "switch to the new data"),
)
_ORDER = {key: i for i, (key, _) in enumerate(STAGES)}
FILES = (("crm", "CRM"), ("events", "Events"))


def who(trigger: str) -> str:
    """`schedule` → the nightly schedule; `slack:U123` → <@U123>; anything else as is."""
    if trigger == "schedule":
        return "the nightly schedule"
    if trigger.startswith("slack:"):
        return f"<@{trigger.removeprefix('slack:')}>"
    return scrub(trigger)


def stage_line(done: str | None) -> str:
    """✅ for the stages up to `done`, ⏳ for the next one, ◻️ for the rest."""
    at = _ORDER[done] + 1 if done in _ORDER else 0
    marks = ("✅" if i < at else "⏳" if i == at else "◻️" for i in range(len(STAGES)))
    return " → ".join(f"{m} {label}" for m, (_, label) in zip(marks, STAGES, strict=True))


def run_started(run_id: int, trigger: str, crm: str, events: str, *, done: str | None = None) -> dict:
    """Posted when a run has the lock; updated after each stage, then replaced by the outcome."""
    text = f":hourglass_flowing_sand: Ingestion run #{run_id} started by {who(trigger)}"
    files = f"`{_name(crm)}` and `{_name(events)}`"
    return {
        "text": fallback(f"Ingestion run #{run_id} started"),
        "blocks": [section(f"{text}: {files}"), context(stage_line(done))],
    }


def run_outcome(
    run: dict, *, previous: dict | None, rejects_attached: int = 0, rejects_total: int = 0, next_run: Any = None
) -> dict:
    """The run's result: succeeded / unchanged / failed, with what a data owner checks."""
    status = run.get("status")
    if status == "failed":
        return _failed(run, previous, rejects_attached, rejects_total, next_run)
    title = f"Ingestion run #{run.get('id')} " + ("found nothing new" if status == "unchanged" else "succeeded")
    blocks = [header(("✅ " if status == "succeeded" else "💤 ") + title)]
    if status == "unchanged":
        blocks.append(
            section(
                f"Both files are unchanged since run #{previous.get('id') if previous else '?'} (same size and "
                "sha256): nothing was loaded and 0 embeddings were computed. The data stays as it was."
            )
        )
    blocks.append({"type": "section", "fields": _file_fields(run, previous) + _change_fields(run)})
    blocks.append(section("*Seconds per stage*\n" + code_block(_stage_lines(run), 1500)))
    blocks.append(section("*Live data*\n" + _snapshot(run if status == "succeeded" else previous)))
    blocks.extend(_rejects_note(rejects_attached, rejects_total))
    blocks.append(context(f"started by {who(run.get('trigger') or '')} · next nightly run {when(next_run)}"))
    loaded = f"{count(run.get('crm_loaded'))} customers, {count(run.get('events_loaded'))} events"
    return {"text": fallback(f"{title}: {loaded}"), "blocks": blocks}


def _failed(run: dict, previous: dict | None, rejects_attached: int, rejects_total: int, next_run: Any) -> dict:
    title = f"❌ Ingestion run #{run.get('id')} failed"
    live = (
        "The previous data is still live: " + _snapshot(previous)
        if previous
        else "No data was live before this run, so there is still none."
    )
    blocks = [
        header(title),
        section(f"*Why*\n{scrub(run.get('error') or 'unknown error')}"),
        section(f"*Nothing changed.* {live}"),
    ]
    if run.get("crm_loaded") or run.get("events_loaded") or run.get("crm_rejected") or run.get("events_rejected"):
        blocks.append({"type": "section", "fields": _file_fields(run, previous)})
    blocks.extend(_rejects_note(rejects_attached, rejects_total))
    blocks.append(
        context(
            f"started by {who(run.get('trigger') or '')} · fix the files, then `/audience ingest` (admins) "
            f"or wait for the next nightly run {when(next_run)}"
        )
    )
    return {
        "text": fallback(f"Ingestion run #{run.get('id')} failed; the previous data is still live"),
        "blocks": blocks,
    }


def not_started(reason: str, *, previous: dict | None) -> dict:
    """A run that could not start (already running, files not configured)."""
    live = "The live data is " + _snapshot(previous) + "." if previous else "No data is live yet."
    text = f":hourglass: Ingestion not started: {scrub(reason)}"
    return message(text, live)


def run_missed(scheduled_for: datetime, grace_s: int, *, previous: dict | None, next_run: Any = None) -> dict:
    """The nightly run's time passed while the bot was stopped or paused for longer than the grace time."""
    text = (
        f":warning: The nightly ingestion due {when(scheduled_for)} was skipped: the bot was not running "
        f"(or was paused) until more than {_hours(grace_s)} after that time (INGEST_MISFIRE_GRACE_S)."
    )
    live = ("The live data is still " + _snapshot(previous) + ".") if previous else "No data is live yet."
    todo = f"An admin can run it now with `/audience ingest`; the next nightly run is {when(next_run)}."
    return {"text": fallback("The nightly ingestion was skipped"), "blocks": [section(text), context(live, todo)]}


# -- pieces ------------------------------------------------------------------------------------


def _name(path: str | None) -> str:
    return scrub(PurePath(path).name) if path else "—"


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return "size unknown"
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds} s"


def _file_fields(run: dict, previous: dict | None) -> list[dict]:
    fields = []
    reasons = run.get("reject_reasons") or {}
    for kind, label in FILES:
        sha = run.get(f"{kind}_sha256")
        same = bool(previous and sha and previous.get(f"{kind}_sha256") == sha and previous.get("id") != run.get("id"))
        state = f"unchanged since run #{previous['id']}" if same else "new or changed"
        lines = [
            f"*{label}* `{_name(run.get(f'{kind}_file'))}`",
            f"{_size(run.get(f'{kind}_bytes'))}, {state}" if sha else "not read",
            f"{count(run.get(f'{kind}_loaded'))} loaded · {count(run.get(f'{kind}_rejected'))} rejected",
        ]
        top = sorted((reasons.get(kind) or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        if top:
            lines.append("top reasons: " + "; ".join(f"{scrub(r)} ({n:,})" for r, n in top))
        empty = sorted((reasons.get(f"{kind} stored empty") or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        if empty:  # optional values that were missing or did not read: the rows were kept
            lines.append("kept, stored empty: " + "; ".join(f"{scrub(r)} ({n:,})" for r, n in empty))
        fields.append(mrkdwn("\n".join(lines), 2000))
    return fields


def _change_fields(run: dict) -> list[dict]:
    return [
        mrkdwn(
            f"*Customers*\n{count(run.get('profiles_added'))} added · {count(run.get('profiles_changed'))} changed · "
            f"{count(run.get('profiles_removed'))} removed",
            2000,
        ),
        mrkdwn(
            f"*Embeddings*\n{count(run.get('embeddings_computed'))} computed · "
            f"{count(run.get('embeddings_skipped'))} skipped (profile unchanged)",
            2000,
        ),
    ]


def _stage_lines(run: dict) -> list[str]:
    seconds = run.get("stage_seconds") or {}
    waits = ("index (wait)", "tables (wait)")  # time spent waiting for another thread's stages, listed too
    lines = [f"{k:<14}{v:>9.1f}" for k, v in seconds.items() if isinstance(v, int | float) and k not in waits]
    total = _elapsed(run)
    if total is not None:
        lines.append(f"{'total':<14}{total:>9.1f}")
    return lines or ["—"]


def _elapsed(run: dict) -> float | None:
    try:
        start = datetime.fromisoformat(str(run["started_at"]))
        end = datetime.fromisoformat(str(run["finished_at"]))
    except (KeyError, TypeError, ValueError):
        return None
    return (end - start).total_seconds()


def _snapshot(run: dict | None) -> str:
    if not run:
        return "none yet"
    return (
        f"snapshot of run #{run.get('id')} (loaded {when(run.get('finished_at'))}; events "
        f"{when(run.get('data_min_ts'))} → {when(run.get('data_max_ts'))}; "
        f"{count(run.get('crm_loaded'))} customers, {count(run.get('events_loaded'))} events)"
    )


def _rejects_note(attached: int, total: int) -> list[dict]:
    if not total:
        return []
    if attached >= total:
        return [context(f"The {total:,} rejected rows are attached in the thread as CSV (file, line, reason).")]
    if attached:
        return [context(f"The first {attached:,} of {total:,} rejected rows are attached in the thread as CSV.")]
    return [context(f"{total:,} rows were rejected; see them with `python -m ingest status --rejects RUN_ID`.")]
