"""Fresh stores for a benchmark: embedded PostgreSQL and Qdrant local mode in a temporary folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdp.db import dispose_engines
from cdp.embedded_pg import stop_embedded
from cdp.settings import Settings
from cdp.vectors import close_qdrant


@contextmanager
def temp_stores(prefix: str, *, keep: Path | None = None, **fields: Any) -> Iterator[Settings]:
    """Settings (no .env file, `fields` on top) over a new temporary data folder named `prefix`…, or over
    `keep`, which is left as it is. On exit the Qdrant clients and the engines are closed; a temporary
    folder's embedded PostgreSQL is stopped and the folder removed."""
    data = keep or Path(tempfile.mkdtemp(prefix=prefix))
    settings = Settings(_env_file=None, data_dir=data, **fields)
    try:
        yield settings
    finally:
        close_qdrant()
        dispose_engines()
        if keep is None:
            stop_embedded(settings.pg_dir)
            shutil.rmtree(data, ignore_errors=True)
