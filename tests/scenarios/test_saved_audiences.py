"""Saved audiences in Slack, end to end: the real bot against the fake Slack, real PostgreSQL, Qdrant
local mode and embedder. A generated sample is ingested, a segment saved from a thread reply and from
the modal, a changed version ingested (`/audience ingest`, and `python -m ingest run` while the bot is
stopped), and the posted +/− are checked against a computation from the two CSV versions."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time

import pytest
import sqlalchemy as sa
from slack_sdk.models.views import View

import ingest
from bot.app import bot_context
from bot.views import audiences as av
from bot.views import home as hv
from cdp.db import get_engine
from tests.audiences.changes import Changed, buyers, change, read
from tests.audiences.conftest import COUNTRY, NOW, pick_products
from tests.bot.factories import EMAIL
from tests.bot.harness import button_value, card_text, loaded_database, running_bot, send_message
from tests.fakes.slack import validate_view

ALL_TIME = 100_000  # days: the saved question has no window
STATUS, CHANNEL, ADMIN, OTHER = "C_STATUS", "C_AUD", "U_ADMIN", "U_OTHER"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from ingest.sample import generate

    base = tmp_path_factory.mktemp("saved")
    v1 = generate(base / "v1", 300, 10, seed=5, end=NOW)
    product, vanish = pick_products(v1.crm, v1.events)
    v2 = change(v1.crm, v1.events, base / "v2", country=COUNTRY, product=product, vanish=vanish, now=NOW,
                days=ALL_TIME)  # fmt: skip
    return v1, v2, product, vanish


@pytest.fixture
def world(pg_server_url, tmp_path, sample):
    """v1 ingested (run 1); the nightly exports are copies of v1 that a test replaces with v2."""
    v1, v2, product, vanish = sample
    exports = tmp_path / "exports"
    exports.mkdir()
    crm, events = exports / "crm.csv", exports / "events.csv"
    shutil.copy(v1.crm, crm)
    shutil.copy(v1.events, events)
    with loaded_database(pg_server_url, tmp_path / "stores", v1.crm, v1.events) as settings:
        s = settings.model_copy(
            update={"crm_csv": crm, "events_csv": events, "status_channel": STATUS, "admin_users": ADMIN}
        )
        yield s, v1, v2, product, (crm, events), vanish


def expected(v1, v2: Changed, product: str) -> tuple[set[int], set[int]]:
    old = buyers(*read(v1.crm, v1.events), COUNTRY, product, NOW, ALL_TIME)
    new = buyers(*read(v2.crm, v2.events), COUNTRY, product, NOW, ALL_TIME)
    return old, new


def question(product: str) -> str:
    return f"customers in Germany who purchased {product}"


def in_thread(slack, thread_ts: str, contains: str, *, channel: str = CHANNEL, count: int = 1, timeout: float = 60):
    return slack.wait_message(
        lambda m: m.kind == "chat.postMessage" and m.thread_ts == thread_ts and contains in card_text(m),
        channel=channel, timeout=timeout, count=count,
    )  # fmt: skip


def told(slack, contains: str, *, count: int = 1, timeout: float = 30):
    """An ephemeral answer (through the response_url or chat.postEphemeral)."""
    return slack.wait_message(
        lambda m: m.kind in ("response_url", "chat.postEphemeral") and contains in card_text(m),
        timeout=timeout, count=count,
    )  # fmt: skip


def ask(slack, bot, text: str, channel: str = CHANNEL):
    slack.send_slash_command("/audience", text=text, channel_id=channel)
    root = slack.wait_message(
        lambda m: m.kind == "chat.postMessage" and m.thread_ts is None and text in card_text(m), channel=channel
    )
    return root, bot.card_for(channel, root.ts, timeout=60)


def listed(message, heading: str) -> list[int]:
    """The customer ids listed under `heading` (“+N joined” / “−M left”) in a refresh notice."""
    for b in message.blocks:
        text = (b.get("text") or {}).get("text", "")
        if heading in text:
            return [int(i) for i in re.findall(r"• `(\d+)`", text)]
    return []


def counted(message, sign: str, word: str) -> int:
    found = re.search(rf"\*{sign}([\d,]+) {word}\*", card_text(message))
    return int(found.group(1).replace(",", "")) if found else 0


def check_notice(notice, name: str, old: set[int], new: set[int]) -> None:
    joined, left = sorted(new - old), sorted(old - new)
    text = card_text(notice)
    assert f"*{name}*: {len(old):,} → *{len(new):,}* customers" in text
    assert counted(notice, r"\+", "joined") == len(joined) and counted(notice, "−", "left") == len(left)
    assert listed(notice, "joined*") == joined[:5] and listed(notice, "left*") == left[:5]
    assert not EMAIL.search(json.dumps(notice.blocks) + (notice.text or ""))


def no_emails_in_messages(slack) -> None:
    for m in slack.messages():
        assert not EMAIL.search(json.dumps(m.blocks or []) + (m.text or "")), m


def test_save_from_a_reply_and_the_modal_then_an_ingestion_posts_the_exact_diff(slack, world):
    settings, v1, v2, product, exports, _ = world
    old, new = expected(v1, v2, product)
    assert old != new and new - old and old - new
    slack.add_user(ADMIN, name="admin")
    with running_bot(slack, settings) as bot:
        root, card = ask(slack, bot, question(product))
        assert "save_audience" in [
            e.get("action_id") for b in card.blocks if b["type"] == "actions" for e in b["elements"]
        ]

        # bad input first: no name, too long, and no segment in a thread yet
        send_message(slack, "save as", channel=CHANNEL, thread_ts=root.ts)
        assert "needs a name" in card_text(in_thread(slack, root.ts, "needs a name"))
        send_message(slack, "save this as " + "x" * 81, channel=CHANNEL, thread_ts=root.ts)
        in_thread(slack, root.ts, "81 characters")
        _, dm = send_message(slack, "save as Nothing here", channel="D_USER", channel_type="im")
        assert "no segment to save here yet" in card_text(in_thread(slack, dm, "no segment", channel="D_USER"))

        # saved from a thread reply: its size now, what happens after each ingestion
        send_message(slack, "save as “DE buyers”", channel=CHANNEL, thread_ts=root.ts)
        saved = card_text(in_thread(slack, root.ts, "Saved the audience"))
        assert "*DE buyers*" in saved and f"*{len(old):,}* customers now" in saved and "After each ingestion" in saved
        a = bot_context(bot.app).audiences.store.get("de buyers")
        assert a.recipe.query.crm.countries == [COUNTRY] and a.recipe.query.behaviours[0].products == [product]
        assert a.recipe.query.behaviours[0].window is None and (a.channel, a.thread_ts) == (CHANNEL, root.ts)

        # the name is taken (any case): ask to overwrite or pick another; Overwrite replaces it
        send_message(slack, "save as de BUYERS", channel=CHANNEL, thread_ts=root.ts)
        taken = in_thread(slack, root.ts, "already exists")
        assert "Pick another" not in card_text(taken) and "save as &lt;another name&gt;" in card_text(taken)
        slack.send_block_action(av.ACTION_OVERWRITE, button_value(taken, av.ACTION_OVERWRITE), channel_id=CHANNEL,
                                message_ts=taken.ts)  # fmt: skip
        assert "*de BUYERS*" in card_text(in_thread(slack, root.ts, "Replaced the audience"))
        slack.add_user(OTHER, name="other")
        send_message(slack, "save as DE buyers", channel=CHANNEL, thread_ts=root.ts, user=OTHER)
        assert "Pick another name" in card_text(in_thread(slack, root.ts, "already exists", count=2))

        # the modal: errors under the name field, then saved with "always" to this thread
        slack.send_block_action(av.ACTION_SAVE_AUDIENCE, button_value(card, av.ACTION_SAVE_AUDIENCE),
                                channel_id=CHANNEL, message_ts=card.ts)  # fmt: skip
        opened = slack.wait_for("views.open", timeout=15)
        view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
        assert view["callback_id"] == av.SAVE_MODAL
        View(**view).validate_json()

        def submit(name: str, options: list[str] = ()) -> str:
            values = {
                av.NAME_BLOCK: {av.NAME_INPUT: {"type": "plain_text_input", "value": name}},
                av.WHERE_BLOCK: {av.WHERE_INPUT: {"type": "radio_buttons", "selected_option": {"value": "thread"}}},
                av.OPTIONS_BLOCK: {
                    av.OPTIONS_INPUT: {"type": "checkboxes", "selected_options": [{"value": o} for o in options]}
                },
            }
            return slack.send_view_submission(av.SAVE_MODAL, values, private_metadata=view["private_metadata"])

        assert "needs a name" in json.dumps(slack.wait_ack(submit("   ")).payload)
        assert "already exists" in json.dumps(slack.wait_ack(submit("DE BUYERS")).payload)
        assert slack.wait_ack(submit("DE buyers always", ["always"]), timeout=10).payload in (None, {})
        assert "*DE buyers always*" in card_text(in_thread(slack, root.ts, "Saved the audience", count=2))
        assert bot_context(bot.app).audiences.store.get("DE buyers always").notify == "always"

        # a changed ingestion: one notice per audience in its thread, with the exact +/−
        shutil.copy(v2.crm, exports[0])
        shutil.copy(v2.events, exports[1])
        slack.send_slash_command("/audience", text="ingest", user_id=ADMIN, channel_id=STATUS)
        first = in_thread(slack, root.ts, f"*de BUYERS*: {len(old):,} →", timeout=180)
        check_notice(first, "de BUYERS", old, new)
        check_notice(in_thread(slack, root.ts, f"*DE buyers always*: {len(old):,} →"), "DE buyers always", old, new)

        # an unchanged ingestion posts nothing
        before = len(slack.messages(CHANNEL))
        slack.send_slash_command("/audience", text="ingest", user_id=ADMIN, channel_id=STATUS)
        slack.wait_message(lambda m: "found nothing new" in card_text(m), channel=STATUS, timeout=120)
        time.sleep(1)
        assert len(slack.messages(CHANNEL)) == before

        commands_list_show_refresh_delete(slack, bot, old, new)
        home_tab(slack, bot, new)
    no_emails_in_messages(slack)
    slack.assert_all_messages_valid()


def commands_list_show_refresh_delete(slack, bot, old: set[int], new: set[int]) -> None:
    slack.send_slash_command("/audience", text="list", channel_id=CHANNEL)
    text = card_text(told(slack, "Saved audiences (2)"))
    assert "*de BUYERS*" in text and f"{len(new):,} customers" in text
    assert f"+{len(new - old)} / −{len(old - new)}" in text and f"{len(old):,} → {len(new):,}" in text

    slack.send_slash_command("/audience", text="show de buyers", channel_id=CHANNEL)
    shown = slack.wait_message(lambda m: m.kind == "chat.postMessage" and "🎯 de BUYERS" in card_text(m),
                               channel=CHANNEL, timeout=30)  # fmt: skip
    text = card_text(shown)
    assert "Definition" in text and f"*{len(new):,}* members" in text and "Top members" in text
    files = bot.files_in(CHANNEL, shown.ts, suffix=".json") + bot.files_in(CHANNEL, shown.ts, suffix=".png")
    doc = json.loads(files[0].content)
    assert doc["members"] == sorted(new) and [r["trigger"] for r in doc["refreshes"]][-1] == "save"
    assert files[1].content[:4] == b"\x89PNG" and not EMAIL.search(files[0].content.decode())

    slack.send_slash_command("/audience", text="refresh de buyers", channel_id=CHANNEL)
    assert "Unchanged" in card_text(told(slack, f"→ *{len(new):,}* customers"))
    slack.send_slash_command("/audience", text="show DE buyer", channel_id=CHANNEL)
    assert "Did you mean" in card_text(told(slack, "No saved audience is named “DE buyer”"))
    slack.send_slash_command("/audience", text="refresh nothing like it", channel_id=CHANNEL)
    told(slack, "List the saved audiences")
    slack.send_slash_command("/audience", text="delete", channel_id=CHANNEL)
    told(slack, "Say which audience")
    slack.send_slash_command("/audience", text="delete de buyers", user_id=OTHER, channel_id=CHANNEL)
    told(slack, "or an admin can delete it")
    slack.send_slash_command("/audience", text="delete DE buyers always", user_id=ADMIN, channel_id=CHANNEL)
    told(slack, "Deleted the audience *DE buyers always*")
    assert [a.name for a in bot_context(bot.app).audiences.store.all()] == ["de BUYERS"]


def home_tab(slack, bot, new: set[int]) -> None:
    slack.send_app_home_opened(user_id=OTHER)
    published = slack.wait_for(lambda c: c.method == "views.publish" and c.args.get("user_id") == OTHER, timeout=15)
    view = published.args["view"] if isinstance(published.args["view"], dict) else json.loads(published.args["view"])
    validate_view(view)
    View(**view).validate_json()
    ids = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [hv.ACTION_OPEN, hv.ACTION_REFRESH, hv.ACTION_DOWNLOAD]  # not the owner: no Delete

    slack.send_block_action(hv.ACTION_DOWNLOAD, "de BUYERS", user_id="U_USER", channel_id="")
    deadline = time.monotonic() + 60
    while len([f for f in slack.files() if f.channel == "D_U_USER"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    got = {f.name.rsplit(".", 1)[1]: f for f in slack.files() if f.channel == "D_U_USER"}
    rows = list(csv.DictReader(io.StringIO(got["csv"].content.decode())))
    assert sorted(int(r["customer_id"]) for r in rows) == sorted(new) and all("@" in r["email"] for r in rows)
    assert sorted(c["customer_id"] for c in json.loads(got["json"].content)) == sorted(new)

    slack.send_block_action(hv.ACTION_OPEN, "de BUYERS", user_id=OTHER, channel_id="")
    slack.wait_message(lambda m: "🎯 de BUYERS" in card_text(m), channel=f"D_{OTHER}", timeout=30)
    slack.send_block_action(hv.ACTION_DELETE, "de BUYERS", user_id=OTHER, channel_id="")
    told(slack, "or an admin can delete it", count=2)
    slack.send_block_action(hv.ACTION_DELETE, "de BUYERS", user_id="U_USER", channel_id="")
    told(slack, "Deleted the audience *de BUYERS*")
    final = slack.wait_for(
        lambda c: c.method == "views.publish" and c.args.get("user_id") == "U_USER" and "No saved audiences" in
        json.dumps(c.args.get("view")), timeout=15,
    )  # fmt: skip
    validate_view(final.args["view"] if isinstance(final.args["view"], dict) else json.loads(final.args["view"]))


def test_a_run_while_the_bot_was_stopped_is_caught_up_on_start(slack, world):
    settings, v1, v2, product, _, vanish = world
    old, new = expected(v1, v2, product)
    with running_bot(slack, settings) as bot:
        root, _ = ask(slack, bot, question(product))
        send_message(slack, "save as Germany buyers", channel=CHANNEL, thread_ts=root.ts)
        in_thread(slack, root.ts, "Saved the audience")
        other, _ = ask(slack, bot, f"customers who purchased {vanish}")
        for name in ("Gone product", "Broken one"):
            send_message(slack, f"save as {name}", channel=CHANNEL, thread_ts=other.ts)
            in_thread(slack, other.ts, f"*{name}*: ")
    ingest.run(settings, v2.crm, v2.events, trigger="cli")  # the terminal, while the bot is stopped
    with get_engine(settings).begin() as conn:  # as if the typed query had changed shape since it was saved
        conn.execute(sa.text("UPDATE saved_audiences SET recipe = jsonb_set(recipe, '{query,crm,retired}', 'true') "
                             "WHERE name = 'Broken one'"))  # fmt: skip
    assert not [m for m in slack.messages(CHANNEL) if "joined*" in card_text(m)]
    with running_bot(slack, settings):  # a new app on the same database
        check_notice(
            in_thread(slack, root.ts, f"*Germany buyers*: {len(old):,} →", timeout=120), "Germany buyers", old, new
        )
        gone = card_text(in_thread(slack, other.ts, "*Gone product*: ", count=2, timeout=60))
        assert f"product '{vanish}' no longer appears in the data" in gone and "now matches nobody" in gone
        assert "→ *0* customers" in gone
        broken = card_text(in_thread(slack, other.ts, "The refresh of *Broken one* failed", timeout=60))
        assert "no longer reads" in broken and "The audience is kept" in broken
    with running_bot(slack, settings) as bot:  # nothing is behind any more: nothing posted twice
        bot_context(bot.app).audiences.wait(60)
    assert (
        len([m for m in slack.messages(CHANNEL) if "*Germany buyers*: " in card_text(m) and "→" in card_text(m)]) == 1
    )
    slack.assert_all_messages_valid()


def test_guests_and_outsiders_cannot_save_or_list(slack, world):
    settings, _, _, product, _, _ = world
    slack.add_user("U_GUEST", name="guest", is_restricted=True)
    with running_bot(slack, settings.model_copy(update={"allowed_users": "U_USER"})) as bot:
        root, card = ask(slack, bot, question(product))
        send_message(slack, "save as Guest list", channel=CHANNEL, thread_ts=root.ts, user="U_GUEST")
        meta = json.dumps({"card": button_value(card, av.ACTION_SAVE_AUDIENCE), "channel": CHANNEL, "thread": root.ts})

        def submit(user: str, name: str) -> str:
            values = {
                av.NAME_BLOCK: {av.NAME_INPUT: {"type": "plain_text_input", "value": name}},
                av.WHERE_BLOCK: {av.WHERE_INPUT: {"type": "radio_buttons", "selected_option": {"value": "dm"}}},
            }
            return slack.send_view_submission(av.SAVE_MODAL, values, user_id=user, private_metadata=meta)

        slack.wait_ack(submit("U_GUEST", "Guest modal"))
        told(slack, "can't use Audience Discovery")
        slack.send_slash_command("/audience", text="list", user_id="U_GUEST", channel_id=CHANNEL)
        slack.send_app_home_opened(user_id="U_GUEST")
        refused = slack.wait_for(lambda c: c.method == "views.publish" and c.args.get("user_id") == "U_GUEST")
        assert "can't use Audience Discovery" in json.dumps(refused.args["view"])
        time.sleep(1)
        assert bot_context(bot.app).audiences.store.all() == []
        assert not [m for m in slack.messages() if "Saved audiences" in card_text(m)]
        slack.wait_ack(submit("U_USER", "To my DM"))  # an allowed user: notices go to a direct message
        assert "post in a direct message who joined" in card_text(in_thread(slack, root.ts, "*To my DM*"))
        [a] = bot_context(bot.app).audiences.store.all()
        assert (a.name, a.channel, a.thread_ts, a.notify) == ("To my DM", "D_U_USER", None, "changes")
    slack.assert_all_messages_valid()
