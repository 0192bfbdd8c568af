"""The evaluation run: ingest the sample into the stores of `settings`, ask every case through
`Discovery.answer` (the offline planner, and the agent when an LLM key is configured), score
each last turn against its gold answer.

python -m bench eval [--offline] [--limit N] [--customers 2000] [--events-per-customer 10]
    (--limit N: N questions taken across the categories in turn) builds the sample (seed 42, ending 2026-11-01, cached in bench/out), a fresh embedded
    PostgreSQL + Qdrant in a temporary folder, runs the set and writes the report section
    of bench/RESULTS.md.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.eval.attribute_cases import ATTRIBUTE_CASES
from bench.eval.cases import ALL_CATEGORIES, ATTRS, CASES, Case
from bench.eval.gold import Data, Gold
from bench.eval.report import render, write_section
from bench.eval.score import Score, score
from bench.ingest_bench import SAMPLE_END, sample
from bench.stores import temp_stores
from cdp.settings import Settings
from discovery.result import Usage
from discovery.service import Conversation, Discovery
from ingest.pipeline import run as ingest_run
from ingest.progress import Progress
from ingest.sample import add_attributes, attribute_mapping

log = logging.getLogger(__name__)

NOW = SAMPLE_END  # the sample's end: "the last 30 days" are its last 30 days


@dataclass
class Outcome:
    case: Case
    mode: str  # offline | agent: what was asked for
    score: Score
    kind: str  # the Result's kind (of the last turn)
    answered_by: str  # the Result's mode: the agent may fall back to the offline planner
    answer: str
    seconds: float
    usage: Usage = field(default_factory=Usage)


@dataclass
class EvalRun:
    command: str
    customers: int
    events: int
    seed: int
    sample_end: datetime
    outcomes: dict[str, list[Outcome]]  # mode -> outcomes, in case order
    agent: str  # the model, or why the agent was not run
    build_seconds: float = 0.0
    wall_seconds: float = 0.0
    date: datetime = field(default_factory=lambda: datetime.now(UTC))


def select(cases: list[Case], limit: int | None) -> list[Case]:
    """All cases, or `limit` of them taken across the categories in turn (a quick run covers every category)."""
    if not limit:
        return list(cases)
    groups = [[c for c in cases if c.category == category] for category in ALL_CATEGORIES]
    order = [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]
    return order[:limit]


def ask(discovery: Discovery, case: Case, gold: Gold, *, offline: bool, now: datetime = NOW) -> Outcome:
    """Ask the case's turns in one conversation; score the last answer."""
    conversation = Conversation()
    usage = Usage()
    t0 = time.perf_counter()
    try:
        for turn in case.turns:
            result = discovery.answer(turn, conversation, offline=offline, now=now)
            usage.add(result.usage)
    except Exception as exc:  # a crash is a wrong answer, not the end of the evaluation
        log.exception("case %s failed", case.id)
        wrong = Score(False, False, f"error: {type(exc).__name__}: {exc}")
        mode = "offline" if offline else "agent"
        return Outcome(case, mode, wrong, "error", mode, str(exc), time.perf_counter() - t0, usage)
    return Outcome(
        case,
        "offline" if offline else "agent",
        score(gold, result, case.kind),
        result.kind,
        result.mode,
        result.answer,
        time.perf_counter() - t0,
        usage,
    )


def evaluate(
    discovery: Discovery, data: Data, cases: list[Case], *, modes: tuple[str, ...] = ("offline",)
) -> dict[str, list[Outcome]]:
    golds = {case.id: case.gold(data) for case in cases}
    out: dict[str, list[Outcome]] = {}
    for mode in modes:
        out[mode] = []
        for case in cases:
            outcome = ask(discovery, case, golds[case.id], offline=mode == "offline", now=data.now.to_pydatetime())
            log.info("%s %s: %s %s", mode, case.id, "right" if outcome.score.right else "WRONG", outcome.score.why)
            out[mode].append(outcome)
    return out


def run_eval(
    settings: Settings,
    crm: Path,
    events: Path,
    *,
    offline_only: bool = False,
    limit: int | None = None,
    seed: int = 42,
    command: str = "python -m bench eval",
    now: datetime = NOW,
) -> EvalRun:
    """Ingest the sample into `settings`' stores (fresh ones), then evaluate."""
    t0 = time.perf_counter()
    record = ingest_run(settings, crm, events, progress=Progress(False))
    build = time.perf_counter() - t0
    data = Data(crm, events, now)
    if record["crm_loaded"] != len(data.c) or record["events_loaded"] != len(data.e):
        raise RuntimeError(f"the stores hold other rows than the CSV files: {record}")  # gold would not apply
    discovery = Discovery.from_settings(settings)
    cases = select(CASES + ATTRIBUTE_CASES, limit)
    modes: tuple[str, ...] = ("offline",)
    if not discovery.llm_configured:
        agent = "not run (no key)"
    elif offline_only:
        agent = "not run (--offline)"
    else:
        agent, modes = settings.llm_model, ("offline", "agent")
    outcomes = evaluate(discovery, data, [c for c in cases if c.category != ATTRS], modes=modes)
    if attribute_cases := [c for c in cases if c.category == ATTRS]:
        attr_data = load_attributes(settings, crm, events, seed=seed, now=now)
        more = evaluate(Discovery.from_settings(settings), attr_data, attribute_cases, modes=modes)
        for mode in modes:
            outcomes[mode] += more[mode]
    return EvalRun(
        command=command,
        customers=len(data.c),
        events=len(data.e),
        seed=seed,
        sample_end=now,
        outcomes=outcomes,
        agent=agent,
        build_seconds=build,
        wall_seconds=time.perf_counter() - t0,
    )


def load_attributes(settings: Settings, crm: Path, events: Path, *, seed: int, now: datetime) -> Data:
    """The custom-attribute category's data: the same sample with extra CRM columns, ingested through
    its mapping (after the other categories were asked, so their answers are the plain sample's)."""
    crm_attrs = add_attributes(crm, settings.data_dir / "crm_attributes.csv", seed)
    mapping = settings.data_dir / "attribute_mapping.yml"
    mapping.write_text(attribute_mapping(), encoding="utf-8")
    record = ingest_run(settings, crm_attrs, events, progress=Progress(False), mapping=mapping)
    data = Data(crm_attrs, events, now)
    if record["crm_loaded"] != len(data.c):
        raise RuntimeError(f"the stores hold other customers than the attribute CSV file: {record}")
    return data


def main(customers: int, per: float, *, offline: bool, limit: int | None, results: Path | None, command: str) -> str:
    """The CLI: the cached sample, fresh embedded stores in a temporary folder, the report."""
    crm, events, _ = sample(customers, per)
    with temp_stores("bench-eval-", database_url=None, qdrant_url=None) as settings:
        run = run_eval(settings, crm, events, offline_only=offline, limit=limit, command=command)
    section = render(run)
    if results is not None:
        write_section(results, section)
    return section
