"""Deliveries to a real local webhook receiver and a folder, on real PostgreSQL, over two ingestions:
the first delivery is the membership, the refresh after a changed ingestion sends exactly the delta
(computed here with pandas from the files), retries keep batch ids, a failed delivery changes no
state and the next one converges. No e-mail, hash or secret in any log line."""

from __future__ import annotations

import csv
import json
import logging
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

import ingest
from audiences import delivery as dl
from audiences.cli import main
from audiences.destinations import Destination
from audiences.model import recipe_from_result
from audiences.refresh import Audiences, refresh_all, save
from discovery.service import Discovery
from ingest.sample import generate
from tests.audiences.changes import Changed, buyers, change, read
from tests.audiences.conftest import COUNTRY, DAYS, NOW, pick_products
from tests.audiences.receiver import Receiver
from tests.conftest import SAMPLE_END, loaded_database

SECRET = "s3cr3t-hook-key-for-tests"
SECRET_ENV = "TEST_AUDIENCE_HOOK_SECRET"


@dataclass
class Act:
    settings: object
    v1: tuple[Path, Path]
    v2: Changed
    product: str
    receiver: Receiver
    logs: list[str]

    def aud(self) -> Audiences:
        return Audiences.from_settings(self.settings)

    def hook(self, name: str = "crm-hook", **kw) -> Destination:
        fields = dict(name=name, type="webhook", line=1, url=self.receiver.url, secret_env=SECRET_ENV,
                      on_refresh=True, batch_size=7)  # fmt: skip
        return Destination(**{**fields, **kw})

    def emails(self, version: tuple[Path, Path]) -> dict[int, str]:
        crm, _ = read(*version)
        return dict(zip(crm.customer_id.astype(int), crm.email, strict=True))


class _Capture(logging.Handler):
    def __init__(self, sink: list[str]):
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record):
        self.sink.append(record.getMessage())


@pytest.fixture(scope="module")
def act(pg_server_url, tmp_path_factory):
    base = tmp_path_factory.mktemp("activation")
    v1 = generate(base / "v1", 300, 10, seed=5, end=SAMPLE_END)
    product, vanish = pick_products(v1.crm, v1.events)
    v2 = change(v1.crm, v1.events, base / "v2", country=COUNTRY, product=product, vanish=vanish, now=NOW, days=DAYS)
    logs: list[str] = []
    handler = _Capture(logs)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    receiver = Receiver(SECRET.encode())
    mp = pytest.MonkeyPatch()
    mp.setenv(SECRET_ENV, SECRET)
    try:
        with loaded_database(pg_server_url, base / "stores", v1.crm, v1.events, delivery_backoff_s=0.05,
                             delivery_timeout_s=1.0, delivery_max_retries=3) as settings:  # fmt: skip
            aud = Audiences.from_settings(settings)
            question = f"customers in Germany who purchased {product} in the last {DAYS} days"
            result = Discovery.from_settings(settings).answer(question, offline=True, now=NOW)
            save(aud, "DE buyers", recipe_from_result(result), owner="U1", channel="C1", thread_ts="1.1", now=NOW)
            yield Act(settings, (v1.crm, v1.events), v2, product, receiver, logs)
    finally:
        mp.undo()
        receiver.stop()
        root.removeHandler(handler)
        root.setLevel(old_level)


def ids_of(bodies: list[dict], key: str) -> list[int]:
    return sorted(m["customer_id"] for b in bodies for m in b[key])


def test_first_delivery_is_the_membership_then_a_refresh_sends_exactly_the_delta(act):
    aud = act.aud()
    audience = aud.store.get("DE buyers")
    old = buyers(*read(*act.v1), COUNTRY, act.product, NOW, DAYS)
    emails1 = act.emails(act.v1)
    act.receiver.reset()
    d = dl.send(aud, act.settings, audience, act.hook())
    assert d.status == "succeeded" and d.first and d.mode == "full", d.line()
    bodies = act.receiver.accepted
    assert act.receiver.bad_signatures == 0 and len(bodies) == d.batches == -(-len(old) // 7)
    assert all(len(b["added"]) <= 7 and b["removed"] == [] and b["mode"] == "full" for b in bodies)
    assert {b["audience"] for b in bodies} == {"DE buyers"} and len({b["batch_id"] for b in bodies}) == len(bodies)
    assert ids_of(bodies, "added") == sorted(old) and d.sent == len(old)
    assert [b["batch"] for b in bodies] == list(range(1, len(bodies) + 1))
    assert [b["last"] for b in bodies] == [False] * (len(bodies) - 1) + [True]
    assert all(m["email"] == emails1[m["customer_id"]] for b in bodies for m in b["added"])
    assert "first delivery" in d.line() and "no consent data" in d.line()

    run2 = ingest.run(act.settings, act.v2.crm, act.v2.events)["id"]
    outcomes = refresh_all(act.settings, run2, now=NOW)
    act.receiver.reset()
    folder = Destination(name="ads-drop", type="folder", line=9, path=Path("/nonexistent"), format="meta")
    sent = dl.deliver_after_refresh(act.settings, outcomes, {"crm-hook": act.hook(), "ads-drop": folder})
    new = buyers(*read(act.v2.crm, act.v2.events), COUNTRY, act.product, NOW, DAYS)
    assert [x.destination for x in sent] == ["crm-hook"] and sent[0].mode == "delta"
    bodies = act.receiver.accepted
    assert {b["mode"] for b in bodies} == {"delta"} and {b["run_id"] for b in bodies} == {run2}
    assert ids_of(bodies, "added") == sorted(new - old) and ids_of(bodies, "removed") == sorted(old - new)
    emails2 = act.emails((act.v2.crm, act.v2.events))
    for m in (m for b in bodies for m in b["removed"]):
        assert m["email"] == emails2.get(m["customer_id"])  # None: no longer in the data
    assert sent[0].added == len(new - old) and sent[0].removed == len(old - new)
    assert f"+{len(new - old)} −{len(old - new)} since the last delivery" in sent[0].line()


def test_retries_keep_the_batch_id_and_each_batch_is_accepted_once(act):
    aud = act.aud()
    audience = aud.store.get("DE buyers")
    act.receiver.reset("500", "429:1", "hang:2")
    d = dl.send(aud, act.settings, audience, act.hook("retry-hook", batch_size=1000))
    assert d.status == "succeeded" and d.batches == 1, d.line()
    attempts = act.receiver.attempts
    assert [s for _, s, _ in attempts] == [500, 429, 504, 200] and len({b for b, _, _ in attempts}) == 1
    assert attempts[2][2] - attempts[1][2] >= 0.95  # Retry-After: 1 honoured
    assert [b["batch_id"] for b in act.receiver.accepted] == [attempts[0][0]]


def test_a_failed_delivery_changes_no_state_and_the_next_send_converges(act):
    aud = act.aud()
    audience = aud.store.get("DE buyers")
    _, members = aud.store.members(audience.id)
    act.receiver.reset(*["500"] * 4)
    d = dl.send(aud, act.settings, audience, act.hook("flaky"))
    assert d.status == "failed" and "HTTP 500 after 4 attempts" in d.error and "resends the same" in d.error
    tried = [b for b, _, _ in act.receiver.attempts]
    with aud.store.engine.connect() as conn:
        assert dl.last_delivered(conn, audience.id, "flaky") == (None, None)
    act.receiver.reset()
    d = dl.send(aud, act.settings, audience, act.hook("flaky"))
    assert d.status == "succeeded" and d.first and act.receiver.accepted[0]["batch_id"] == tried[0]
    assert ids_of(act.receiver.accepted, "added") == members.tolist()

    with socket.socket() as s:  # a port where nothing listens: the receiver is down for good
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    d = dl.send(aud, act.settings, audience, act.hook("flaky", url=down, mode="full"))
    assert d.status == "failed" and "could not reach the receiver at http://127.0.0.1" in d.error
    act.receiver.reset()
    d = dl.send(aud, act.settings, audience, act.hook("flaky"))
    assert d.status == "succeeded" and d.added == d.removed == 0 and act.receiver.accepted == []
    log = dl.history(aud, audience.id)
    assert [r["status"] for r in log if r["destination"] == "flaky"] == ["succeeded", "failed", "succeeded", "failed"]


def test_a_missing_secret_and_a_folder(act, tmp_path):
    aud = act.aud()
    audience = aud.store.get("DE buyers")
    act.receiver.reset()
    d = dl.send(aud, act.settings, audience, act.hook("nosecret", secret_env="NO_SUCH_SECRET_VAR"))
    assert d.status == "failed" and "environment variable NO_SUCH_SECRET_VAR, which is not set" in d.error
    assert act.receiver.attempts == []
    _, members = aud.store.members(audience.id)
    folder = Destination(name="ads-drop", type="folder", line=9, path=tmp_path / "drop", format="google")
    d = dl.send(aud, act.settings, audience, folder)
    assert d.status == "succeeded" and d.file and Path(d.file).parent == tmp_path / "drop"
    rows = list(csv.reader(Path(d.file).read_text().splitlines()))
    assert rows[0] == ["Email", "First Name", "Last Name", "Country"] and len(rows) - 1 == len(members)
    assert [p.name for p in (tmp_path / "drop").iterdir()] == [Path(d.file).name]  # no temporary file left


def test_send_and_export_from_the_terminal(act, tmp_path, capsys):
    aud = act.aud()
    _, members = aud.store.members(aud.store.get("DE buyers").id)
    out = tmp_path / "de.meta.csv"
    assert main(["export", "de buyers", "--format", "meta", "--out", str(out), "--json"], act.settings) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kept"] == len(members) and doc["consent"] == "no consent data" and out.exists()
    assert len(out.read_text().splitlines()) == len(members) + 1

    yaml_file = tmp_path / "destinations.yaml"
    yaml_file.write_text(f"destinations:\n  cli-hook:\n    type: webhook\n    url: {act.receiver.url}\n"
                         f"    secret_env: {SECRET_ENV}\n")  # fmt: skip
    settings = act.settings.model_copy(update={"destinations_file": yaml_file})
    act.receiver.reset()
    assert main(["send", "DE buyers", "--to", "cli-hook"], settings) == 0
    line = capsys.readouterr().out
    assert f"“DE buyers” → cli-hook: {len(members)} members sent (full" in line and "first delivery" in line
    assert ids_of(act.receiver.accepted, "added") == members.tolist()
    assert main(["send", "DE buyers", "--to", "cli-hok"], settings) == 1
    assert "No destination is named “cli-hok”. Did you mean “cli-hook”?" in capsys.readouterr().err
    yaml_file.write_text("destinations:\n  cli-hook:\n    type: webhook\n    url: 'unclosed\n")
    assert main(["send", "DE buyers", "--to", "cli-hook"], settings) == 1
    err = capsys.readouterr().err
    assert str(yaml_file) in err and "does not parse" in err and "line " in err


def test_no_email_hash_or_secret_in_any_log_line(act):
    text = "\n".join(act.logs)
    assert act.logs and "delivery of audience" in text
    assert "@" not in text and SECRET not in text and not re.search(r"\b[0-9a-f]{64}\b", text)
