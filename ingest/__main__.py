import sys

from cdp.quiet import quiet_third_party

quiet_third_party()

from ingest.cli import main  # noqa: E402  (after the filters, before the libraries load)

sys.exit(main())
