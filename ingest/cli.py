"""python -m ingest run | sample | status | suppress"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime
from pathlib import Path

from cdp.errors import CDPError
from cdp.settings import get_settings
from ingest.errors import IngestError


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "sentence_transformers", "transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ingest", description="Load CRM and clickstream CSVs into the CDP.")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="validate, load, build profiles, embed, swap")
    r.add_argument("--crm", type=Path, help="CRM customers CSV (default: CRM_CSV)")
    r.add_argument("--events", type=Path, help="clickstream events CSV (default: EVENTS_CSV)")
    r.add_argument("--mapping", type=Path, help="mapping YAML for exports in other layouts (default: INGEST_MAPPING)")
    r.add_argument("--force", action="store_true", help="run even if both files are unchanged since the last run")
    r.add_argument("--json", action="store_true", help="print the run record as JSON")
    r.add_argument(
        "--allow-shrink", action="store_true", help="allow removing more than MAX_SHRINK of the live customers"
    )
    i = sub.add_parser("inspect", help="propose a mapping (YAML on stdout) for a CRM / events export")
    i.add_argument("--crm", type=Path, required=True, help="the CRM export (.csv, .csv.gz or Parquet)")
    i.add_argument("--events", type=Path, help="the events export")
    i.add_argument("--out", type=Path, help="write the mapping to this file instead of stdout")
    s = sub.add_parser("sample", help="write synthetic files in the same format")
    s.add_argument("--customers", type=int, default=5000)
    s.add_argument("--events-per-customer", type=float, default=10)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--end", type=datetime.fromisoformat, help="last timestamp (ISO; default now)")
    s.add_argument("--cohort", type=int, default=0, help="plant a hidden cohort of N customers (ids in cohort.json)")
    st = sub.add_parser("status", help="data freshness, counts, last runs")
    st.add_argument("--json", action="store_true")
    st.add_argument("--rejects", type=int, metavar="RUN_ID", help="list the rejected lines of a run")
    su = sub.add_parser("suppress", help="add e-mails to the suppression list (stored hashed), or --remove them")
    su.add_argument("--file", type=Path, required=True, help="a CSV with an email column (or e-mails in any cell)")
    su.add_argument("--remove", action="store_true", help="lift the suppression of the file's e-mails")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if args.command == "sample":
            from ingest.sample import generate

            files = generate(args.out, args.customers, args.events_per_customer, args.seed, args.end, args.cohort)
            print(f"wrote {files.customers} customers to {files.crm} and {files.events_count} events to {files.events}")
            if files.cohort is not None:
                (args.out / "cohort.json").write_text(json.dumps(files.cohort.to_dict()))
                print(f"planted a cohort of {len(files.cohort.ids)} customers: {args.out / 'cohort.json'}")
            return 0
        if args.command == "inspect":
            return _inspect(args)
        settings = get_settings()
        if args.command == "run":
            return _run(settings, args)
        if args.command == "suppress":
            return _suppress(settings, args)
        return _status(settings, args)
    except (IngestError, CDPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the previous data is still live", file=sys.stderr)
        return 130
    finally:
        from cdp.vectors import close_qdrant

        close_qdrant()


def _inspect(args) -> int:
    from ingest.inspect import propose

    text = propose(args.crm, args.events)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        logging.getLogger(__name__).info("wrote the proposed mapping to %s", args.out)
    else:
        sys.stdout.write(text)
    return 0


def _run(settings, args) -> int:
    from ingest.pipeline import run

    crm, events = args.crm or settings.crm_csv, args.events or settings.events_csv
    if crm is None or events is None:
        print("error: give --crm and --events (or set CRM_CSV and EVENTS_CSV)", file=sys.stderr)
        return 2
    record = run(settings, crm, events, force=args.force, allow_shrink=args.allow_shrink, mapping=args.mapping)
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print(format_run(record))
    return 0


def _suppress(settings, args) -> int:
    from cdp import suppression
    from cdp.db import get_engine

    engine = get_engine(settings)
    try:
        emails = suppression.read_emails(args.file)
    except suppression.SuppressionFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.remove:
        n = suppression.remove(engine, emails)
        print(f"{n} of the file's {len(emails)} addresses were suppressed and no longer are")
    else:
        n = suppression.add(engine, emails)
        print(f"{len(emails)} addresses read, {n} newly suppressed (stored as SHA-256 hashes only)")
    print(f"the suppression list holds {suppression.count(engine)} addresses")
    return 0


def format_run(r: dict) -> str:
    if r["status"] == "unchanged":
        return f"run {r['id']}: input files unchanged since the last successful run; nothing to do (--force to reload)"
    lines = [
        f"run {r['id']}: {r['status']}",
        f"  crm:    {r['crm_loaded']} loaded, {r['crm_rejected']} rejected",
        f"  events: {r['events_loaded']} loaded, {r['events_rejected']} rejected",
        f"  profiles: +{r['profiles_added']} added, ~{r['profiles_changed']} changed, -{r['profiles_removed']} removed",
        f"  embeddings: {r['embeddings_computed']} computed ({r['texts_embedded']} distinct texts), "
        f"{r['embeddings_skipped']} skipped",
        f"  data: events {r['data_min_ts']} .. {r['data_max_ts']}",
        "  seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in (r["stage_seconds"] or {}).items()),
    ]
    for kind, reasons in (r.get("reject_reasons") or {}).items():
        if reasons:
            lines.append(
                f"  {kind if kind.endswith('stored empty') else kind + ' rejects'}: "
                + ", ".join(f"{k} ({v})" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
            )
    return "\n".join(lines)


def _status(settings, args) -> int:
    from ingest.status import status

    info = status(settings, rejects_of=args.rejects)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    if args.rejects is not None:
        print(
            f"Rejected lines of run {args.rejects}, raw as read from the file: they may hold personal data "
            "(this listing is for the operator; logs carry only line numbers and reasons)."
        )
        for r in info["rejects"]:
            print(f"{r['file']}:{r['line_no']}: {r['reason']}: {r['raw_line']}")
        return 0
    if not info["live"]:
        print("no data yet: run `python -m ingest run --crm F --events F` (or `make demo`)")
    else:
        c = info["counts"]
        vectors = "an unknown number of" if c["vectors"] is None else c["vectors"]
        print(
            f"live data: {c['customers']} customers, {c['events']} events, {c['profiles']} profiles, "
            f"{vectors} vectors in {info['collection']}"
        )
        if info.get("vector_store"):
            print(f"vectors not counted: {info['vector_store']}")
        print(f"events from {info['data_min_ts']} to {info['data_max_ts']}")
    for r in info["runs"]:
        print(f"  run {r['id']} {r['status']:<9} {r['started_at']}  {r['error'] or ''}")
    return 0
