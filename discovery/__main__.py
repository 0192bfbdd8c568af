import sys

from cdp.quiet import quiet_third_party

quiet_third_party()

# The composition root: `python -m discovery audiences …` is the saved-audiences floor above
# discovery (which never imports it); everything else is discovery's own CLI.
if sys.argv[1:2] == ["audiences"]:
    from audiences.cli import main as audiences_main  # noqa: E402  (after the filters)

    sys.exit(audiences_main(sys.argv[2:]))

from discovery.cli import main  # noqa: E402  (after the filters, before the libraries load)

sys.exit(main())
