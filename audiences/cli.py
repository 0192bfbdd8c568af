"""python -m discovery audiences list | show NAME | refresh NAME | save NAME --question "…" | delete NAME [--json]
                                 send NAME --to DEST [--full] | export NAME --format meta|google|csv|json --out FILE

The terminal's view of saved audiences (the composition root discovery/__main__.py dispatches
here). Customer ids only: no names, no e-mails.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from pathlib import Path
from typing import Any

from audiences import delivery
from audiences import destinations as dests
from audiences.errors import AudienceError
from audiences.export import export_members
from audiences.formats import FORMAT_NAMES
from audiences.model import SavedAudience, recipe_from_result
from audiences.refresh import Audiences, Outcome, refresh, save
from audiences.store import Listing, RefreshRecord
from cdp.errors import CDPError
from cdp.settings import Settings, get_settings
from cdp.vectors import close_qdrant
from discovery.cli import load_conversation
from discovery.result import Result
from discovery.service import Conversation, Discovery

SHOWN_IDS = 10  # ids printed per list in text mode (--json prints them all)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _change(r: RefreshRecord | None) -> str:
    if r is None:
        return "not refreshed"
    if r.status == "failed":
        return "last refresh failed"
    return f"+{r.added or 0} −{r.removed or 0}"


def listing_json(x: Listing) -> dict[str, Any]:
    a, last = x.audience, x.last
    return {
        "name": a.name,
        "owner": a.owner,
        "size": x.size,
        "definition": a.recipe.describe() if a.recipe else None,
        "notify": a.notify,
        "last_refresh": None
        if last is None
        else {
            "at": last.refreshed_at.isoformat(),
            "run_id": last.run_id,
            "status": last.status,
            "added": last.added,
            "removed": last.removed,
            "error": last.error,
        },  # fmt: skip
        "trend": x.trend,
    }


def render_listing(items: list[Listing]) -> str:
    if not items:
        return 'No saved audiences yet. Save one: python -m discovery audiences save NAME --question "…"'
    out = []
    for x in items:
        size = f"{x.size:,}" if x.size is not None else "–"
        trend = " → ".join(f"{s:,}" for s in x.trend[-5:])
        at = _when(x.last.refreshed_at if x.last else None)
        out.append(f"{x.audience.name}  ({x.audience.owner})  size {size}  {_change(x.last)}  at {at}  trend {trend}")
    return "\n".join(out)


def outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "audience": o.audience.name,
        "status": o.status,
        "run_id": o.run_id,
        "size_before": o.size_before,
        "size_after": o.size_after,
        "joined": o.joined,
        "left": o.left,
        "why_joined": {str(k): v for k, v in o.why_joined.items()},
        "why_left": {str(k): v for k, v in o.why_left.items()},
        "notes": o.notes,
        "error": o.error,
        "seconds": round(o.seconds, 3),
    }


def _ids(ids: list[int], why: dict[int, str]) -> list[str]:
    lines = [f"    #{i}" + (f"  {why[i]}" if i in why else "") for i in ids[:SHOWN_IDS]]
    if len(ids) > SHOWN_IDS:
        lines.append(f"    … and {len(ids) - SHOWN_IDS:,} more (--json lists them all)")
    return lines


def render_outcome(o: Outcome) -> str:
    name = o.audience.name
    if o.status == "failed":
        return f"{name}: the refresh failed: {o.error}"
    before = "new" if o.size_before is None else f"{o.size_before:,}"
    out = [f"{name}: {before} → {o.size_after:,} customers (snapshot {o.run_id})"]
    out += [f"  note: {n}" for n in o.notes]
    if o.size_before is not None and not o.changed:
        out.append("  unchanged")
    if o.size_before is not None and o.joined:
        out += [f"  +{len(o.joined):,} joined", *_ids(o.joined, o.why_joined)]
    if o.left:
        out += [f"  −{len(o.left):,} left", *_ids(o.left, o.why_left)]
    return "\n".join(out)


def show_json(a: SavedAudience, history: list[RefreshRecord], members: list[int]) -> dict[str, Any]:
    return {
        "name": a.name,
        "owner": a.owner,
        "created_at": a.created_at.isoformat(),
        "notify": a.notify,
        "channel": a.channel,
        "thread_ts": a.thread_ts,
        "definition": a.recipe.describe() if a.recipe else None,
        "recipe": a.recipe.model_dump(mode="json") if a.recipe else None,
        "recipe_error": a.recipe_error,
        "refreshes": [
            {
                "at": r.refreshed_at.isoformat(),
                "run_id": r.run_id,
                "trigger": r.trigger,
                "status": r.status,
                "size": r.size,
                "added": r.added,
                "removed": r.removed,
                "notes": r.notes,
                "error": r.error,
            }
            for r in history
        ],  # fmt: skip
        "members": members,
    }


def render_show(doc: dict[str, Any]) -> str:
    out = [f"{doc['name']}  (owner {doc['owner']}, saved {doc['created_at'][:16]})"]
    out.append(f"  definition: {doc['definition'] or doc['recipe_error']}")
    if doc["recipe"] and doc["recipe"]["question"]:
        out.append(f"  asked as: {doc['recipe']['question']}")
    out.append(f"  members now: {len(doc['members']):,}")
    for r in doc["refreshes"][:10]:
        what = f"size {r['size']:,} (+{r['added']} −{r['removed']})" if r["status"] == "succeeded" else r["error"]
        out.append(f"  {r['at'][:16]}  {r['trigger']:<9} snapshot {r['run_id']}  {what}")
        out += [f"      note: {n}" for n in r["notes"]]
    return "\n".join(out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m discovery audiences", description="Saved audiences.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("list", "the saved audiences"),):
        s = sub.add_parser(name, help=text)
        s.add_argument("--json", action="store_true")
    for name, text in (("show", "an audience, its refreshes and members"), ("refresh", "re-evaluate it now"),
                       ("delete", "remove it and its history")):  # fmt: skip
        s = sub.add_parser(name, help=text)
        s.add_argument("name")
        s.add_argument("--json", action="store_true")
    s = sub.add_parser("save", help="save a question's segment (offline planner) or a conversation's last one")
    s.add_argument("name")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--question")
    source.add_argument("--conversation", type=Path, metavar="FILE", help="the last segment of `ask --conversation`")
    s.add_argument("--top", type=int, default=None, help="keep only the N best (an explicit top-N)")
    s.add_argument("--notify", choices=("changes", "always"), default="changes")
    s.add_argument("--overwrite", action="store_true", help="replace an audience of the same name")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("send", help="deliver it now to a destination of DESTINATIONS_FILE")
    s.add_argument("name")
    s.add_argument("--to", required=True, metavar="DEST")
    s.add_argument("--full", action="store_true", help="send the whole membership, not the delta")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("export", help="write its members (consent and suppression applied) to a file")
    s.add_argument("name")
    s.add_argument("--format", required=True, choices=FORMAT_NAMES)
    s.add_argument("--out", required=True, type=Path)
    s.add_argument("--json", action="store_true")
    return p


def _print(doc: Any, text: str, as_json: bool) -> None:
    print(json.dumps(doc, indent=2, ensure_ascii=False, default=str) if as_json else text)


def _segment_to_save(settings: Settings, args: argparse.Namespace) -> Result:
    """The question's segment, or the last segment of the conversation file (as a Slack thread's `save as`)."""
    if args.question is not None:
        return Discovery.from_settings(settings).answer(args.question, offline=True)
    conv = Conversation.from_dict(load_conversation(args.conversation))
    query = conv.last_query
    if query is None:
        return Result(kind="clarify", question="", answer="", mode="offline")  # recipe_from_result says what to do
    question = conv.turns[-1][0] if conv.turns else ""
    return Result(kind="segment", question=question, answer="", mode="offline", query=query)


def run(args: argparse.Namespace, settings: Settings) -> int:
    aud = Audiences.from_settings(settings)
    store = aud.store
    if args.command == "list":
        items = store.listing()
        _print([listing_json(x) for x in items], render_listing(items), args.json)
    elif args.command == "show":
        a = store.get(args.name)
        doc = show_json(a, store.history(a.id), store.members(a.id)[1].tolist())
        _print(doc, render_show(doc), args.json)
    elif args.command == "refresh":
        o = refresh(aud, store.get(args.name), trigger="cli")
        _print(outcome_json(o), render_outcome(o), args.json)
        return 0 if o.status == "succeeded" else 1
    elif args.command == "delete":
        a = store.delete(args.name)
        _print({"deleted": a.name}, f"Deleted “{a.name}” and its history.", args.json)
    elif args.command == "save":
        recipe = recipe_from_result(_segment_to_save(settings, args), top_n=args.top)
        owner = f"terminal:{getpass.getuser()}"
        _, o = save(aud, args.name, recipe, owner=owner, notify=args.notify, overwrite=args.overwrite)
        text = f"Saved “{o.audience.name}”: {recipe.describe()}.\n{render_outcome(o)}"
        _print(outcome_json(o), text, args.json)
    elif args.command == "send":
        dest = dests.get(dests.load(settings), args.to)
        d = delivery.send(aud, settings, store.get(args.name), dest, trigger="cli", full=args.full)
        _print(d.as_dict(), d.line(), args.json)
        return 0 if d.status == "succeeded" else 1
    elif args.command == "export":
        a = store.get(args.name)
        record, members = store.members(a.id)
        if record is None:
            raise AudienceError(f"“{a.name}” has no successful refresh yet: refresh it, then export it.")
        s = export_members(store.engine, members, args.format, args.out)
        doc = {"audience": a.name, "format": args.format, "file": str(args.out), "run_id": record.run_id,
               **s.as_dict()}  # fmt: skip
        _print(doc, f"“{a.name}” → {args.out} ({args.format}): {s.describe()}", args.json)
    return 0


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(args, settings or get_settings())
    except (AudienceError, CDPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        close_qdrant()
