"""The destinations file: the contract's shape, and a clear answer naming the line otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiences import destinations as ds
from audiences.destinations import DestinationError, UnknownDestination
from cdp.settings import Settings
from tests.conftest import settings_fields

CONTRACT = """\
destinations:
  crm-hook:                      # the name used in `send … to crm-hook`
    type: webhook
    url: https://hooks.example.com/audiences
    secret_env: AUDIENCE_HOOK_SECRET   # the secret's environment variable, never the secret
    on_refresh: true             # deliver the delta after every refresh of an audience sent here once
  ads-drop:
    type: folder
    path: /srv/exports
    format: meta                 # meta | google | csv | json
"""


def test_the_contract_shape_parses():
    got = ds.parse(CONTRACT)
    hook, drop = got["crm-hook"], got["ads-drop"]
    assert (hook.type, hook.url, hook.secret_env, hook.on_refresh, hook.batch_size) == (
        "webhook", "https://hooks.example.com/audiences", "AUDIENCE_HOOK_SECRET", True, 1000)  # fmt: skip
    assert hook.needs_consent and hook.mode == "delta" and hook.line == 3 and hook.where == "https://hooks.example.com"
    assert (drop.type, drop.path, drop.format, drop.on_refresh) == ("folder", Path("/srv/exports"), "meta", False)
    assert ds.parse("") == {} and ds.parse("destinations: {}\n") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CONTRACT.replace("    type: folder\n", "    type: folder\n   bad: [\n"), "line 9: the YAML does not parse"),
        (CONTRACT.replace("format: meta", "format: tiktok"), "line 8, destination “ads-drop”: format must be one of"),
        (CONTRACT.replace("on_refresh: true", "on_refresh: true\n    secret: abc"), "unknown key secret for a webhook"),
        (CONTRACT.replace("secret_env: AUDIENCE_HOOK_SECRET", "secret_env: hunter2 is my secret"),
         "secret_env must name the environment variable"),
        (CONTRACT.replace("type: webhook", "type: webhook\n    batch_size: 5000"), "batch_size must be a whole number"),
        (CONTRACT.replace("https://hooks.example.com/audiences", "ftp://x"), "url must be an http(s) address"),
        (CONTRACT + "  crm-hook:\n    type: folder\n", "line 11: “crm-hook” is given twice (first at line 2)"),
        ("- just\n- a list\n", "expected a top-level “destinations:” mapping"),
    ],
)  # fmt: skip
def test_a_bad_file_gets_a_clear_answer_with_the_line(text, expected):
    with pytest.raises(DestinationError) as err:
        ds.parse(text)
    assert expected in str(err.value)


def test_the_bot_starts_with_an_unparsable_file_and_is_told_which_line(tmp_path):
    path = tmp_path / "destinations.yaml"
    path.write_text("destinations:\n  a:\n    type: webhook\n    url: [unclosed\n")
    settings = Settings(**settings_fields(destinations_file=path))
    found, error = ds.load_or_error(settings)
    assert found == {} and str(path) in error and "line 5" in error and "Fix the file" in error
    missing = Settings(**settings_fields(destinations_file=tmp_path / "nope.yaml"))
    assert "cannot be read" in ds.load_or_error(missing)[1]
    assert ds.load_or_error(Settings(**settings_fields())) == ({}, None)


def test_an_unknown_destination_names_the_closest():
    got = ds.parse(CONTRACT)
    assert ds.get(got, "CRM-HOOK").name == "crm-hook"
    with pytest.raises(UnknownDestination, match="Did you mean “crm-hook”"):
        ds.get(got, "crm-hok")
    with pytest.raises(UnknownDestination, match="None is configured yet"):
        ds.get({}, "x")
