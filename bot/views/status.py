"""`/audience status`: data freshness, counts, last and next ingestion, LLM or offline, and what is
wrong with the configuration (the LLM, DESTINATIONS_FILE)."""

from __future__ import annotations

from datetime import datetime

from bot.views.text import code_block, context, count, fallback, header, mrkdwn, scrub, section, when


def status_message(
    info: dict,
    *,
    answers_from: str,
    next_run: datetime | None,
    schedule: str,
    llm_problem: str | None = None,
    destinations_problem: str | None = None,
) -> dict:
    """`info` is ingest.status.status(settings); `answers_from` says LLM or offline planner; `llm_problem`
    what is wrong with the LLM and what to set (discovery.llm_health.problem); `destinations_problem`
    why DESTINATIONS_FILE cannot be used, its file and line (audiences.destinations.load_or_error)."""
    counts = info.get("counts") or {}
    last = info.get("last_success")
    runs = info.get("runs") or []
    if not info.get("live"):
        data = (
            "*Data*\nNo customer data yet — run `python -m ingest run --crm FILE --events FILE` or `/audience ingest`."
        )
    else:
        data = (
            f"*Data*\nevents {when(info.get('data_min_ts'))} → {when(info.get('data_max_ts'))}\n"
            f"loaded {when(last.get('finished_at') if last else None)}"
        )
    fields = [
        mrkdwn(data, 2000),
        mrkdwn(
            f"*Counts*\ncustomers {count(counts.get('customers'))} · events {count(counts.get('events'))}\n"
            f"profiles {count(counts.get('profiles'))} · vectors {count(counts.get('vectors'))}",
            2000,
        ),
        mrkdwn(
            f"*Last ingestion*\n{_run_line(runs[0]) if runs else 'never'}",
            2000,
        ),
        mrkdwn(f"*Next ingestion*\n{when(next_run)} (`{scrub(schedule)}`)", 2000),
        mrkdwn(f"*Answers from*\n{scrub(answers_from)}", 2000),
    ]
    blocks = [header("Audience Discovery status"), {"type": "section", "fields": fields}]
    if runs:
        lines = [_run_line(r) for r in runs]
        blocks.append(section("*Recent runs*\n" + code_block(lines, 2900)))
    if llm_problem:
        blocks.append(context(f":warning: LLM: {scrub(llm_problem)}"))
    if destinations_problem:
        blocks.append(context(f":warning: Destinations: {scrub(destinations_problem)}"))
    failed = runs[0] if runs and runs[0].get("status") == "failed" else None
    if failed and failed.get("error"):
        blocks.append(context(f":warning: last run failed: {scrub(str(failed['error']))}"))
    text = f"Status: {count(counts.get('customers'))} customers; answers from {answers_from}"
    return {"text": fallback(text), "blocks": blocks}


def _run_line(run: dict) -> str:
    seconds = run.get("stage_seconds") or {}
    total = sum(v for v in seconds.values() if isinstance(v, int | float)) if isinstance(seconds, dict) else 0
    took = f" in {total:.0f} s" if total else ""
    return (
        f"#{run.get('id')} {run.get('status')} {when(run.get('finished_at') or run.get('started_at'))}"
        f"{took} ({run.get('trigger')}; {count(run.get('crm_loaded'))} customers, {count(run.get('events_loaded'))} events)"
    )
