"""python -m bench <benchmark> [options]; results are printed as Markdown for bench/RESULTS.md."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from cdp.quiet import quiet_third_party

os.environ.setdefault("HF_HUB_OFFLINE", "1")
quiet_third_party()


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
    b.add_argument("--bursts", type=int, default=3)
    e = sub.add_parser("eval", help="answer quality over a labelled question set (bench/RESULTS.md)")
    e.add_argument("--offline", action="store_true", help="the offline planner only, even with an LLM key")
    e.add_argument("--limit", type=int, default=None, help="N questions, across the categories in turn")
    e.add_argument("--customers", type=int, default=2000)
    e.add_argument("--events-per-customer", type=float, default=10)
    e.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md", help="the report file")
    e.add_argument("--no-write", action="store_true", help="print the report only")
    g = sub.add_parser("gate", help="the PostgreSQL gate at scale (no vectors)")
    g.add_argument("--customers", type=int, default=1_000_000)
    g.add_argument("--events-per-customer", type=float, default=20)
    g.add_argument("--repeats", type=int, default=5)
    g.add_argument("--keep", type=Path, default=None, help="build into (or reuse) this folder instead of a temp one")
    m = sub.add_parser("embed", help="embedding backends: texts/s per batch size, cosine to torch")
    m.add_argument("--texts", type=int, default=2000)
    m.add_argument("--speed-texts", type=int, default=512)
    rk = sub.add_parser("rankings", help="the eval's intent rankings per embedding backend against torch's")
    rk.add_argument("--customers", type=int, default=2000)
    rk.add_argument("--events-per-customer", type=float, default=10)
    au = sub.add_parser("audiences", help="refreshing saved audiences after an ingestion")
    au.add_argument("--customers", type=int, default=100_000)
    au.add_argument("--events-per-customer", type=float, default=20)
    au.add_argument("--audiences", type=int, default=50)
    sub.add_parser("trust", help="the trust table: attacks, faults and bad inputs the tests try")
    r = sub.add_parser("refine", help="semantic cut methods: precision / recall on generated data")
    r.add_argument("--customers", type=int, default=2000)
    r.add_argument("--events-per-customer", type=float, default=10)
    ac = sub.add_parser("activation", help="exporting and delivering a large audience to a local webhook")
    ac.add_argument("--members", type=int, default=100_000)
    sub.add_parser("llm-calls", help="LLM calls and prompt tokens per question: ours vs the original design")
    sub.add_parser("all", help="the quick benchmarks (make bench)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    command = "-m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    print(run(args, command))
    return 0


def run(args: argparse.Namespace, command: str) -> str:
    """The chosen benchmark's Markdown (imports are per benchmark: each loads only what it measures)."""
    name = args.bench
    if name == "tools":
        from bench.tools_bench import tools

        return tools(args.customers, args.events_per_customer)
    if name == "eval":
        from bench.eval.runner import main as eval_main

        results = None if args.no_write else args.results
        return eval_main(
            args.customers,
            args.events_per_customer,
            offline=args.offline,
            limit=args.limit,
            results=results,
            command=command,
        )
    if name == "gate":
        from bench.gate_bench import gate

        return gate(args.customers, args.events_per_customer, args.repeats, args.keep)
    if name == "embed":
        from bench.embed_bench import embed

        return embed(args.texts, args.speed_texts)
    if name == "rankings":
        from bench.rankings_bench import rankings

        return rankings(args.customers, args.events_per_customer)
    if name == "audiences":
        from bench.audiences_bench import refresh_bench

        return refresh_bench(args.customers, args.events_per_customer, args.audiences)
    if name == "trust":
        from bench.trust import trust

        return trust()
    if name == "refine":
        from bench.refine_bench import refine

        return refine(args.customers, args.events_per_customer)
    if name == "activation":
        from bench.activation_bench import activation_bench

        return activation_bench(args.members)
    if name == "llm-calls":
        from bench.llm_calls import llm_calls

        return llm_calls()
    if name == "bot-burst":
        from bench.bot_burst import burst

        return burst(args.n, bursts=args.bursts)
    from bench import ingest_bench

    if name == "ingest-build":
        return ingest_bench.build(args.customers, args.events_per_customer)
    if name == "ingest-scale":
        return ingest_bench.scale(args.customers, args.events_per_customer)
    return ingest_bench.build(5000, 10) + "\n" + ingest_bench.scale(100_000, 20)  # all: the quick ones


if __name__ == "__main__":
    sys.exit(main())
