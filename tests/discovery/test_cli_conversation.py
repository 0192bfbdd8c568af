"""`python -m discovery ask … --conversation FILE`: follow-ups and lookalikes across separate CLI calls
(real subprocesses on real stores), the file written atomically and holding no e-mails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdp.vectors import close_qdrant
from discovery.cli import ConversationFileError, load_conversation, save_conversation
from ingest.sample import generate
from tests.conftest import SAMPLE_END, loaded_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stores(pg_server_url, tmp_path_factory):
    files = generate(tmp_path_factory.mktemp("cli200"), 200, 8, seed=3, end=SAMPLE_END)
    with loaded_database(pg_server_url, tmp_path_factory.mktemp("stores"), files.crm, files.events) as settings:
        close_qdrant()  # Qdrant local mode admits one process: the CLI's
        yield settings


def ask(settings, question: str, conversation: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "DATA_DIR": str(settings.data_dir),
        "OPENROUTER_API_KEY": "",
        "INGEST_CRON": "off",
    }
    cmd = [sys.executable, "-m", "discovery", "ask", question, "--offline", "--conversation", str(conversation), *extra]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_follow_ups_and_lookalikes_continue_across_calls(stores, tmp_path):
    conv = tmp_path / "threads" / "campaign.json"  # the folder is created too
    first = ask(stores, "customers who bought socks", conv, "--json")
    assert first.returncode == 0, first.stderr
    shown = [c["customer_id"] for c in json.loads(first.stdout)["customers"]]
    stored = json.loads(conv.read_text())
    assert stored["segment_ids"] == shown and stored["turns"][0][0] == "customers who bought socks"

    more = ask(stores, "find 30 more like these", conv, "--json")
    assert more.returncode == 0, more.stderr
    doc = json.loads(more.stdout)
    ids = [c["customer_id"] for c in doc["customers"]]
    assert len(ids) == 30 and not set(ids) & set(shown)
    assert doc["funnel"]["stage"] == "lookalike" and doc["recipe"]["query"]["like"]["seed_ids"] == shown

    narrowed = ask(stores, "only Germany", conv, "--json")
    assert narrowed.returncode == 0, narrowed.stderr
    doc = json.loads(narrowed.stdout)
    assert doc["customers"] and all(c["country"] == "DE" for c in doc["customers"])
    assert doc["recipe"]["query"]["like"]["seed_ids"] == shown  # the same seeds, inside the new gate
    assert not {c["customer_id"] for c in doc["customers"]} & set(shown)

    text = conv.read_text()
    assert "@" not in text and "example.com" not in text  # the file holds no e-mails
    assert len(json.loads(text)["turns"]) == 3
    assert not [p for p in conv.parent.iterdir() if p.name != conv.name]  # no temporary file left behind

    named = ask(stores, "customers like the Nope audience", conv)  # saved audiences reach the CLI's resolver
    assert named.returncode == 0 and "There is no saved audience named “Nope”" in named.stdout

    plain = ask(stores, "top 5", conv)  # text output continues the same thread
    assert plain.returncode == 0 and "funnel: population 200 → gate" in plain.stdout and "lookalike" in plain.stdout


def test_a_file_that_is_not_a_conversation_is_refused(tmp_path):
    bad = tmp_path / "notes.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ConversationFileError, match="not a conversation file"):
        load_conversation(bad)
    bad.write_text("{broken")
    with pytest.raises(ConversationFileError, match="delete it to start anew"):
        load_conversation(bad)
    assert load_conversation(tmp_path / "absent.json") is None
    save_conversation(tmp_path / "c.json", {"turns": []})
    assert load_conversation(tmp_path / "c.json") == {"turns": []}


def test_save_as_in_a_conversation_saves_its_last_segment(stores, tmp_path):
    """`save as NAME` continues the conversation as in a Slack thread: the last segment becomes a saved audience."""
    conv = tmp_path / "thread.json"
    empty = ask(stores, "save as Nothing yet", conv)
    assert empty.returncode != 0 and "no segment to save here yet" in (empty.stdout + empty.stderr)
    first = ask(stores, "customers in Germany who bought socks", conv, "--json")
    assert first.returncode == 0, first.stderr
    gate = json.loads(first.stdout)["funnel"]["after_gate"]
    saved = ask(stores, "save as Socks DE", conv, "--json")
    assert saved.returncode == 0, saved.stderr
    doc = json.loads(saved.stdout)
    assert doc["audience"] == "Socks DE" and doc["size_after"] == gate
    assert "@" not in saved.stdout  # ids and sizes only
