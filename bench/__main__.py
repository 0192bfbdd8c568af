"""python -m bench <benchmark> [options]; results are printed as Markdown for bench/RESULTS.md."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    sub = p.add_subparsers(dest="bench", required=True)
    for name in ("ingest-build", "ingest-scale"):
        s = sub.add_parser(name)
        s.add_argument("--customers", type=int, default=5000 if name == "ingest-build" else 1_000_000)
        s.add_argument("--events-per-customer", type=float, default=10 if name == "ingest-build" else 20)
    t = sub.add_parser("tools", help="discovery tool latency without the LLM")
    t.add_argument("--customers", type=int, default=20000)
    t.add_argument("--events-per-customer", type=float, default=10)
    b = sub.add_parser("bot-burst", help="50 slash commands against the fake Slack")
    b.add_argument("-n", type=int, default=50)
    g = sub.add_parser("gate", help="the PostgreSQL gate at scale (no vectors)")
    g.add_argument("--customers", type=int, default=1_000_000)
    g.add_argument("--events-per-customer", type=float, default=20)
    g.add_argument("--repeats", type=int, default=5)
    g.add_argument("--keep", type=Path, default=None, help="build into (or reuse) this folder instead of a temp one")
    sub.add_parser("llm-calls", help="LLM calls and prompt tokens per question: ours vs the original design")
    sub.add_parser("all", help="the quick benchmarks (make bench)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from bench import ingest_bench

    if args.bench == "tools":
        from bench.tools_bench import tools

        print(tools(args.customers, args.events_per_customer))
        return 0
    if args.bench == "gate":
        from bench.gate_bench import gate

        print(gate(args.customers, args.events_per_customer, args.repeats, args.keep))
        return 0
    if args.bench == "llm-calls":
        from bench.llm_calls import llm_calls

        print(llm_calls())
        return 0
    if args.bench == "bot-burst":
        from bench.bot_burst import burst

        print(burst(args.n))
        return 0
    if args.bench == "ingest-build":
        print(ingest_bench.build(args.customers, args.events_per_customer))
    elif args.bench == "ingest-scale":
        print(ingest_bench.scale(args.customers, args.events_per_customer))
    else:
        print(ingest_bench.build(5000, 10))
        print(ingest_bench.scale(100_000, 20))
    return 0


if __name__ == "__main__":
    sys.exit(main())
