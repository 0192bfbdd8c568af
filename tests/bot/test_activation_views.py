"""The card's activation line and Export menu, and the status line of an unusable DESTINATIONS_FILE:
pure views, validated as Slack would (no server)."""

from __future__ import annotations

import json
from collections import Counter

from audiences.screen import Screening
from bot.views.result_card import ACTION_EXPORT, result_card
from bot.views.status import status_message
from tests.bot.factories import segment
from tests.fakes.slack.blockkit import validate_message


def _menu(msg: dict) -> dict:
    (menu,) = [b["accessory"] for b in msg["blocks"] if b.get("accessory", {}).get("action_id") == ACTION_EXPORT]
    return menu


def test_a_card_showing_part_of_the_segment_counts_the_whole_segment():
    s = Screening(consent="consent required (email_opt_in)", kept=76, left_out=Counter(suppressed=3, no_consent=1))
    msg = result_card(segment(20), card_id="c1", activation=s)  # the segment has 80, 20 shown
    validate_message(msg)
    text = json.dumps(msg, ensure_ascii=False)
    assert "*Activatable:* 76 of 80 (3 suppressed, 1 no consent)" in text
    assert "shown (" not in text and "no consent data" not in text and "about" not in text
    assert [o["value"] for o in _menu(msg)["options"]] == ["meta:c1", "google:c1", "csv:c1", "json:c1"]


def test_an_estimated_count_says_about():
    s = Screening(kept=70, left_out=Counter(suppressed=6, no_email=4), about=True)
    text = json.dumps(result_card(segment(20), card_id="c5", activation=s), ensure_ascii=False)
    assert "*Activatable:* about 70 of about 80 (about 6 suppressed, about 4 no e-mail, no consent data)" in text
    assert "Estimated from the whole gate" in text


def test_a_card_holding_the_whole_segment_counts_it_without_caveat():
    whole = segment(12)
    whole.funnel.after_semantic = 12
    msg = result_card(whole, card_id="c2", activation=Screening(kept=12))
    assert "*Activatable:* 12 of 12 (no consent data)" in json.dumps(msg, ensure_ascii=False)
    assert "save the audience" not in json.dumps(msg)


def test_no_count_no_menu_and_none_on_an_explanation():
    assert "Activatable" not in json.dumps(result_card(segment(5), card_id="c3"))
    explained = result_card(segment(1), card_id="c4", explanation=True, activation=Screening(kept=1))
    assert ACTION_EXPORT not in json.dumps(explained)


def test_status_names_the_destinations_file_problem():
    problem = (
        "DESTINATIONS_FILE /srv/d.yaml, line 5: the YAML does not parse (x). Fix the file; other features keep working."
    )
    msg = status_message({}, answers_from="the offline planner", next_run=None, schedule="off",
                         destinations_problem=problem)  # fmt: skip
    validate_message(msg)
    assert ":warning: Destinations: DESTINATIONS_FILE /srv/d.yaml, line 5" in json.dumps(msg)
    assert "Destinations" not in json.dumps(status_message({}, answers_from="x", next_run=None, schedule="off"))
