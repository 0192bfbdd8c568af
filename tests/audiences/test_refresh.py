"""Saved audiences over two ingestions: the exact diff, history, vanished conditions, isolation."""

from __future__ import annotations

import pytest

from audiences.errors import BadName, NameTaken, UnknownAudience
from audiences.refresh import pending, refresh, refresh_all
from audiences.store import can_delete
from discovery.query import Behaviour
from tests.audiences.changes import buyers, read
from tests.audiences.conftest import COUNTRY, DAYS, NOW


def test_the_saved_recipe_is_the_typed_question(world):
    a = world.audiences().store.get("de buyers")
    q = a.recipe.query
    assert q.crm.countries == [COUNTRY]
    assert q.behaviours == [q.behaviours[0]] and q.behaviours[0].products == [world.product]
    assert q.behaviours[0].event_types == ["purchase"] and q.behaviours[0].window.last == DAYS
    assert a.recipe.top_n is None and a.recipe.run_id is not None and a.recipe.question.startswith("customers in")
    assert world.saved_size == len(buyers(*read(*world.v1), COUNTRY, world.product, NOW, DAYS))


def test_the_diff_after_a_changed_ingestion_equals_the_files(world):
    old = buyers(*read(*world.v1), COUNTRY, world.product, NOW, DAYS)
    new = buyers(*read(world.v2.crm, world.v2.events), COUNTRY, world.product, NOW, DAYS)
    o = world.outcomes["DE buyers"]
    assert o.status == "succeeded" and o.run_id == world.run2
    assert o.joined == sorted(new - old) and o.left == sorted(old - new)
    assert set(world.v2.gained) | set(world.v2.moved_in) <= set(o.joined)
    assert set(world.v2.removed) | set(world.v2.moved_out) <= set(o.left)
    assert (o.size_before, o.size_after) == (len(old), len(new))
    assert o.worth_posting
    assert all(o.why_joined[i].startswith(COUNTRY) for i in o.why_joined) and len(o.why_joined) == min(5, len(o.joined))
    assert {o.why_left[i] for i in world.v2.removed if i in o.why_left} <= {"no longer in the data"}
    assert "@" not in " ".join([*o.why_joined.values(), *o.why_left.values()])


def test_history_survives_a_new_process(world):
    aud = world.audiences()
    a = aud.store.get("DE BUYERS")
    log = aud.store.history(a.id)
    first_two = log[-2:]  # newest first; other tests may refresh it again later
    assert [r.trigger for r in first_two] == ["ingestion", "save"] and {r.status for r in first_two} == {"succeeded"}
    _, members = aud.store.members(a.id)
    expected = buyers(*read(world.v2.crm, world.v2.events), COUNTRY, world.product, NOW, DAYS)
    assert members.tolist() == sorted(expected)
    listing = {x.audience.name: x for x in aud.store.listing()}
    assert listing["DE buyers"].trend[:2] == [world.saved_size, len(expected)]


def test_a_vanished_product_is_reported_by_name_and_the_audience_kept(world):
    o = world.outcomes[f"{world.vanish} buyers"]
    assert o.status == "succeeded" and o.size_after == 0 and o.worth_posting
    assert any(
        n.startswith(f"product '{world.vanish}' no longer appears in the data") and n.endswith("now matches nobody")
        for n in o.notes
    ), o.notes
    assert world.audiences().store.find(f"{world.vanish} BUYERS") is not None


def test_one_failing_audience_does_not_stop_the_others(world):
    o = world.outcomes["Broken one"]
    assert o.status == "failed" and "no longer reads" in o.error and "Broken one" in o.error
    assert {x.status for n, x in world.outcomes.items() if n != "Broken one"} == {"succeeded"}
    aud = world.audiences()
    assert aud.store.history(o.audience.id)[0].status == "failed"


def test_pending_names_audiences_behind_the_live_snapshot(world):
    assert sorted(world.pending_before) == sorted(world.outcomes)
    assert pending(world.settings, aud=world.audiences()) == []


def test_an_unchanged_refresh_has_nothing_to_post(world):
    aud = world.audiences()
    o = refresh(aud, aud.store.get("DE buyers"), now=NOW)
    assert o.status == "succeeded" and not o.changed and not o.worth_posting
    assert o.size_before == o.size_after == world.outcomes["DE buyers"].size_after


def test_unknown_names_get_the_closest_ones(world):
    store = world.audiences().store
    with pytest.raises(UnknownAudience) as err:
        store.get("DE buyer")
    assert err.value.suggestions[0] == "DE buyers" and "Did you mean “DE buyers”" in str(err.value)
    with pytest.raises(UnknownAudience) as err:
        store.delete("zzzz qqqq")
    assert err.value.suggestions == [] and "List the saved audiences" in str(err.value)


def test_names_are_unique_case_insensitively_and_checked(world):
    aud = world.audiences()
    recipe = aud.store.get("DE buyers").recipe
    with pytest.raises(NameTaken) as err:
        aud.store.save("  de   BUYERS ", recipe, owner="U9")
    assert "“DE buyers” already exists" in str(err.value)
    with pytest.raises(BadName, match="needs a name"):
        aud.store.save("   ", recipe, owner="U9")
    with pytest.raises(BadName, match="81 characters"):
        aud.store.save("x" * 81, recipe, owner="U9")
    copy = recipe.model_copy(update={"query": recipe.query.model_copy(update={"behaviours": [Behaviour()]})})
    replaced = aud.store.save("Temp", copy, owner="U9")
    again = aud.store.save("TEMP", recipe, owner="U8", overwrite=True)
    assert again.id != replaced.id and aud.store.get("temp").owner == "U8"
    assert can_delete(again, "U8", set()) and can_delete(again, "A1", {"A1"}) and not can_delete(again, "U9", {"A1"})
    assert aud.store.delete("temp").name == "TEMP" and aud.store.find("temp") is None


def test_a_run_that_did_not_succeed_refreshes_nothing(world, tmp_path):
    import ingest

    with pytest.raises(ingest.IngestError):
        ingest.run(world.settings, tmp_path / "missing.csv", world.v2.events)
    aud = world.audiences()
    with aud.store.engine.connect() as conn:
        failed = conn.exec_driver_sql("SELECT max(id) FROM ingestion_runs WHERE status = 'failed'").scalar()
    before = {a.id: len(aud.store.history(a.id)) for a in aud.store.all()}
    assert refresh_all(world.settings, failed, aud=aud) == []
    assert {a.id: len(aud.store.history(a.id)) for a in aud.store.all()} == before
