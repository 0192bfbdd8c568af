"""Saved audiences' Block Kit builders and the `save as` reading: pure, validated with slack_sdk's
models and the fake's Block Kit checks (no server)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

from slack_sdk.models.views import View

from audiences.model import Recipe, SavedAudience
from audiences.refresh import Outcome
from audiences.store import Listing, RefreshRecord
from bot.listeners.audiences import SaveAsk, save_request
from bot.views import audiences as v
from bot.views.home import ACTION_DELETE, home_view
from bot.views.result_card import result_card
from discovery.query import AudienceQuery, Behaviour, CRMFilter
from tests.bot.factories import EMAIL, segment
from tests.fakes.slack import validate_message, validate_view

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
IDS = itertools.count(1)


def audience(i: int = 1, *, name: str = "DE socks", owner: str = "U1", notify: str = "changes") -> SavedAudience:
    q = AudienceQuery(crm=CRMFilter(countries=["DE"]), behaviours=[Behaviour(event_types=["purchase"])])
    return SavedAudience(i, name, owner, "C1", "1.1", notify, AT, Recipe(query=q, question="buyers in Germany"))


def record(size: int, added: int = 0, removed: int = 0, status: str = "succeeded") -> RefreshRecord:
    return RefreshRecord(next(IDS), 1, 3, AT, "ingestion", status, size, added, removed, [], None)


def test_save_as_is_read_from_a_reply():
    assert save_request("save as DE socks") == "DE socks"
    assert save_request("Save this as “Lapsed VIPs”") == "Lapsed VIPs"
    assert save_request("<@U_BOT> save it as x", "U_BOT") == "x"
    assert save_request("save as") == "" and save_request("save as   ") == ""
    assert save_request("only Germany") is None and save_request("save them all") is None
    ask = SaveAsk("U1", "card", "n" * 80, "C1", "1.1", "changes", "C1", "1.1")
    assert SaveAsk.from_value(ask.to_value(), "U2") == SaveAsk(
        "U2", "card", "n" * 80, "C1", "1.1", "changes", "C1", "1.1", overwrite=True
    )
    assert len(ask.to_value()) < 2000  # a button value


def test_a_refresh_notice_lists_ids_and_why_only():
    a = audience()
    joined, left = list(range(100, 112)), [7, 8]
    why = {i: f"DE · spent 10.00 · mail anna{i}@example.com" for i in joined[:5]}
    o = Outcome(a, "succeeded", 4, 40, 50, joined, left, why, {7: "no longer in the data"}, ["colour 'x' gone"])
    m = v.refresh_message(o)
    validate_message(m)
    text = json.dumps(m, ensure_ascii=False)
    assert "40 → *50* customers" in text and "+12 joined" in text and "−2 left" in text and "and 7 more" in text
    assert "`100`" in text and "`104`" in text and "`105`" not in text and "no longer in the data" in text
    assert "colour 'x' gone" in text and not EMAIL.search(text)
    failed = v.refresh_message(Outcome(a, "failed", error="the database refused"))
    validate_message(failed)
    assert "refresh of *DE socks* failed: the database refused" in failed["text"]
    unchanged = v.refresh_message(Outcome(audience(notify="always"), "succeeded", 4, 50, 50))
    assert "Unchanged" in json.dumps(unchanged)


def test_saved_list_and_card_messages_validate():
    a, b = audience(), audience(2, name="Never refreshed <!channel>", owner="U2")
    items = [Listing(a, record(50, 3, 1), [40, 45, 50]), Listing(b, None, [])]
    m = v.listing_message(items)
    validate_message(m)
    text = json.dumps(m, ensure_ascii=False)
    assert "*DE socks*" in text and "+3 / −1" in text and "40 → 50" in text and "not refreshed yet" in text
    assert "<!channel>" not in text
    assert v.trend_text([40, 45, 50]).startswith("▁") and v.trend_text([5, 5]) == "▁▁ 5 → 5"
    card = v.audience_card(a, [record(50, 3, 1)], 50, 300, [(1, "DE · spent 12.00")])
    validate_message(card)
    assert "300 customers → *50* members" in json.dumps(card, ensure_ascii=False)
    for message in (v.saved_message(Outcome(a, "succeeded", 3, None, 50)), v.deleted(a), v.problem("x <@U1>"),
                    v.name_taken("DE socks", "U1", "{}", may_overwrite=True), v.no_permission(a, "delete")):  # fmt: skip
        validate_message(message)


def test_the_home_view_and_the_modal_validate_at_any_size():
    items = [
        Listing(audience(i, name=f"audience {i}", owner="U1" if i % 2 else "U2"), record(i), [i]) for i in range(60)
    ]
    view = home_view(items, user="U1", admin=False)
    validate_view(view)
    View(**view).validate_json()
    assert len(view["blocks"]) <= 100 and "more: `/audience list`" in json.dumps(view)
    deletes = [
        e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ACTION_DELETE
    ]
    assert deletes and all(int(e["value"].split()[1]) % 2 for e in deletes)  # the owner's only
    empty = home_view([], user="U1", admin=True)
    validate_view(empty)
    modal = v.save_modal({"card": "c" * 16, "channel": "C1", "thread": "1.1"}, "customers who bought socks " * 200)
    validate_view(modal)
    View(**modal).validate_json()
    state = {"values": {v.NAME_BLOCK: {v.NAME_INPUT: {"value": " x "}},
                        v.OPTIONS_BLOCK: {v.OPTIONS_INPUT: {"selected_options": [{"value": "always"}]}}}}  # fmt: skip
    assert v.modal_values({"state": state}) == (" x ", v.WHERE_THREAD, {"always"})


def test_only_a_segment_card_offers_save_audience():
    seg = segment()
    seg.query = AudienceQuery()
    ids = lambda m: [e["action_id"] for b in m["blocks"] if b["type"] == "actions" for e in b["elements"]]  # noqa: E731
    assert v.ACTION_SAVE_AUDIENCE in ids(result_card(seg, card_id="c1"))
    seg.explain_customer = 3
    assert v.ACTION_SAVE_AUDIENCE not in ids(result_card(seg, card_id="c1", explanation=True))
