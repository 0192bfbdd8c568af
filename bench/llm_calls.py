"""LLM calls and prompt tokens per question: our agent against the original demo's design.

python -m bench llm-calls
    Every side runs against the same scripted OpenAI-compatible server (tests/fakes/llm_server.py),
    the same LLM client class and settings (discovery.agent.make_llm: OpenRouter, metered), and the
    same data (the original demo's 500 customers / 5,000 events in the embedded stores). The
    questions and their scripts are in bench/llm_scenarios.py; the rebuilt original designs in
    bench/original_design.py.

    ours      discovery.service.Discovery.answer(offline=False): the product's ReActAgent and tools.
    original  the demo's design on the real LlamaIndex classes, in two variants (DESIGNS).

    Prompt tokens are counted on what the client sent (the fake's recorded requests) with one
    tokenizer, tiktoken cl100k_base (OpenAI chat accounting: 3 tokens a message + 3 for the reply);
    completion tokens on the scripted replies.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.llm_scenarios import NOW, SCENARIOS, Scenario, script
from bench.original_design import DESIGNS, ask
from cdp.reader import reader_engine

SEED = Path(__file__).resolve().parents[1] / "tests" / "data" / "seed"


# -- counting ----------------------------------------------------------------------------------
def tokenizer():
    """tiktoken cl100k_base, from the copy LlamaIndex ships (nothing is downloaded)."""
    import llama_index.core
    import tiktoken

    cache = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    return tiktoken.get_encoding("cl100k_base")


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return content or ""


def prompt_tokens(enc, body: dict) -> int:
    n = 3  # every reply is primed with <|start|>assistant<|message|>
    for m in body.get("messages", []):
        n += 3 + len(enc.encode(_text(m.get("content")))) + len(enc.encode(m.get("role", "")))
    if body.get("tools"):
        n += len(enc.encode(json.dumps(body["tools"])))
    return n


def kind_of(body: dict) -> str:
    msgs = body.get("messages", [])
    first = _text(msgs[0].get("content")) if msgs else ""
    if "Action Input:" in first:  # LlamaIndex's ReAct header or ours (discovery.agent.AGENT_PROMPT)
        return "ReAct step"
    if "SQLQuery:" in first and "Given an input question" in first:
        return "text-to-SQL (NLSQL)"
    if "SQL Response" in first or "SQL Response" in _text(msgs[-1].get("content")):
        return "SQL synthesis (NLSQL)"
    if any("Context information is below" in _text(m.get("content")) for m in msgs):
        return "vector synthesis"
    if "Write one PostgreSQL SELECT" in first:
        return "text-to-SQL (ours)"
    return "other"


def react_parts(enc, body: dict) -> dict[str, int]:
    """A ReAct step's prompt split into the system message (instructions + tool descriptions),
    the conversation before this question, and this question with its observations."""
    msgs = body["messages"]
    sys_t = len(enc.encode(_text(msgs[0]["content"]))) + 3 if msgs and msgs[0]["role"] == "system" else 0
    return {"system": sys_t, "rest": prompt_tokens(enc, body) - sys_t}


def system_breakdown(enc, text: str) -> dict[str, int]:
    """Tokens of a ReAct system message by part: the ReAct instructions, the tools' rendered signatures
    and docstrings, their JSON argument schemas, and the context (the system prompt). Two layouts:
    LlamaIndex's header (the reconstructions) and ours (discovery.agent.AGENT_PROMPT: context, tools
    with one line of arguments each, then the reply format)."""

    def n(t: str) -> int:
        return len(enc.encode(t))

    if "> Tool Name:" not in text:
        context, _, rest = text.partition("\nTools (")
        tools, _, fmt = ("Tools (" + rest).partition("\nReply in ")
        return {
            "ReAct instructions": n("Reply in " + fmt),
            "tool names, signatures and docstrings": n(tools),
            "tool JSON argument schemas": 0,
            "system prompt": n(context),
        }
    head, _, rest = text.partition("> Tool Name:")
    tools, _, after = ("> Tool Name:" + rest).partition("Here is some context")
    context, _, fmt = after.partition("## Output Format")
    schemas = sum(n(block.partition("Tool Args:")[2]) for block in tools.split("> Tool Name:")[1:])
    return {
        "ReAct instructions": n(head) + n(fmt),
        "tool names, signatures and docstrings": n(tools) - schemas,
        "tool JSON argument schemas": schemas,
        "system prompt": n(context),
    }


@dataclass
class Tally:
    calls: int = 0
    prompt: int = 0
    completion: int = 0
    usage_prompt: int = 0  # what the client reported (the fake's usage: characters / 4)
    usage_calls: int = 0
    by_kind: Counter = field(default_factory=Counter)
    system: int = 0  # ReAct system message tokens summed over the ReAct steps
    first_system: int = 0
    system_text: str = ""  # the first ReAct step's system message


def tally(enc, requests: list[dict], replies: list[str]) -> Tally:
    t = Tally()
    for req, reply in zip(requests, replies, strict=True):
        body = req["json"]
        p = prompt_tokens(enc, body)
        t.calls += 1
        t.prompt += p
        t.completion += len(enc.encode(reply))
        kind = kind_of(body)
        t.by_kind[kind] += p
        if kind == "ReAct step":
            s = react_parts(enc, body)["system"]
            t.system += s
            t.first_system = t.first_system or s
            t.system_text = t.system_text or _text(body["messages"][0]["content"])
    return t


# -- the run -------------------------------------------------------------------------------------
@dataclass
class Row:
    question: str
    sides: dict[str, Tally]  # "ours" and each original design


def run_scenarios(settings, scenarios: list[Scenario], server) -> list[Row]:
    """Every side over `scenarios` against `server` (a started FakeLLMServer); the stores are loaded."""
    from discovery.agent import make_llm
    from discovery.service import Conversation, Discovery

    enc = tokenizer()
    llm_settings = settings.model_copy(
        update={"openrouter_api_key": SecretStr("bench"), "llm_api_base": server.base_url, "llm_max_retries": 0}
    )
    disc = Discovery.from_settings(llm_settings)
    reader = reader_engine(disc.settings)  # the product's read-only login: views without e-mails or names

    def played(replies: list[str], fn, *args) -> tuple[Tally, Any]:
        for r in replies:
            server.enqueue(r)
        start = len(server.requests)
        value = fn(*args)
        server.assert_script_consumed()
        return tally(enc, server.requests[start:], replies), value

    rows: list[Row] = []
    conv, turns = Conversation(), {d: [] for d in DESIGNS}
    try:
        for s in scenarios:
            if not s.follow_up:
                conv, turns = Conversation(), {d: [] for d in DESIGNS}
            row = Row(s.question, {})
            t, result = played(script(s.ours, None), partial(disc.answer, now=NOW), s.question, conv)
            if result.mode != "agent":
                raise RuntimeError(f"our agent did not answer {s.question!r}: {result.mode_reason}")
            t.usage_prompt, t.usage_calls = result.usage.llm_prompt_tokens, result.usage.llm_calls
            row.sides["ours"] = t
            for d in DESIGNS:
                llm = make_llm(llm_settings, timeout_s=60)  # a fresh metered client per question, as ours
                agent = DESIGNS[d](llm_settings, disc.qdrant, disc.embedder, llm, reader)
                t, answer = played(script(s.original[d], s.answer), ask, agent, s.question, turns[d])
                t.usage_prompt, t.usage_calls = llm.usage.llm_prompt_tokens, llm.usage.llm_calls
                turns[d].append((s.question, answer))
                row.sides[d] = t
            rows.append(row)
    finally:
        reader.dispose()
    return rows


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f} %" if b else "–"


def _sum(rows: list[Row], side: str) -> Tally:
    out = Tally()
    for r in rows:
        t = r.sides[side]
        out.calls += t.calls
        out.prompt += t.prompt
        out.completion += t.completion
        out.usage_prompt += t.usage_prompt
        out.usage_calls += t.usage_calls
        out.by_kind.update(t.by_kind)
        out.system += t.system
        out.first_system = out.first_system or t.first_system
        out.system_text = out.system_text or t.system_text
    return out


def report(rows: list[Row], enc) -> str:
    designs = [k for k in rows[0].sides if k != "ours"]
    head = "| question | calls: ours | " + " | ".join(f"{d} (ratio)" for d in designs)
    head += " | prompt tokens: ours | " + " | ".join(f"{d} (ratio)" for d in designs) + " |"
    lines = [head, "|---" * (3 + 2 * len(designs)) + "|"]
    for label, sides in [(r.question, r.sides) for r in rows] + [
        ("**total**", {k: _sum(rows, k) for k in rows[0].sides})
    ]:
        o = sides["ours"]
        calls = " | ".join(f"{sides[d].calls} ({_pct(o.calls, sides[d].calls)})" for d in designs)
        prompt = " | ".join(f"{sides[d].prompt:,} ({_pct(o.prompt, sides[d].prompt)})" for d in designs)
        lines.append(f"| {label} | {o.calls} | {calls} | {o.prompt:,} | {prompt} |")
    out = ["\n".join(lines), ""]
    for side in rows[0].sides:
        t = _sum(rows, side)
        parts = ", ".join(f"{k} {v:,} ({_pct(v, t.prompt)})" for k, v in t.by_kind.most_common())
        out.append(
            f"- {side}: {t.calls} calls, {t.prompt:,} prompt + {t.completion:,} completion tokens; by call kind: {parts}. "
            f"ReAct system message {t.first_system:,} tokens a step, {t.system:,} over all steps ({_pct(t.system, t.prompt)}). "
            f"As the client metered it (the fake reports characters / 4): {t.usage_calls} calls, {t.usage_prompt:,} prompt tokens"
        )
        parts = system_breakdown(enc, t.system_text)
        out.append("  - its ReAct system message: " + ", ".join(f"{k} {v:,}" for k, v in parts.items()))
    return "\n".join(out) + "\n"


def llm_calls() -> str:
    from bench.stores import temp_stores
    from ingest.pipeline import run
    from ingest.progress import Progress
    from tests.fakes.llm_server import FakeLLMServer

    with temp_stores("bench-llm-", openrouter_api_key=None) as settings:
        t0 = time.perf_counter()
        run(settings, SEED / "crm_customers.csv", SEED / "clickstream_events.csv", progress=Progress(False))
        build = time.perf_counter() - t0
        t1 = time.perf_counter()
        with FakeLLMServer() as server:
            rows = run_scenarios(settings, SCENARIOS, server)
        asked = time.perf_counter() - t1
    return (
        f"- the original demo's data (500 customers / 5,000 events) ingested in {build:.0f} s; {len(rows)} questions "
        f"on {1 + len(DESIGNS)} sides in {asked:.1f} s; tokenizer tiktoken cl100k_base\n\n" + report(rows, tokenizer())
    )
