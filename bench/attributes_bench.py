"""Custom attributes at ingestion: the stages before embedding with and without ten extra CRM
columns (4 categories, 2 integers, a number, 2 yes/no, a date) read through a mapping.

python -m bench.attributes_bench --customers 100000 --events-per-customer 10

Three runs on the same customers and events (events canonical in all three):
  canonical  the CRM file as today (no mapping: PostgreSQL's COPY fast path)
  mapped     the same CRM columns read through a mapping (the Python reader), no attributes
  +10 attrs  the CRM file with ten extra columns, all kept as typed, indexed attributes
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from datetime import date, timedelta
from pathlib import Path

from bench.ingest_bench import OUT, sample
from bench.stores import temp_stores
from cdp.db import get_engine
from ingest.files import CRM
from ingest.pipeline import run
from ingest.progress import Progress

EXTRA = {
    "tier": ("category", lambda r: r.choice(("bronze", "silver", "gold", "platinum"))),
    "city": ("category", lambda r: r.choice([f"city{i}" for i in range(40)])),
    "source": ("category", lambda r: r.choice(("instagram", "google", "newsletter", "referral", "tiktok"))),
    "segment": ("category", lambda r: r.choice(("b2c", "b2b", "staff"))),
    "orders": ("integer", lambda r: str(r.randrange(0, 60))),
    "visits": ("integer", lambda r: str(r.randrange(0, 500))),
    "clv": ("number", lambda r: f"{r.random() * 5000:.2f}"),
    "opt_in": ("boolean", lambda r: r.choice(("yes", "no"))),
    "sms_ok": ("boolean", lambda r: r.choice(("yes", "no"))),
    "joined": ("date", lambda r: (date(2020, 1, 1) + timedelta(days=r.randrange(0, 2000))).isoformat()),
}


def with_attributes(crm: Path) -> Path:
    out = crm.with_name("crm_with_attributes.csv")
    if out.exists():
        return out
    rnd = random.Random(5)
    with open(crm, encoding="utf-8", newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
        writer.writerow([*next(reader), *EXTRA])
        for row in reader:
            writer.writerow([*row, *(make(rnd) for _, make in EXTRA.values())])
    return out


def mapping(folder: Path, attributes: bool) -> Path:
    lines = ["crm:", "  fields:", *(f"    {c}: {c}" for c in CRM.columns)]
    if attributes:
        lines.append("  attributes:")
        for name, (kind, _) in EXTRA.items():
            lines += [f"    {name}_attr:", f"      column: {name}", f"      type: {kind}"]
            if kind == "date":
                lines.append("      format: '%Y-%m-%d'")
    path = folder / f"mapping_{'attrs' if attributes else 'plain'}.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed(crm: Path, events: Path, mapping_file: Path | None) -> tuple[float, dict]:
    with temp_stores("bench-attrs-") as settings:
        get_engine(settings)
        t0 = time.perf_counter()
        record = run(settings, crm, events, embed=False, progress=Progress(False), mapping=mapping_file)
        return time.perf_counter() - t0, record["stage_seconds"]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.attributes_bench")
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--events-per-customer", type=float, default=10)
    args = p.parse_args()
    crm, events, n_events = sample(args.customers, args.events_per_customer)
    wide = with_attributes(crm)
    OUT.mkdir(exist_ok=True)
    runs = {
        "canonical": timed(crm, events, None),
        "mapped": timed(crm, events, mapping(crm.parent, False)),
        "+10 attrs": timed(wide, events, mapping(crm.parent, True)),
    }
    base = runs["canonical"][0]
    print(f"{args.customers:,} customers / {n_events:,} events, stages before embedding:")
    for name, (wall, stages) in runs.items():
        detail = ", ".join(f"{k} {v:.1f}s" for k, v in stages.items())
        print(f"- {name:<10} {wall:6.1f} s ({wall / base:.2f}× canonical)  [{detail}]")
    print(f"- +10 attrs / mapped: {runs['+10 attrs'][0] / runs['mapped'][0]:.2f}×")


if __name__ == "__main__":
    main()
