"""python -m discovery ask "question" [--json] [--offline] [--debug] [--conversation FILE];
python -m discovery (interactive).

--conversation FILE continues a conversation across calls, as a Slack thread does: the thread's
memory (turns, the last plan, the last segment's customer ids — never e-mails) is read from FILE
(a new conversation when it does not exist) and written back after the answer, atomically."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from cdp.errors import CDPError
from cdp.settings import Settings, get_settings
from discovery import llm_health
from discovery.errors import DiscoveryError
from discovery.result import Result, Usage

if TYPE_CHECKING:
    from discovery.lookalike import SeedResolver

EXAMPLES = (
    "How many customers are in the database?",
    "Find blue-themed customers from Germany who spent more than 500.",
    "Suggest a list of customers interested in jacket and shoes.",
    "Find customers who bought red socks in the last 6 months and like luxury. Show them as JSON.",
    "Recommend an audience for a luxury high-end fashion campaign in Poland.",
    "Suggest customers for a luxury red-themed fashion campaign.",
    "Find users who bought socks and are interested in high-end lifestyle.",
)


def _money(amount: float | None) -> str:
    return f"{amount:>9,.2f}" if amount is not None else f"{'?':>9}"


def render_text(r: Result, top: int = 10) -> str:
    out = [f"[{r.mode}] {r.answer}"]
    if r.mode_reason and r.mode == "offline":
        out.append(f"  (offline planner: {r.mode_reason})")
    for note in r.notes:
        out.append(f"  note: {note}")
    if r.kind == "segment" and r.customers:
        f = r.funnel
        out.append(
            f"  funnel: population {f.population:,} → gate {f.after_gate:,} → {f.stage} {f.after_semantic:,} → returned {f.returned}"
        )
        for c in r.customers[:top]:
            score = f"{c.score:.2f}" if c.score is not None else "  - "
            out.append(
                f"  #{c.customer_id:<7} {c.first_name or ''} {(c.last_name or '')[:1]}. {c.country or '--'} "
                f"{'?' if c.age is None else c.age:>3}y spent {_money(c.total_spent)}  "
                f"{', '.join(c.calculated_interests):<24} score {score}  why: {c.why}"
            )
        if len(r.customers) > top:
            out.append(f"  … and {len(r.customers) - top} more (use --json for all)")
    if r.kind == "analytics" and r.rows:
        out.append("  " + " | ".join(r.columns))
        for row in r.rows[:20]:
            out.append("  " + " | ".join(str(v) for v in row))
    u = r.usage
    out.append(
        f"  {u.llm_calls} LLM calls · {u.llm_prompt_tokens + u.llm_completion_tokens} tokens · "
        f"{u.embedding_tokens} embedding tokens · {cost_text(u)} · {r.timings_ms.get('total', 0) / 1000:.2f}s"
    )
    return "\n".join(out)


class ConversationFileError(DiscoveryError):
    """The --conversation file cannot be read as a conversation."""


def load_conversation(path: Path) -> dict | None:
    """The stored conversation, or None when the file does not exist yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConversationFileError(
            f"{path} is not a conversation file ({type(exc).__name__}); pass another file or delete it to start anew"
        ) from exc
    if not isinstance(data, dict):
        raise ConversationFileError(f"{path} is not a conversation file; pass another file or delete it to start anew")
    return data


def save_conversation(path: Path, data: dict) -> None:
    """Write `data` to `path` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cost_text(u: Usage) -> str:
    return f"${u.cost_usd:.5f}" if u.cost_known else "cost unknown"


def check_llm_at_start(settings: Settings) -> None:
    """With a key set: say on stderr when the provider does not offer LLM_MODEL, and what to set."""
    problem = llm_health.check_model(settings)
    if problem:
        print(f"warning: {problem}. Until then the offline planner answers.", file=sys.stderr)


def main(argv: list[str] | None = None, *, seed_resolver: SeedResolver | None = None) -> int:
    """`seed_resolver`: saved audience name -> member ids, from the composition root (discovery.__main__)."""
    p = argparse.ArgumentParser(prog="python -m discovery", description="Ask the audience discovery engine.")
    p.add_argument("--offline", action="store_true", help="force the offline planner (no LLM)")
    p.add_argument("--debug", action="store_true", help="print every tool call and SQL statement")
    sub = p.add_subparsers(dest="command")
    a = sub.add_parser("ask", help="answer one question")
    a.add_argument("question")
    a.add_argument("--json", action="store_true", help="print the segment JSON document")
    a.add_argument("--offline", action="store_true", dest="offline_ask")
    a.add_argument("--debug", action="store_true", dest="debug_ask")
    a.add_argument(
        "--conversation", type=Path, metavar="FILE", help="continue the conversation kept in FILE (created when absent)"
    )
    sub.add_parser("examples", help="answer the original demo's example questions")
    args = p.parse_args(argv)
    debug = args.debug or getattr(args, "debug_ask", False)
    offline = args.offline or getattr(args, "offline_ask", False)
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
    for noisy in ("httpx", "sentence_transformers", "transformers", "urllib3", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from discovery.service import Conversation, Discovery

    try:
        settings = get_settings()
        if not offline:
            check_llm_at_start(settings)
        disc = Discovery.from_settings(settings, seed_resolver)
        if args.command == "ask":
            path = args.conversation
            conv = Conversation.from_dict(load_conversation(path)) if path else None
            r = disc.answer(args.question, conv, offline=offline)
            if path and conv is not None:
                save_conversation(path, conv.to_dict())
            print(json.dumps(r.to_json(), indent=2, default=str) if args.json else render_text(r))
            return 0
        if args.command == "examples":
            for q in EXAMPLES:
                print(f"\n> {q}")
                print(render_text(disc.answer(q, offline=offline), top=5))
            return 0
        conv = Conversation()
        print("Ask for an audience (follow-ups refine it; 'exit' to quit).")
        while True:
            try:
                q = input("audience> ").strip()
            except EOFError:
                return 0
            if q.lower() in {"exit", "quit"}:
                return 0
            if q:
                r = disc.answer(q, conv, offline=offline)
                print(json.dumps(r.to_json(), indent=2, default=str) if r.wants_json else render_text(r))
    except (CDPError, DiscoveryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        from cdp.vectors import close_qdrant

        close_qdrant()
