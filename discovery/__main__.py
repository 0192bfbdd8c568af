import sys

from cdp.quiet import quiet_third_party

quiet_third_party()

# The composition root: `python -m discovery audiences …` is the saved-audiences floor above
# discovery (which never imports it); everything else is discovery's own CLI.


def conversation_save(argv: list[str]) -> list[str] | None:
    """`ask "save as NAME" --conversation FILE [--json]`: the terminal's `save as`, as in a Slack thread —
    the saved-audiences command that saves the conversation's last segment; None for anything else."""
    if argv[:1] != ["ask"] or "--conversation" not in argv[:-1]:
        return None
    from audiences.model import save_name

    file = argv[argv.index("--conversation") + 1]
    words = [a for i, a in enumerate(argv[1:], 1) if not a.startswith("--") and argv[i - 1] != "--conversation"]
    name = save_name(words[0]) if words else None
    if name is None:
        return None
    return ["save", name, "--conversation", file, *(["--json"] if "--json" in argv else [])]


if sys.argv[1:2] == ["audiences"] or (saving := conversation_save(sys.argv[1:])) is not None:
    from audiences.cli import main as audiences_main  # noqa: E402  (after the filters)

    sys.exit(audiences_main(sys.argv[2:] if sys.argv[1:2] == ["audiences"] else saving))

from discovery.cli import main  # noqa: E402  (after the filters, before the libraries load)


def saved_audience_members(name: str) -> list[int] | None:
    """The seed resolver of `ask` (saved audiences as lookalike seeds); loads the audiences package only when a
    question names a saved audience."""
    from audiences.seeds import seed_resolver
    from audiences.store import AudienceStore
    from cdp.db import get_engine
    from cdp.settings import get_settings

    store = AudienceStore(get_engine(get_settings()))
    store.ensure_tables()
    return seed_resolver(store)(name)


sys.exit(main(seed_resolver=saved_audience_members))
