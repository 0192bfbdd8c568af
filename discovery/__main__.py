import sys

from cdp.quiet import quiet_third_party

quiet_third_party()

# The composition root: `python -m discovery audiences …` is the saved-audiences floor above
# discovery (which never imports it); everything else is discovery's own CLI.
if sys.argv[1:2] == ["audiences"]:
    from audiences.cli import main as audiences_main  # noqa: E402  (after the filters)

    sys.exit(audiences_main(sys.argv[2:]))

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
