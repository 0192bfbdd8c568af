"""The card's "Find more like these" button, end to end: the real bot against the fake Slack, real stores
(small_sample), the offline planner. The lookalikes come in the card's thread, never holding a seed, and
the thread continues from them."""

from __future__ import annotations

import json

from bot.views.result_card import ACTION_LOOKALIKE
from tests.bot.factories import EMAIL
from tests.bot.harness import card_text, json_of, running_bot, send_message


def lookalike_button(card) -> dict:
    (button,) = [
        b["accessory"] for b in card.blocks or [] if b.get("accessory", {}).get("action_id") == ACTION_LOOKALIKE
    ]
    return button


def test_find_more_like_these_button(slack, loaded):
    with running_bot(slack, loaded) as bot:
        slack.send_slash_command("/audience", text="customers who bought socks", channel_id="C8")
        root = bot.first_post("C8")
        card = bot.card_for("C8", root.ts)
        button = lookalike_button(card)
        assert button["text"]["text"] == "Find more like these"
        seeds = [c["customer_id"] for c in json_of(bot.files_in("C8", root.ts)[0])["customers"]]
        assert seeds and f"find {len(seeds)} more customers like these" in card_text(card)

        env = slack.send_block_action(ACTION_LOOKALIKE, button["value"], channel_id="C8", message_ts=root.ts)
        assert slack.wait_ack(env).latency < 3
        reply = bot.first_post("C8", thread_ts=root.ts)
        more = bot.card_for("C8", reply.ts)
        doc = json_of(bot.files_in("C8", root.ts, count=2)[1])
        ids = [c["customer_id"] for c in doc["customers"]]
        assert ids and not set(ids) & set(seeds)
        assert len(ids) == min(len(seeds), 80 - len(seeds))
        assert doc["funnel"]["stage"] == "lookalike" and doc["recipe"]["query"]["like"]["seed_ids"] == seeds
        text = card_text(more)
        assert "lookalike candidates" in text and "like seed customer" in text
        assert not EMAIL.search(json.dumps(more.blocks))
        assert bot.store.thread("C8", root.ts).segment_ids == ids

        send_message(slack, "only Germany", channel="C8", thread_ts=root.ts)  # the thread goes on from the lookalike
        narrowed = json_of(bot.files_in("C8", root.ts, count=3)[2])
        assert narrowed["recipe"]["query"]["like"]["seed_ids"] == seeds
        assert {c["country"] for c in narrowed["customers"]} <= {"DE"}
        assert not {c["customer_id"] for c in narrowed["customers"]} & set(seeds)
    slack.assert_all_messages_valid()
