"""Custom attributes at ingestion: the stages before embedding with and without ten extra CRM
columns (4 categories, 2 integers, a number, 2 yes/no, a date) read through a mapping.

python -m bench.attributes_bench --customers 100000 --events-per-customer 10
python -m bench.attributes_bench --customers 1000000 --events-per-customer 20 --gate [--keep DIR]

Three runs on the same customers and events (events canonical in all three):
  canonical  the CRM file as today (no mapping: PostgreSQL's COPY fast path)
  mapped     the same CRM columns read through a mapping (the Python reader), no attributes
  +10 attrs  the CRM file with ten extra columns, all kept as typed, indexed attributes

`--gate`: instead, build the +10 attrs data live (ingest's SQL stages and the swap, no embedding,
as `bench gate` does) and time the gate on attribute conditions, warm and repeated, beside the
plainest facts-only gate (DE, favourite blue, spent > 500) in the same run.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from datetime import date, timedelta
from pathlib import Path

from bench import gate_bench
from bench.ingest_bench import OUT, sample
from bench.stats import percentile
from bench.stores import temp_stores
from cdp.db import get_engine
from discovery.query import AttributeCondition, AudienceQuery, Behaviour, CRMFilter, TimeWindow
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


def _attr(name: str, **kw) -> AttributeCondition:
    return AttributeCondition(name=f"{name}_attr", **kw)


# (label, query): attribute conditions alone, together, and beside CRM fields and behaviours
ATTRIBUTE_GATES = [
    ("DE, favourite blue, spent > 500 (plainest, facts only)", gate_bench.GATE_QUERIES[1][1]),
    ("tier gold", AudienceQuery(attributes=[_attr("tier", values=["gold"])])),
    ("tier gold or platinum, city7", AudienceQuery(attributes=[_attr("tier", values=["gold", "platinum"]), _attr("city", values=["city7"])])),
    ("more than 10 orders", AudienceQuery(attributes=[_attr("orders", gt=10)])),
    ("opted in, DE", AudienceQuery(attributes=[_attr("opt_in", values=[True])], crm=CRMFilter(countries=["DE"]))),
    ("joined after March 2024", AudienceQuery(attributes=[_attr("joined", gt=date(2024, 3, 1))])),
    ("clv 1000-2000, not b2b", AudienceQuery(attributes=[_attr("clv", gte=1000, lte=2000), _attr("segment", values=["b2b"], exclude=True)])),
    ("via instagram, bought socks", AudienceQuery(attributes=[_attr("source", values=["instagram"])], behaviours=[Behaviour(event_types=["purchase"], products=["socks"])])),
    ("gold, 25-34, viewed in 30 days", AudienceQuery(attributes=[_attr("tier", values=["gold"])], crm=CRMFilter(min_age=25, max_age=34), behaviours=[Behaviour(event_types=["view"], window=TimeWindow(last=30))])),
]  # fmt: skip


def gate(customers: int, per: float, repeats: int, keep: Path | None) -> str:
    crm, events, n_events = sample(customers, per)
    wide = with_attributes(crm)
    with temp_stores("bench-attrs-gate-", keep=keep) as settings:
        marker = settings.data_dir / f".attrs_gate_built_{customers}_{per:g}"
        if marker.exists():
            build = f"reused the database built earlier in {settings.data_dir}"
        else:
            t0 = time.perf_counter()
            secs = gate_bench.build_live(settings, wide, events, mapping(crm.parent, True))
            secs["vacuum"] = gate_bench._vacuum(settings)
            marker.write_text("ok")
            build = (
                f"build {time.perf_counter() - t0:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in secs.items()) + ")"
            )
        de = gate_bench._gate_engine(settings)
        for _, q in ATTRIBUTE_GATES:  # warm: caches and plans
            gate_bench.gate_ids(de, q)
        ms: dict[str, list[float]] = {label: [] for label, _ in ATTRIBUTE_GATES}
        sizes: dict[str, int] = {}
        for _ in range(repeats):
            for label, q in ATTRIBUTE_GATES:
                t = time.perf_counter()
                sizes[label] = gate_bench.gate_ids(de, q)
                ms[label].append((time.perf_counter() - t) * 1000)
    plainest = percentile(ms[ATTRIBUTE_GATES[0][0]], 0.5)
    attr_lat = [v for label, _ in ATTRIBUTE_GATES[1:] for v in ms[label]]
    rows = [
        "| query | gate size | p50 | p95 | max | p95 / plainest p50 |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {label} | {sizes[label]:,} | {percentile(v, 0.5):.0f} ms | {percentile(v, 0.95):.0f} ms | "
            f"{max(v):.0f} ms | {percentile(v, 0.95) / plainest:.2f} |"
            for label, v in ms.items()
        ),
    ]
    return (
        f"- {customers:,} customers with 10 custom attributes / {n_events:,} events; {build}\n"
        f"- attribute gates ({len(ATTRIBUTE_GATES) - 1} queries × {repeats}, warm): **p50 {percentile(attr_lat, 0.5):.0f} ms, "
        f"p95 {percentile(attr_lat, 0.95):.0f} ms**, max {max(attr_lat):.0f} ms; plainest facts-only gate p50 {plainest:.0f} ms\n\n"
        + "\n".join(rows)
        + "\n"
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.attributes_bench")
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--events-per-customer", type=float, default=10)
    p.add_argument("--runs", default="canonical,mapped,+10 attrs", help="which of the three runs, comma-separated")
    p.add_argument("--gate", action="store_true", help="time the gate on attribute conditions instead")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--keep", type=Path, default=None, help="build into (or reuse) this folder (with --gate)")
    args = p.parse_args()
    if args.gate:
        print(gate(args.customers, args.events_per_customer, args.repeats, args.keep))
        return
    crm, events, n_events = sample(args.customers, args.events_per_customer)
    wide = with_attributes(crm)
    OUT.mkdir(exist_ok=True)
    plans = {
        "canonical": (crm, None),
        "mapped": (crm, mapping(crm.parent, False)),
        "+10 attrs": (wide, mapping(crm.parent, True)),
    }
    chosen = [name for name in plans if name in args.runs.split(",")]
    runs = {name: timed(plans[name][0], events, plans[name][1]) for name in chosen}
    base_name = chosen[0]
    base = runs[base_name][0]
    print(f"{args.customers:,} customers / {n_events:,} events, stages before embedding:")
    for name, (wall, stages) in runs.items():
        detail = ", ".join(f"{k} {v:.1f}s" for k, v in stages.items())
        print(f"- {name:<10} {wall:6.1f} s ({wall / base:.2f}× {base_name})  [{detail}]")
    if "mapped" in runs and "+10 attrs" in runs:
        print(f"- +10 attrs / mapped: {runs['+10 attrs'][0] / runs['mapped'][0]:.2f}×")


if __name__ == "__main__":
    main()
